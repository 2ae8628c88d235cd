import assert from 'node:assert/strict';
import test from 'node:test';
import { colourMode, imbalance, splitSizes } from './dataset-facts';

test('colour mode by channels', () => {
  assert.equal(colourMode(1), 'grayscale');
  assert.equal(colourMode(3), 'RGB');
  assert.equal(colourMode(4), '4 channels');
});

test('imbalance names the largest and smallest class and flags a ratio above 1.5', () => {
  const names = ['cat', 'dog', 'fox'];
  assert.deepEqual(imbalance([100, 150, 120], names), { ratio: 1.5, largest: { name: 'dog', count: 150 }, smallest: { name: 'cat', count: 100 }, flagged: false });
  const skewed = imbalance([100, 151, 120], names)!;
  assert.equal(skewed.flagged, true);
  assert.equal(skewed.largest.name, 'dog');
  assert.equal(imbalance([0, 5, 5], names)!.ratio, Infinity);
  assert.equal(imbalance([0, 0], ['a', 'b'])!.flagged, false);
  assert.equal(imbalance([7], ['only']), null);
});

test('split sizes follow the trainer: floor((1 − v)·n) train, the rest validation, limits applied', () => {
  assert.deepEqual(splitSizes(60_000, 10_000, 0.1, null, null), { train: 54_000, validation: 6_000, test: 10_000 });
  assert.deepEqual(splitSizes(60_000, 10_000, 0.2, 1000, 300), { train: 800, validation: 200, test: 300 });
  assert.deepEqual(splitSizes(7, 3, 0.5, null, 10), { train: 3, validation: 4, test: 3 });
  assert.deepEqual(splitSizes(100, 10, NaN, null, null), { train: 100, validation: 0, test: 10 });
});
