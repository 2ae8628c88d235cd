import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Evaluation } from '$shared/contract';
import { galleryItems } from './gallery-items';

const p = (index: number, truth: number, predicted: number, probabilities: number[]) => ({ index, truth, predicted, probabilities });

const evaluation = {
  misclassified: [p(3, 0, 1, [0.3, 0.7]), p(4, 0, 1, [0.1, 0.9]), p(5, 1, 0, [0.6, 0.4])],
  leastConfidentCorrect: [p(1, 0, 0, [0.8, 0.2]), p(2, 0, 0, [0.55, 0.45]), p(7, 1, 1, [0.2, 0.8])],
} as unknown as Evaluation;

test('an off-diagonal cell shows its most confident mistakes first', () => {
  const pick = galleryItems(evaluation, { truth: 0, predicted: 1 }, 10);
  assert.deepEqual(pick.items.map((m) => m.index), [4, 3]);
  assert.equal(pick.order, 'most confident');
  assert.equal(pick.kept, 3);
});

test('a diagonal cell shows its least confident correct predictions first, capped', () => {
  const pick = galleryItems(evaluation, { truth: 0, predicted: 0 }, 1);
  assert.deepEqual(pick.items.map((m) => [m.index, m.confidence]), [[2, 0.55]]);
  assert.equal(pick.order, 'least confident');
  assert.equal(pick.available, true);
});

test('an evaluation written before the diagonal was kept says so', () => {
  const old = { ...evaluation, leastConfidentCorrect: undefined } as Evaluation;
  const pick = galleryItems(old, { truth: 1, predicted: 1 }, 10);
  assert.deepEqual(pick, { items: [], order: 'least confident', kept: 0, available: false });
});
