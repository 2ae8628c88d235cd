/**
 * BatchNormalization on the workbench backends behaves as Keras 3's: a training step normalises with the
 * batch's own (biased) statistics and epsilon 1e-3, and moves the moving statistics by 1 − momentum = 1 %
 * toward them; inference uses the moving statistics. That is why inference right after a short run can sit
 * near chance while training accuracy rises — the moving statistics have barely left their initial 0 and 1.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { SPEC_FORMAT_VERSION, type ModelSpec } from '../../shared/spec';
import { buildModel } from '../model';
import { workbenchBackends } from './index';
import { seededArray } from './testing';

const SPEC: ModelSpec = {
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  // Keras defaults on purpose: no momentum or epsilon given.
  config: {
    name: 'bn',
    layers: [
      { class_name: 'InputLayer', config: { shape: [5, 5, 3] } },
      { class_name: 'BatchNormalization', config: {} },
      { class_name: 'Flatten', config: {} },
      { class_name: 'Dense', config: { units: 2, activation: 'softmax' } },
    ],
  },
};

describe('BatchNormalization matches Keras (momentum 0.99, epsilon 1e-3, biased batch variance)', () => {
  let backends: string[] = [];
  before(async () => {
    backends = await workbenchBackends();
  });

  it('on every workbench backend', async () => {
    assert.ok(backends.length > 0);
    const n = 8 * 5 * 5;
    const data = seededArray(n * 3, 3).map((v, i) => v * (1 + (i % 3)) + (i % 3)); // channel c: scale 1+c, shift c
    // Reference statistics in float64, per channel.
    const mean = [0, 0, 0];
    const varB = [0, 0, 0];
    for (let i = 0; i < data.length; i++) mean[i % 3] += data[i] / n;
    for (let i = 0; i < data.length; i++) varB[i % 3] += (data[i] - mean[i % 3]) ** 2 / n;
    for (const backend of backends) {
      await tf.setBackend(backend);
      const model = buildModel(SPEC, 1);
      const layer = model.layers.find((l) => l.getClassName() === 'BatchNormalization');
      assert.ok(layer, 'the built model has its BatchNormalization layer');
      const x = tf.tensor4d(data, [8, 5, 5, 3]);
      const y = (layer.apply(x, { training: true }) as tf.Tensor).dataSync();
      for (let i = 0; i < 6; i++) {
        const c = i % 3;
        const expected = (data[i] - mean[c]) / Math.sqrt(varB[c] + 1e-3);
        assert.ok(Math.abs(y[i] - expected) < 1e-4 * (1 + Math.abs(expected)), `${backend}: training output ${i}: ${y[i]} vs ${expected}`);
      }
      const [, , movingMean, movingVar] = layer.getWeights().map((w) => w.dataSync());
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(movingMean[c] - 0.01 * mean[c]) < 1e-5, `${backend}: moving mean[${c}] ${movingMean[c]} vs ${0.01 * mean[c]}`);
        assert.ok(Math.abs(movingVar[c] - (0.99 + 0.01 * varB[c])) < 1e-5, `${backend}: moving variance[${c}] ${movingVar[c]} vs ${0.99 + 0.01 * varB[c]}`);
      }
      // Inference uses the moving statistics: after one step it is still nearly the identity.
      const inf = (layer.apply(x, { training: false }) as tf.Tensor).dataSync();
      const expected0 = (data[0] - movingMean[0]) / Math.sqrt(movingVar[0] + 1e-3);
      assert.ok(Math.abs(inf[0] - expected0) < 1e-4 * (1 + Math.abs(expected0)), `${backend}: inference output ${inf[0]} vs ${expected0}`);
      model.dispose();
      x.dispose();
    }
  });
});
