import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BatchProgress, EpochResult } from '$shared/contract';
import type { SpecSummary } from '$shared/spec';
import { chanceHint, costPerImage, estimateRun, parseSpeeds, runEtaSeconds, speedFor } from './estimates';

const progress = (epoch: number, batch: number, etaSeconds: number, elapsedSeconds: number): BatchProgress => ({
  runId: 'r',
  epoch,
  epochs: 3,
  batch,
  batchesPerEpoch: 113,
  loss: 1,
  accuracy: 0.5,
  learningRate: 0.001,
  imagesPerSec: 1000,
  etaSeconds,
  elapsedSeconds,
  trainingStep: 'fused',
});
const epoch = (n: number, durationSeconds: number, accuracy = 0.8, val_accuracy: number | null = 0.8): EpochResult => ({
  runId: 'r',
  epoch: n,
  loss: 0.5,
  accuracy,
  val_loss: 0.5,
  val_accuracy,
  learningRate: 0.001,
  durationSeconds,
  imagesPerSec: 1000,
  events: [],
});

test('the ETA counts the whole run, not only the current epoch (the walkthrough: epoch 2/3, batch 22/113)', () => {
  // Epoch 1 took 40 s; the services' ETA (32 s) is epoch 2's remainder only: all of epoch 3 follows.
  assert.equal(runEtaSeconds(progress(2, 22, 32, 48), [epoch(1, 40)]), 32 + 40);
  // The last epoch: only its remainder.
  assert.equal(runEtaSeconds(progress(3, 100, 5, 115), [epoch(1, 40), epoch(2, 40)]), 5);
});

test('before any epoch ends, the remaining epochs go at the current epoch’s pace', () => {
  // 10 s in, 30 s left in epoch 1 of 3: each epoch ~40 s.
  assert.equal(runEtaSeconds(progress(1, 28, 30, 10), []), 30 + 2 * 40);
});

test('a run estimate scales a measured speed by the models’ cost ratio', () => {
  const e = estimateRun({ trainImages: 60000, validationSplit: 0.1, epochs: 2, cost: 2000 }, { imagesPerSec: 1000, cost: 1000, modelName: 'm' });
  assert.ok(e);
  assert.equal(e.imagesPerSec, 500);
  assert.equal(e.imagesPerEpoch, 54000);
  assert.equal(e.seconds, (2 * (54000 + 6000 / 3)) / 500);
  assert.equal(estimateRun({ trainImages: 100, validationSplit: 0, epochs: 1, cost: 5 }, null), null);
  assert.equal(estimateRun({ trainImages: 100, validationSplit: 0, epochs: 1, cost: null }, { imagesPerSec: 1, cost: 1, modelName: 'm' }), null);
});

test('cost per image: weights × output positions', () => {
  const s: SpecSummary = {
    ok: true,
    issues: [],
    rows: [
      { index: 0, name: 'c', className: 'Conv2D', outputShape: [null, 26, 26, 32], params: 320, trainableParams: 320, nonTrainableParams: 0 },
      { index: 1, name: 'd', className: 'Dense', outputShape: [null, 10], params: 100, trainableParams: 100, nonTrainableParams: 0 },
    ],
    totalParams: 420,
    trainableParams: 420,
    nonTrainableParams: 0,
  };
  assert.equal(costPerImage(s), 320 * 26 * 26 + 100);
  assert.equal(costPerImage(null), null);
});

test('the chance hint fires at chance-level validation with learning training accuracy, and names BatchNorm when present', () => {
  const stuck = [epoch(1, 10, 0.7, 0.1)];
  assert.match(chanceHint(stuck, 10, true) ?? '', /chance level \(10\.0 %.*BatchNormalization/);
  assert.doesNotMatch(chanceHint(stuck, 10, false) ?? '', /BatchNormalization/);
  assert.equal(chanceHint([epoch(1, 10, 0.7, 0.6)], 10, true), null, 'validation above chance');
  assert.equal(chanceHint([epoch(1, 10, 0.12, 0.1)], 10, true), null, 'training at chance too: nothing learnt yet, not this case');
  assert.equal(chanceHint([epoch(1, 10, 0.7, null)], 10, true), null, 'no validation split');
});

test('speeds are kept per dtype policy; an estimate takes its own policy’s, else the other’s', () => {
  const f32 = { imagesPerSec: 2600, cost: 1000, modelName: 'lesson_cnn' };
  // Stored before policies were told apart: one speed, float32 unless it says otherwise.
  assert.deepEqual(parseSpeeds(f32), { float32: f32 });
  assert.deepEqual(parseSpeeds({ ...f32, dtypePolicy: 'mixed_bfloat16' }), { mixed_bfloat16: { ...f32, dtypePolicy: 'mixed_bfloat16' } });
  const both = parseSpeeds({ float32: f32, mixed_bfloat16: { ...f32, imagesPerSec: 3700 }, bogus: f32, float16: f32 });
  assert.deepEqual(Object.keys(both).sort(), ['float32', 'mixed_bfloat16']);
  assert.equal(speedFor(both, 'mixed_bfloat16')?.imagesPerSec, 3700);
  assert.equal(speedFor(both, 'float32')?.imagesPerSec, 2600);
  assert.equal(speedFor({ float32: both.float32 }, 'mixed_bfloat16')?.dtypePolicy, 'float32');
  assert.equal(speedFor({}, 'float32'), null);
  assert.deepEqual(parseSpeeds(null), {});
  assert.deepEqual(parseSpeeds({ float32: { imagesPerSec: -1, cost: 1 } }), {});
});
