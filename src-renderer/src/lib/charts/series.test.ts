import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EpochResult } from '$shared/contract';
import { batchX, bestEpochs, ema, epochSeries, eventMarkers, formatLr, thin } from './series';

function epoch(n: number, over: Partial<EpochResult> = {}): EpochResult {
  return {
    runId: 'r1', epoch: n, loss: 1 / n, accuracy: 1 - 1 / (n + 1), val_loss: 1.1 / n, val_accuracy: 0.9 - 0.5 / n,
    learningRate: 1e-3, durationSeconds: 10, imagesPerSec: 5000, events: [], ...over,
  };
}

test('ema is debiased: a constant series stays constant from the first sample', () => {
  const pts = [0.5, 0.5, 0.5].map((y, i) => ({ x: i, y }));
  for (const p of ema(pts, 0.9)) assert.ok(Math.abs(p.y - 0.5) < 1e-12, `got ${p.y}`);
});

test('ema smooths a step and tends to the new level; smoothing 0 returns the raw values', () => {
  const pts = Array.from({ length: 60 }, (_, i) => ({ x: i, y: i < 10 ? 2 : 1 }));
  const s = ema(pts, 0.8);
  assert.ok(s[10].y > 1 && s[10].y < 2);
  assert.ok(Math.abs(s[59].y - 1) < 1e-3);
  assert.deepEqual(ema(pts, 0), pts);
  assert.throws(() => ema(pts, 1), /smoothing must be in \[0, 1\), received 1/);
});

test('ema skips non-finite samples (a NaN loss does not poison the line)', () => {
  const s = ema([{ x: 0, y: 1 }, { x: 1, y: Number.NaN }, { x: 2, y: 1 }]);
  assert.deepEqual(s.map((p) => p.x), [0, 2]);
});

test('batchX places batches between epoch ends', () => {
  assert.equal(batchX({ epoch: 1, batch: 211, batchesPerEpoch: 422 }), 0.5);
  assert.equal(batchX({ epoch: 3, batch: 422, batchesPerEpoch: 422 }), 3);
});

test('epochSeries drops missing validation values', () => {
  const h = [epoch(1), epoch(2, { val_loss: null })];
  assert.deepEqual(epochSeries(h, 'val_loss').map((p) => p.x), [1]);
  assert.deepEqual(epochSeries(h, 'loss'), [{ x: 1, y: 1 }, { x: 2, y: 0.5 }]);
});

test('events become markers (LR reductions, early stop) and best epochs', () => {
  const h = [
    epoch(1, { events: [{ kind: 'best', monitor: 'val_accuracy', value: 0.8 }] }),
    epoch(2, { events: [{ kind: 'lr_reduced', from: 1e-3, to: 5e-4 }] }),
    epoch(3, { events: [{ kind: 'early_stop', bestEpoch: 1, restored: true }] }),
  ];
  assert.deepEqual(eventMarkers(h), [
    { x: 2, kind: 'lr_reduced', label: 'LR 1e-3 → 5e-4' },
    { x: 3, kind: 'early_stop', label: 'Early stop, weights of epoch 1 restored' },
  ]);
  assert.deepEqual(bestEpochs(h), [{ epoch: 1, monitor: 'val_accuracy' }]);
});

test('formatLr writes learning rates the way the lesson does', () => {
  assert.equal(formatLr(1e-3), '1e-3');
  assert.equal(formatLr(0.0005), '5e-4');
  assert.equal(formatLr(1.25e-4), '1.25e-4');
  assert.equal(formatLr(1e-5), '1e-5');
});

test('thin keeps short lists as they are and halves long ones, keeping the newest sample', () => {
  const pts = Array.from({ length: 11 }, (_, i) => ({ x: i, y: i }));
  assert.equal(thin(pts, 20), pts);
  const t = thin(pts, 10);
  assert.deepEqual(t.map((p) => p.x), [0, 2, 4, 6, 8, 10]);
  const even = thin(pts.slice(0, 10), 9);
  assert.equal(even.at(-1)?.x, 9);
  assert.equal(even.length, 5);
});
