/**
 * Every layer type of the spec trains on the workbench backends exactly as on tfjs' reference cpu backend:
 * one training step (forward in training mode, loss, gradients of every trainable weight, an SGD update)
 * gives the same loss, gradients and updated weights within 1e-4 relative.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { workbenchBackends } from './index';
import { disagreement, runOn, seededArray } from './testing';

const TOL = 1e-4;
/** Float32 noise floor for gradients that vanish in exact arithmetic (a bias feeding BatchNorm). */
const ATOL = 1e-6;
const L = tf.layers;

/** Three small models that together hold every layer type and activation the spec offers. */
const MODELS: Record<string, () => tf.layers.Layer[]> = {
  'conv, batchnorm, activations, pooling, dropout': () => [
    // No ReLU before a max pool: ReLU's zeros tie inside pooling windows, and backends may route a tie's
    // gradient to different (equally valid) elements.
    L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', inputShape: [12, 12, 3] }),
    L.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }),
    L.leakyReLU({ alpha: 0.2 }),
    L.activation({ activation: 'elu' }),
    L.maxPooling2d({ poolSize: 2 }),
    L.activation({ activation: 'relu' }),
    L.activation({ activation: 'selu' }),
    L.zeroPadding2d({ padding: 1 }),
    L.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'valid', activation: 'gelu' as never }),
    L.activation({ activation: 'swish' }),
    L.averagePooling2d({ poolSize: 2, padding: 'same' }),
    L.activation({ activation: 'tanh' }),
    L.dropout({ rate: 0.3 }),
    L.flatten(),
    L.dense({ units: 7, activation: 'sigmoid' }),
    L.dense({ units: 4, activation: 'softmax' }),
  ],
  'depthwise, separable, spatial dropout, global average pooling': () => [
    L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', inputShape: [12, 12, 3] }),
    L.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }),
    L.activation({ activation: 'relu' }),
    L.separableConv2d({ filters: 8, kernelSize: 3, padding: 'valid', activation: 'elu' }),
    // SpatialDropout2D: one mask entry per (image, channel), as Keras draws it.
    L.dropout({ rate: 0.25, noiseShape: [4, 1, 1, 8] }),
    L.activation({ activation: 'softmax' }),
    L.globalAveragePooling2d({}),
    L.dense({ units: 4, activation: 'softmax' }),
  ],
  'strided separable, global max pooling': () => [
    L.separableConv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, inputShape: [12, 12, 3] }),
    L.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }),
    L.activation({ activation: 'relu' }),
    L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid' }),
    L.globalMaxPooling2d({}),
    L.dense({ units: 4, activation: 'softmax' }),
  ],
};

/** One training step of a freshly built, identically initialised model: loss, gradients, updated weights. */
function step(layers: () => tf.layers.Layer[]): () => tf.Tensor[] {
  return () => {
    const model = tf.sequential({ layers: layers() });
    // Same initial weights on every backend: overwrite the random initialisation with seeded values.
    model.setWeights(model.getWeights().map((w, i) => tf.tensor(seededArray(w.size, 1000 + i), w.shape).mul(0.5)));
    const x = tf.tensor4d(seededArray(4 * 12 * 12 * 3, 5), [4, 12, 12, 3]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
    const lossFn = () => tf.losses.softmaxCrossEntropy(y, tf.log(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
    // Variable names differ between builds (global layer counters): order gradients by the model's weights.
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(lossFn, vars);
    const out = [value, ...vars.map((v) => grads[v.name])];
    // SGD: an update linear in the gradients. (Adam's first step is lr·sign(g), which turns float32 noise in a
    // vanishing gradient into a full-size difference; the optimizer itself is backend-independent JS.)
    tf.train.sgd(0.1).applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
    out.push(...model.getWeights().map((w) => w.clone()));
    model.layers.forEach((l) => l.dispose());
    return out;
  };
}

describe('one training step of every layer type matches the cpu backend', () => {
  let backends: string[] = [];
  before(async () => {
    backends = await workbenchBackends();
  });
  for (const [name, layers] of Object.entries(MODELS)) {
    it(name, async () => {
      assert.ok(backends.length > 0, 'no workbench backend loaded');
      const ref = await runOn('cpu', step(layers));
      for (const backend of backends) {
        const got = await runOn(backend, step(layers));
        assert.equal(got.length, ref.length, `${backend}: number of outputs`);
        ref.forEach((r, i) => {
          const bad = disagreement(got[i], r, TOL, ATOL);
          assert.equal(bad, null, `${backend}, ${name}: output ${i} (0 = loss, then gradients, then weights): ${bad}`);
        });
      }
    });
  }
});
