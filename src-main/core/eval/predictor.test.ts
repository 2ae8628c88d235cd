/**
 * The native inference pass agrees with tfjs' predict() on the pure-JS cpu backend (the reference) within 1e-5,
 * for every layer class and activation the fused training step covers, with BatchNorm on non-trivial moving
 * statistics (folded into a convolution or not), Dropout off, more images than one native chunk, and both
 * convolution paths; what it does not cover goes through tfjs predict, saying why.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../shared/contract';
import type { LayerSpec, ModelSpec } from '../../shared/spec';
import { initBackend } from '../backend';
import { loadAddon } from '../backend/native';
import { seededArray } from '../backend/testing';
import { buildModel } from '../model';
import { groupNormalizationLayer, reluLayer } from '../model/tfjs-layers';
import { createPredictor } from './predictor';

const TOL = 1e-5;
const H = 12;
const W = 12;
const C = 2;

function spec(layers: LayerSpec[]): ModelSpec {
  return {
    format_version: 1,
    class_name: 'Sequential',
    config: { name: 'predictor_test', layers: [{ class_name: 'InputLayer', config: { name: 'image', shape: [H, W, C] } }, ...layers] },
  } as ModelSpec;
}

const L = (class_name: string, config: Record<string, unknown>): LayerSpec => ({ class_name, config }) as LayerSpec;

/**
 * Every weight away from its initial value, BatchNorm's above all (γ 1, β 0, mean 0, variance 1 would hide a
 * wrong inference formula): variances and γ positive, the rest small and signed.
 */
function perturb(model: tf.LayersModel, seed: number): void {
  const next = model.getWeights().map((t, i) => {
    const w = model.weights[i]!;
    const r = seededArray(t.size, seed + i);
    const name = w.originalName;
    const v = name.includes('moving_variance') ? r.map((u) => 0.5 + Math.abs(u)) : name.includes('gamma') ? r.map((u) => 0.7 + 0.5 * Math.abs(u)) : name.includes('kernel') ? r.map((u) => 0.4 * u) : r.map((u) => 0.3 * u);
    return tf.tensor(v, t.shape);
  });
  model.setWeights(next);
  tf.dispose(next);
}

function images(n: number, seed: number): Float32Array {
  return seededArray(n * H * W * C, seed).map((v) => Math.abs(v));
}

let native: BackendInfo;

/** Builds `layers` on the cpu backend, perturbs its weights, and compares the native pass with tfjs' predict(). */
function compare(layers: LayerSpec[], n: number, what: string): void {
  assert.equal(tf.getBackend(), 'cpu');
  compareModel(buildModel(spec(layers), 3), n, what);
}

/** Perturbs `model`'s weights and compares the native pass with tfjs' predict(); disposes the model. */
function compareModel(model: tf.LayersModel, n: number, what: string): void {
  assert.equal(tf.getBackend(), 'cpu');
  perturb(model, 17);
  const x = images(n, 5);
  const ref = tf.tidy(() => (model.predict(tf.tensor4d(x, [n, H, W, C])) as tf.Tensor).dataSync() as Float32Array);
  const predictor = createPredictor(model, native);
  try {
    assert.ok(predictor.native, `${what}: ${predictor.description}`);
    const got = predictor.predict(x, n);
    assert.equal(got.length, ref.length);
    let worst = 0;
    let at = 0;
    const scale = Math.max(1, ...Array.from(ref, Math.abs));
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(got[i]! - ref[i]!);
      if (!(d <= worst)) {
        worst = d;
        at = i;
      }
    }
    assert.ok(worst <= TOL * scale, `${what}: output ${at} is ${got[at]}, tfjs ${ref[at]} (|diff| ${worst})`);
    // The outputs must not be trivially equal (e.g. all one class): the check would then prove little.
    if (n > 10) assert.ok(new Set(Array.from(ref.subarray(0, 50), (v) => v.toFixed(4))).size > 5, `${what}: degenerate outputs`);
  } finally {
    predictor.dispose();
    model.dispose();
  }
}

describe('native inference pass', () => {
  let active = '';
  before(async () => {
    native = await initBackend();
    assert.equal(native.name, 'native', 'these tests need the native addon (CI builds it: scripts/build-native.sh)');
    active = tf.getBackend();
    await tf.setBackend('cpu');
  });
  after(async () => {
    await tf.setBackend(active);
  });

  /** The lesson's blocks: Conv → BN → ReLU (folded, ReLU as post-op), Conv → BN (folded), Conv(relu) → BN → ReLU (not foldable), Dropouts. */
  const LESSON_LIKE = [
    L('Conv2D', { filters: 4, kernel_size: [3, 3], padding: 'same' }),
    L('BatchNormalization', {}),
    L('Activation', { activation: 'relu' }),
    L('Conv2D', { filters: 5, kernel_size: [3, 3], padding: 'same', use_bias: false }),
    L('BatchNormalization', { epsilon: 0.01, center: false }),
    L('MaxPooling2D', { pool_size: [2, 2] }),
    L('Dropout', { rate: 0.25 }),
    L('Conv2D', { filters: 6, kernel_size: [3, 3], padding: 'same', activation: 'relu' }),
    L('BatchNormalization', { scale: false }),
    L('Activation', { activation: 'relu' }),
    L('SpatialDropout2D', { rate: 0.3 }),
    L('BatchNormalization', {}),
    L('Flatten', {}),
    L('Dense', { units: 16, activation: 'relu' }),
    L('Dropout', { rate: 0.4 }),
    L('Dense', { units: 5, activation: 'softmax' }),
  ];

  it('matches tfjs on the lesson\'s blocks (BatchNorm folded or not, Dropout off) over more images than one native chunk', () => {
    compare(LESSON_LIKE, 300, 'lesson-like');
    compare(LESSON_LIKE, 1, 'one image');
  });

  it("under mixed_bfloat16 runs the convolutions on 4+ channels in bfloat16: within its rounding of tfjs' float32", () => {
    const model = buildModel(spec(LESSON_LIKE), 3);
    perturb(model, 17);
    const n = 300;
    const x = images(n, 5);
    const ref = tf.tidy(() => (model.predict(tf.tensor4d(x, [n, H, W, C])) as tf.Tensor).dataSync() as Float32Array);
    const run = (policy: 'float32' | 'mixed_bfloat16'): { y: Float32Array; description: string } => {
      const p = createPredictor(model, native, policy);
      try {
        return { y: p.predict(x, n), description: p.description };
      } finally {
        p.dispose();
      }
    };
    const f32 = run('float32');
    const bf16 = run('mixed_bfloat16');
    model.dispose();
    const worst = (y: Float32Array): number => y.reduce((m, v, i) => Math.max(m, Math.abs(v - ref[i]!)), 0);
    assert.ok(worst(f32.y) <= TOL, `float32: |diff| ${worst(f32.y)}`);
    // Probabilities: bfloat16 keeps 8 bits of mantissa on what the two later convolutions read (measured ~1e-3).
    assert.ok(worst(bf16.y) <= 1e-2, `mixed_bfloat16: |diff| ${worst(bf16.y)}`);
    const argmax = (y: Float32Array, r: number): number => y.subarray(r * 5, r * 5 + 5).reduce((b, v, j, a) => (v > a[b]! ? j : b), 0);
    let agree = 0;
    for (let r = 0; r < n; r++) if (argmax(bf16.y, r) === argmax(ref, r)) agree++;
    assert.ok(agree >= 0.97 * n, `mixed_bfloat16: ${agree} of ${n} classes agree with tfjs`);
    if (loadAddon().info().bf16) {
      assert.match(bf16.description, /mixed_bfloat16: 2 of 3 convolutions in bfloat16/);
      assert.ok(worst(bf16.y) > 10 * TOL, 'mixed_bfloat16 gave the float32 outputs: the bfloat16 kernels did not run');
    } else {
      assert.match(bf16.description, /float32 throughout: this CPU has no bfloat16 instructions/);
    }
    assert.match(f32.description, /convolutions, float32, BatchNorm folded/);
  });

  it('matches tfjs with every activation, average / global pooling, zero padding and LeakyReLU', () => {
    compare(
      [
        L('Conv2D', { filters: 3, kernel_size: [3, 3], activation: 'tanh' }),
        L('AveragePooling2D', { pool_size: [2, 2] }),
        L('ZeroPadding2D', { padding: [[1, 0], [2, 1]] }),
        L('Conv2D', { filters: 4, kernel_size: [2, 2], activation: 'elu' }),
        L('LeakyReLU', { negative_slope: 0.2 }),
        L('Conv2D', { filters: 4, kernel_size: [2, 2], padding: 'same', activation: 'selu' }),
        L('Activation', { activation: 'sigmoid' }),
        L('GlobalAveragePooling2D', {}),
        L('Dense', { units: 8, activation: 'gelu' }),
        L('Dense', { units: 8, activation: 'swish' }),
        L('Activation', { activation: 'tanh' }),
        L('Dense', { units: 5, activation: 'softmax' }),
      ],
      40,
      'activations',
    );
    compare(
      [L('Conv2D', { filters: 4, kernel_size: [3, 3], activation: 'sigmoid' }), L('GlobalMaxPooling2D', {}), L('Dense', { units: 5, activation: 'softmax' })],
      40,
      'global max pooling',
    );
    compare([L('Activation', { activation: 'elu' }), L('Activation', { activation: 'selu' }), L('Flatten', {}), L('Dense', { units: 6, activation: 'softmax' })], 40, 'activations on the input');
  });

  it("matches tfjs on odd geometries: stride-2 'same' convolutions, overlapping 'same' pooling, uneven strides", () => {
    compare(
      [
        L('Conv2D', { filters: 3, kernel_size: [5, 3], padding: 'same', activation: 'relu' }),
        L('Conv2D', { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'same' }),
        L('BatchNormalization', {}),
        L('MaxPooling2D', { pool_size: [3, 3], strides: [2, 2], padding: 'same' }),
        L('AveragePooling2D', { pool_size: [2, 2], strides: [1, 1], padding: 'same' }),
        L('Conv2D', { filters: 4, kernel_size: [2, 2], strides: [2, 1], padding: 'valid', dilation_rate: 1, activation: 'relu' }),
        L('Flatten', {}),
        L('Dense', { units: 5, activation: 'softmax' }),
      ],
      40,
      'odd geometries',
    );
    // 2×2 'same' pooling on an odd size (11 → 6): the last window row and column lie partly outside the image.
    compare([L('Conv2D', { filters: 3, kernel_size: [2, 2] }), L('MaxPooling2D', { pool_size: [2, 2], padding: 'same' }), L('Flatten', {}), L('Dense', { units: 5, activation: 'softmax' })], 40, "2×2 'same' pooling on 11×11");
    compare([L('Conv2D', { filters: 3, kernel_size: [3, 3], dilation_rate: [2, 2], padding: 'same' }), L('Flatten', {}), L('Dense', { units: 5 }), L('Activation', { activation: 'softmax' })], 40, 'dilated, softmax layer');
  });

  it('matches tfjs with DepthwiseConv2D and SeparableConv2D (depth multipliers, strides, dilation, activations)', () => {
    compare(
      [
        L('DepthwiseConv2D', { kernel_size: [3, 3], padding: 'same', depth_multiplier: 2, activation: 'relu' }),
        L('BatchNormalization', {}),
        L('DepthwiseConv2D', { kernel_size: [3, 3], strides: [2, 2], use_bias: false, activation: 'tanh' }),
        L('SeparableConv2D', { filters: 4, kernel_size: [2, 2], padding: 'same', depth_multiplier: 2, activation: 'elu' }),
        L('Flatten', {}),
        L('Dense', { units: 5, activation: 'softmax' }),
      ],
      40,
      'depthwise / separable',
    );
    compare([L('SeparableConv2D', { filters: 3, kernel_size: [2, 3], dilation_rate: [2, 1] }), L('Flatten', {}), L('Dense', { units: 5, activation: 'softmax' })], 40, 'dilated separable');
  });

  it("matches tfjs with Keras' ReLU (max_value, negative_slope, threshold) and GroupNormalization (1, some and C groups)", () => {
    const input = { inputShape: [H, W, C] };
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ ...input, filters: 8, kernelSize: 3, padding: 'same' }),
        groupNormalizationLayer({ groups: 4 }),
        reluLayer({ maxValue: 6 }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 6, kernelSize: 3 }),
        reluLayer({ negativeSlope: 0.1 }),
        groupNormalizationLayer({ groups: 2, epsilon: 0.01, center: false }),
        reluLayer({ maxValue: 1.5, negativeSlope: 0.2, threshold: 0.3 }),
        groupNormalizationLayer({ groups: 6, scale: false }),
        groupNormalizationLayer({ groups: 1 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 12 }),
        groupNormalizationLayer({ groups: 3 }),
        reluLayer({ threshold: 0.4 }),
        tf.layers.dense({ units: 5, activation: 'softmax' }),
      ],
    });
    compareModel(model, 300, 'ReLU / GroupNormalization');
  });

  it('runs frozen and regularized layers (they only matter to training)', () => {
    compare(
      [
        L('Conv2D', { filters: 3, kernel_size: [3, 3], trainable: false }),
        L('Flatten', {}),
        L('Dense', { units: 5, activation: 'softmax', kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } } }),
      ],
      20,
      'frozen / regularized',
    );
  });

  it('matches tfjs with im2col + OpenBLAS convolutions too (machines without oneDNN)', () => {
    loadAddon().useOneDnn(false);
    try {
      compare(LESSON_LIKE, 40, 'im2col');
      // mixed_bfloat16 needs oneDNN's kernels: without them the pass is float32 and says why.
      const model = buildModel(spec(LESSON_LIKE), 3);
      const p = createPredictor(model, native, 'mixed_bfloat16');
      assert.match(p.description, /mixed_bfloat16 asked, float32 throughout: its convolutions do not run on oneDNN here/);
      p.dispose();
      model.dispose();
    } finally {
      loadAddon().useOneDnn(true);
    }
  });

  it('falls back to tfjs predict, saying why, for what it does not cover and on other backends', () => {
    const model = buildModel(spec([L('DepthwiseConv2D', { kernel_size: [3, 3], dilation_rate: 2 }), L('Flatten', {}), L('Dense', { units: 5, activation: 'softmax' })]), 1);
    const x = images(3, 1);
    const p = createPredictor(model, native);
    assert.equal(p.native, false);
    assert.match(p.description, /tfjs predict \(the native pass does not cover layer 'depthwise_conv2d\w*': DepthwiseConv2D with dilation_rate \[2,2\] \(tfjs ignores it\)\)/);
    const ref = tf.tidy(() => (model.predict(tf.tensor4d(x, [3, H, W, C])) as tf.Tensor).dataSync() as Float32Array);
    assert.deepEqual(p.predict(x, 3), ref);
    assert.throws(() => p.predict(x, 4), /4 image\(s\) of 12×12×2 need 1152 values, received 864/);
    model.dispose();
    // The trainer's layout needs a softmax output (every model the workbench trains has one).
    const linear = buildModel(spec([L('Flatten', {}), L('Dense', { units: 5 })]), 1);
    assert.match(createPredictor(linear, native).description, /tfjs predict \(trainerCreate: the last layer must end with a softmax\)/);
    linear.dispose();
    const cnn = buildModel(spec(LESSON_LIKE), 1);
    assert.match(createPredictor(cnn, { ...native, name: 'wasm' }).description, /the wasm backend predicts through tfjs/);
    const q = createPredictor(cnn, native);
    q.dispose();
    assert.throws(() => q.predict(images(1, 1), 1), /this trainer was disposed/);
    cnn.dispose();
  });
});
