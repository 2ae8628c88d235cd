import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Evaluation } from '../../shared/contract';
import { SPEC_FORMAT_VERSION, type ModelSpec } from '../../shared/spec';
import { loadDataset, type Dataset } from '../data';
import { buildModel } from '../model';
import { batchNormNotes, evaluateModel, labelsOf, predictProbabilities } from './predict';

const SPEC = (withBn: boolean): ModelSpec => ({
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  config: {
    name: 'p',
    layers: [
      { class_name: 'InputLayer', config: { shape: [28, 28, 1] } },
      { class_name: 'Conv2D', config: { filters: 2, kernel_size: 3, strides: 3 } },
      ...(withBn ? [{ class_name: 'BatchNormalization' as const, config: {} }] : []),
      { class_name: 'Flatten', config: {} },
      { class_name: 'Dense', config: { units: 10, activation: 'softmax' } },
    ],
  },
});

let data: Dataset;
before(async () => {
  await tf.setBackend('cpu');
  data = await loadDataset(undefined, { limitTrain: 10, limitTest: 37, download: false });
});

describe('batched prediction', () => {
  it('gives the same probabilities whatever the batch size, in test-set order', async () => {
    const model = buildModel(SPEC(true), 1);
    const whole = await predictProbabilities(model, data.test, null, 10, 1000);
    const small = await predictProbabilities(model, data.test, null, 10, 7);
    assert.equal(whole.length, 370);
    for (let i = 0; i < whole.length; i++) assert.ok(Math.abs(whole[i]! - small[i]!) < 1e-6);
    const picked = await predictProbabilities(model, data.test, Int32Array.from([5, 0]), 10, 7);
    assert.deepEqual(Array.from(picked.subarray(0, 10)), Array.from(whole.subarray(50, 60)));
    assert.deepEqual(Array.from(labelsOf(data.test, Int32Array.from([5, 0]))), [data.test.labels[5], data.test.labels[0]]);
    const ev = await evaluateModel(model, data.test, data.info.classNames);
    assert.equal(ev.testCount, 37);
    assert.equal(ev.confusionMatrix.flat().reduce((a, b) => a + b, 0), 37);
    model.dispose();
  });
});

describe('BatchNorm note', () => {
  const ev = { testAccuracy: 0.12 } as Evaluation;
  it('explains near-chance inference after a short run of a BatchNorm model', () => {
    const [note] = batchNormNotes(ev, { spec: SPEC(true), steps: 14, lastTrainAccuracy: 0.7 });
    assert.match(note!, /0\.1200.*0\.7000.*1 BatchNormalization.*14 optimizer steps.*1% per step.*Keras behaves the same/);
  });
  it('stays silent without BatchNorm, after enough steps, or without a gap', () => {
    assert.deepEqual(batchNormNotes(ev, { spec: SPEC(false), steps: 14, lastTrainAccuracy: 0.7 }), []);
    assert.deepEqual(batchNormNotes(ev, { spec: SPEC(true), steps: 5000, lastTrainAccuracy: 0.7 }), []);
    assert.deepEqual(batchNormNotes(ev, { spec: SPEC(true), steps: 14, lastTrainAccuracy: 0.2 }), []);
  });
});
