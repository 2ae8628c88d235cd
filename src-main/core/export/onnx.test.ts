import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index';
import { modelToOnnx, tfPads, transposeArray } from './onnx';
import { runOnnx } from './verify';

/** Random inputs in [0, 1), like scaled pixels, from a fixed seed so a failure reproduces. */
function randomImages(n: number, h: number, w: number, c: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomUniform([n, h, w, c], 0, 1, 'float32', seed).dataSync() as Float32Array).slice();
}

/** Gives BatchNorm layers non-trivial moving statistics and γ/β so the test would catch a wrong mapping. */
function perturbBatchNorm(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const ws = layer.getWeights();
    layer.setWeights(
      ws.map((w, i) => {
        const isVariance = layer.weights[i]!.name.endsWith('moving_variance');
        return tf.randomUniform(w.shape, isVariance ? 0.5 : -0.5, isVariance ? 2 : 0.5, 'float32', seed + i);
      }),
    );
  }
}

async function compare(model: tf.LayersModel, x: Float32Array, shape: [number, number, number, number]): Promise<{ maxAbsDiff: number; agree: number }> {
  const expected = tf.tidy(() => (model.predict(tf.tensor4d(x, shape)) as tf.Tensor).dataSync() as Float32Array).slice();
  const got = await runOnnx(modelToOnnx(model), x, shape);
  assert.equal(got.length, expected.length);
  let maxAbsDiff = 0;
  for (let i = 0; i < got.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i]! - expected[i]!));
  const k = expected.length / shape[0];
  let agree = 0;
  for (let n = 0; n < shape[0]; n++) {
    const a = argmax(expected.subarray(n * k, (n + 1) * k));
    const b = argmax(got.subarray(n * k, (n + 1) * k));
    if (a === b) agree++;
  }
  return { maxAbsDiff, agree };
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

before(async () => {
  await initBackend();
});

test('tfPads follows TensorFlow SAME padding (odd pixel at the end)', () => {
  assert.deepEqual(tfPads('same', [28, 28], [3, 3], [1, 1], [1, 1]), [1, 1, 1, 1]);
  // 28 → 14 with a 3×3 kernel, stride 2: total pad 1, all of it at the end.
  assert.deepEqual(tfPads('same', [28, 28], [3, 3], [2, 2], [1, 1]), [0, 0, 1, 1]);
  assert.deepEqual(tfPads('valid', [28, 28], [5, 5], [1, 1], [1, 1]), [0, 0, 0, 0]);
});

test('transposeArray matches tf.transpose', () => {
  const shape = [2, 3, 4, 5];
  const data = Float32Array.from({ length: 120 }, (_, i) => i);
  const expected = tf.tidy(() => tf.transpose(tf.tensor(data, shape), [3, 2, 0, 1]).dataSync());
  assert.deepEqual(Array.from(transposeArray(data, shape, [3, 2, 0, 1])), Array.from(expected));
});

test('ONNX export of a model using every exportable layer type matches tfjs under ONNX Runtime', async (t) => {
  const m = tf.sequential({ name: 'every_layer' });
  m.add(tf.layers.inputLayer({ inputShape: [28, 28, 1], name: 'image' }));
  m.add(tf.layers.zeroPadding2d({ padding: [[1, 2], [0, 1]], name: 'pad' }));
  m.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'conv_s2_same' }));
  m.add(tf.layers.batchNormalization({ name: 'bn' }));
  m.add(tf.layers.activation({ activation: 'elu', name: 'act_elu' }));
  m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'selu', name: 'dw' }));
  m.add(tf.layers.separableConv2d({ filters: 8, kernelSize: [3, 2], padding: 'valid', activation: 'gelu', name: 'sep' }));
  m.add(tf.layers.leakyReLU({ alpha: 0.2, name: 'leaky' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'maxpool_same' }));
  m.add(tf.layers.conv2d({ filters: 8, kernelSize: 2, dilationRate: 2, padding: 'same', activation: 'swish', name: 'conv_dilated' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'avgpool_same' }));
  m.add(tf.layers.activation({ activation: 'tanh', name: 'act_tanh' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2, name: 'avgpool' }));
  m.add(tf.layers.activation({ activation: 'sigmoid', name: 'act_sigmoid' }));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dense({ units: 16, activation: 'relu', name: 'dense' }));
  m.add(tf.layers.batchNormalization({ name: 'bn_dense' }));
  m.add(tf.layers.dropout({ rate: 0.5, name: 'drop' }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'class_prob' }));
  perturbBatchNorm(m, 7);
  const x = randomImages(16, 28, 28, 1, 1);
  const { maxAbsDiff, agree } = await compare(m, x, [16, 28, 28, 1]);
  t.diagnostic(`argmax agreement ${agree}/16, max |Δp| ${maxAbsDiff.toExponential(2)}`);
  assert.equal(agree, 16, `argmax agreement ${agree}/16`);
  assert.ok(maxAbsDiff < 1e-4, `max |Δp| ${maxAbsDiff}`);
});

test('ONNX export of global pooling heads and a no-bias Dense matches tfjs', async () => {
  for (const pool of ['avg', 'max'] as const) {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 5, kernelSize: 5, useBias: false, name: 'conv' }));
    m.add(pool === 'avg' ? tf.layers.globalAveragePooling2d({ name: 'gap' }) : tf.layers.globalMaxPooling2d({ name: 'gmp' }));
    m.add(tf.layers.dense({ units: 10, useBias: false, activation: 'softmax', name: 'out' }));
    const x = randomImages(8, 28, 28, 1, 3);
    const { maxAbsDiff, agree } = await compare(m, x, [8, 28, 28, 1]);
    assert.equal(agree, 8, `${pool}: argmax agreement ${agree}/8`);
    assert.ok(maxAbsDiff < 1e-4, `${pool}: max |Δp| ${maxAbsDiff}`);
  }
});

test('a Dense layer on an image-shaped tensor is refused with the layer named', async () => {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, name: 'c' }));
  m.add(tf.layers.dense({ units: 3, name: 'dense_on_image' }));
  assert.throws(() => modelToOnnx(m), /layer 'dense_on_image' \(Dense\) receives an image-shaped tensor/);
});
