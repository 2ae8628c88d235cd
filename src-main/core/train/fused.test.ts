/**
 * The fused native training step agrees with tfjs layers' trainOnBatch on the pure-JS cpu backend (the
 * reference): same losses, accuracies and weights — BatchNorm moving statistics included — after several
 * Adam / SGD steps, within 1e-4 relative. It covers what the lesson's CNN needs and declines
 * the rest with a reason.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../shared/contract';
import type { LayerSpec, ModelSpec, OptimizerSpec } from '../../shared/spec';
import { initBackend } from '../backend';
import { loadAddon } from '../backend/native';
import { seededArray } from '../backend/testing';
import { buildModel } from '../model';
import { groupNormalizationLayer, reluLayer } from '../model/tfjs-layers';
import { createFusedTrainer } from './fused';
import { batch, compareFusedWithTfjs, onCpu } from './fused-testkit';


function spec(layers: LayerSpec[], channels = 2): ModelSpec {
  return {
    format_version: 1,
    class_name: 'Sequential',
    config: { name: 'fused_test', layers: [{ class_name: 'InputLayer', config: { name: 'image', shape: [12, 12, channels] } }, ...layers] },
  } as ModelSpec;
}

const L = (class_name: string, config: Record<string, unknown>): LayerSpec => ({ class_name, config }) as LayerSpec;

/** Conv (same, relu) → BN → ReLU → MaxPool → Conv (valid, stride 2, no bias) → BN (ε 0.01) → Flatten → Dense relu → Dense softmax */
const CNN = spec([
  L('Conv2D', { filters: 4, kernel_size: [3, 3], padding: 'same', activation: 'relu' }),
  L('BatchNormalization', { momentum: 0.9 }),
  L('Activation', { activation: 'relu' }),
  L('MaxPooling2D', { pool_size: [2, 2] }),
  L('Conv2D', { filters: 6, kernel_size: [3, 3], strides: [2, 2], use_bias: false }),
  L('BatchNormalization', { epsilon: 0.01 }),
  L('Flatten', {}),
  L('Dense', { units: 16, activation: 'relu' }),
  L('Dense', { units: 5, activation: 'softmax' }),
]);

let backend: BackendInfo;

/** A model spec, or a function building the tfjs model by hand (each call a fresh model; weights are copied over). */
type ModelSource = ModelSpec | (() => tf.LayersModel);

async function compareWithTfjs(modelSpec: ModelSource, optimizer: OptimizerSpec, steps: number): Promise<void> {
  const make = typeof modelSpec === 'function' ? modelSpec : () => buildModel(modelSpec, 5);
  await onCpu(() => compareFusedWithTfjs(make, optimizer, steps, backend));
}

/**
 * The fused step's gradient of the first Conv2D's kernel (`layers` then Flatten → Dense softmax) against central
 * differences of the same loss through tfjs' cpu forward pass: for what tfjs cannot differentiate, or differentiates
 * inconsistently with its own forward pass.
 */
async function checkByDifferences(layers: LayerSpec[]): Promise<void> {
  const model = buildModel(spec([...layers, L('Flatten', {}), L('Dense', { units: 5, activation: 'softmax' })]), 5);
  const { x, labels } = batch(8, 3);
  const start = model.getWeights().map((w) => w.clone());
  const conv = model.layers.find((l) => l.getClassName() === 'Conv2D')!;
  const kernel0 = conv.getWeights()[0]!.dataSync().slice() as Float32Array;
  // Plain SGD at lr 1: the step moves every weight by exactly minus its gradient.
  const plan = createFusedTrainer(model, { class_name: 'sgd', config: { learning_rate: 1 } }, 5, 8, backend);
  assert.ok(plan.ok, plan.ok ? '' : plan.reason);
  plan.trainer.step(x, labels, 8, 1);
  plan.trainer.pushToModel();
  plan.trainer.dispose();
  const kernel1 = conv.getWeights()[0]!.dataSync();
  const grad = kernel0.map((w, i) => w - kernel1[i]!);

  const active = tf.getBackend();
  await tf.setBackend('cpu');
  const xs = tf.tensor4d(x, [8, 12, 12, 2]);
  const lossWith = (kernel: Float32Array): number => {
    model.setWeights(start.map((w, i) => (i === 0 ? tf.tensor(kernel, w.shape) : w)));
    const p = (model.predict(xs) as tf.Tensor).dataSync();
    let sum = 0;
    labels.forEach((t, r) => (sum += -Math.log(Math.min(Math.max(p[r * 5 + t]!, 1e-7), 1 - 1e-7))));
    return sum / 8;
  };
  const eps = 1e-2;
  const fd = Array.from(kernel0, (_, k) => {
    const plus = kernel0.slice();
    const minus = kernel0.slice();
    plus[k]! += eps;
    minus[k]! -= eps;
    return (lossWith(plus) - lossWith(minus)) / (2 * eps);
  });
  xs.dispose();
  await tf.setBackend(active);
  const scale = Math.max(...fd.map(Math.abs));
  const worst = Math.max(...fd.map((g, i) => Math.abs(g - grad[i]!)));
  assert.ok(worst <= 0.01 * scale, `fused gradient vs central differences: max |diff| ${worst} > 1% of ${scale}`);
  tf.dispose(start);
  model.dispose();
}

describe('fused native training step', () => {
  before(async () => {
    backend = await initBackend();
    assert.equal(backend.name, 'native', 'these tests need the native addon (CI builds it: scripts/build-native.sh)');
  });

  it('matches tfjs trainOnBatch over 4 Adam steps: losses, accuracies, weights and BatchNorm statistics', async () => {
    await compareWithTfjs(CNN, { class_name: 'adam', config: { learning_rate: 1e-2 } }, 4);
  });

  it('matches tfjs on RGB input ([12, 12, 3], as image folders in colour give): Adam and SGD', async () => {
    const rgb = spec(CNN.config.layers.slice(1), 3);
    await compareWithTfjs(rgb, { class_name: 'adam', config: { learning_rate: 1e-2 } }, 3);
    await compareWithTfjs(rgb, { class_name: 'sgd', config: { learning_rate: 5e-2, momentum: 0.9 } }, 3);
  });

  it('matches tfjs on one input channel ([12, 12, 1], the lesson\'s grayscale first layer, whose bias gradient the addon sums itself): Adam and SGD', async () => {
    const gray = spec(CNN.config.layers.slice(1), 1);
    await compareWithTfjs(gray, { class_name: 'adam', config: { learning_rate: 1e-2 } }, 3);
    await compareWithTfjs(gray, { class_name: 'sgd', config: { learning_rate: 5e-2, momentum: 0.9 } }, 3);
  });

  it('matches tfjs with plain SGD and with Nesterov momentum, and with a softmax Activation layer', async () => {
    const withSoftmaxLayer = spec([
      L('Conv2D', { filters: 3, kernel_size: [3, 3] }),
      L('Flatten', {}),
      L('Dense', { units: 5 }),
      L('Activation', { activation: 'softmax' }),
    ]);
    await compareWithTfjs(withSoftmaxLayer, { class_name: 'sgd', config: { learning_rate: 0.1 } }, 3);
    await compareWithTfjs(CNN, { class_name: 'sgd', config: { learning_rate: 0.05, momentum: 0.9, nesterov: true } }, 3);
  });

  it('a step that leaves a weight NaN or infinite says so (the divergence guard reads it), under Adam and SGD', () => {
    for (const optimizer of ['adam', 'sgd'] as const) {
      const steps = (lr: number): boolean[] => {
        // No BatchNorm: its moving statistics (checked apart from the trained weights) would turn NaN too.
        const model = buildModel(spec([L('Conv2D', { filters: 3, kernel_size: [3, 3] }), L('Flatten', {}), L('Dense', { units: 5, activation: 'softmax' })]), 5);
        const plan = createFusedTrainer(model, { class_name: optimizer, config: { learning_rate: lr } }, 5, 16, backend);
        assert.ok(plan.ok, plan.ok ? '' : plan.reason);
        const { x, labels } = batch(16, 4);
        const finite = [1, 2, 3].map(() => plan.trainer.step(x, labels, 16, lr).finite);
        plan.trainer.dispose();
        return finite;
      };
      assert.deepEqual(steps(1e-3), [true, true, true], optimizer);
      // Steps of ~3e38 per weight: float32's range is crossed within three steps.
      assert.ok(steps(3e38).includes(false), optimizer);
    }
  });

  it('Dropout: rate 0 keeps everything, rate 0.5 masks, and the same seed gives the same masks', () => {
    const withDropout = (rate: number) =>
      spec([L('Flatten', {}), L('Dense', { units: 32, activation: 'relu' }), L('Dropout', { rate }), L('Dense', { units: 5, activation: 'softmax' })]);
    const run = (rate: number, seed: number): number[] => {
      const model = buildModel(withDropout(rate), 3);
      const plan = createFusedTrainer(model, { class_name: 'adam', config: { learning_rate: 1e-2 } }, seed, 16, backend);
      assert.ok(plan.ok, plan.ok ? '' : plan.reason);
      const losses = [0, 1, 2].map((s) => {
        const { x, labels } = batch(16, s);
        return plan.trainer.step(x, labels, 16, 1e-2).loss;
      });
      model.dispose();
      return losses;
    };
    const none = run(0, 1);
    assert.deepEqual(run(0, 2), none, 'rate 0: the masks keep everything, whatever the seed');
    const a = run(0.5, 1);
    assert.deepEqual(run(0.5, 1), a, 'same seed, same masks');
    assert.notDeepEqual(run(0.5, 2), a, 'another seed, other masks');
    assert.notDeepEqual(a, none);
  });

  it('covers every activation, average / global pooling, zero padding and LeakyReLU like tfjs', async () => {
    await compareWithTfjs(
      spec([
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
      ]),
      { class_name: 'adam', config: { learning_rate: 1e-2 } },
      3,
    );
    await compareWithTfjs(
      spec([L('Conv2D', { filters: 4, kernel_size: [3, 3], activation: 'sigmoid' }), L('GlobalMaxPooling2D', {}), L('Dense', { units: 5, activation: 'softmax' })]),
      { class_name: 'adam', config: { learning_rate: 1e-2 } },
      3,
    );
  });

  it('covers DepthwiseConv2D and SeparableConv2D like tfjs: depth multipliers, strides, padding, bias or not, activations', async () => {
    await compareWithTfjs(
      spec([
        L('DepthwiseConv2D', { kernel_size: [3, 3], padding: 'same', depth_multiplier: 2, activation: 'relu' }),
        L('BatchNormalization', {}),
        L('DepthwiseConv2D', { kernel_size: [3, 3], strides: [2, 2], use_bias: false, activation: 'tanh' }),
        L('Flatten', {}),
        L('Dense', { units: 5, activation: 'softmax' }),
      ]),
      { class_name: 'adam', config: { learning_rate: 1e-2 } },
      3,
    );
    await compareWithTfjs(
      spec([
        L('SeparableConv2D', { filters: 4, kernel_size: [3, 3], padding: 'same', activation: 'relu' }),
        L('MaxPooling2D', { pool_size: [2, 2] }),
        L('SeparableConv2D', { filters: 3, kernel_size: [3, 2], strides: [2, 1], depth_multiplier: 2, activation: 'elu' }),
        L('SeparableConv2D', { filters: 5, kernel_size: [1, 1], use_bias: false }),
        L('GlobalAveragePooling2D', {}),
        L('Dense', { units: 5, activation: 'softmax' }),
      ]),
      { class_name: 'adam', config: { learning_rate: 1e-2 } },
      3,
    );
  });

  it('dilated separable convolutions train too (tfjs cannot differentiate them): checked by central differences', async () => {
    await checkByDifferences([
      L('Conv2D', { filters: 2, kernel_size: [2, 2] }),
      L('SeparableConv2D', { filters: 3, kernel_size: [2, 3], dilation_rate: [2, 1], depth_multiplier: 2, padding: 'same' }),
    ]);
  });

  it('matches tfjs with im2col + OpenBLAS convolutions too (machines without oneDNN)', async () => {
    loadAddon().useOneDnn(false);
    try {
      await compareWithTfjs(CNN, { class_name: 'adam', config: { learning_rate: 1e-2 } }, 3);
    } finally {
      loadAddon().useOneDnn(true);
    }
  });

  // (Dilated convolutions are left out: tfjs cannot compute their gradients at all.)
  it('matches tfjs on odd geometries: stride-2 same convolutions, overlapping same max pooling, uneven strides', async () => {
    await compareWithTfjs(
      spec([
        L('Conv2D', { filters: 3, kernel_size: [5, 3], padding: 'same', activation: 'relu' }),
        L('Conv2D', { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'same' }),
        L('MaxPooling2D', { pool_size: [3, 3], strides: [2, 2], padding: 'same' }),
        L('Conv2D', { filters: 4, kernel_size: [2, 2], strides: [2, 1], padding: 'valid', activation: 'relu' }),
        L('Flatten', {}),
        L('Dense', { units: 5, activation: 'softmax' }),
      ]),
      { class_name: 'adam', config: { learning_rate: 1e-2 } },
      3,
    );
    // 2×2 'same' max pooling on an odd size: its last window row and column lie partly outside the image.
    await compareWithTfjs(
      spec([L('Conv2D', { filters: 3, kernel_size: [2, 2] }), L('MaxPooling2D', { pool_size: [2, 2], padding: 'same' }), L('Flatten', {}), L('Dense', { units: 5, activation: 'softmax' })]),
      { class_name: 'adam', config: { learning_rate: 1e-2 } },
      3,
    );
    // BatchNorm → ReLU → 2×2 'valid' max pooling on an odd size (11×11), which the addon runs as one pass forward and
    // reads through the argmax backward: the last row and column, in no window, get BatchNorm's gradient terms only.
    // (No bias before the BatchNorm: its gradient is ~0, and Adam would turn its rounding into full steps.)
    await compareWithTfjs(
      spec([
        L('Conv2D', { filters: 3, kernel_size: [2, 2], use_bias: false }),
        L('BatchNormalization', {}),
        L('Activation', { activation: 'relu' }),
        L('MaxPooling2D', { pool_size: [2, 2] }),
        L('Flatten', {}),
        L('Dense', { units: 5, activation: 'softmax' }),
      ]),
      { class_name: 'adam', config: { learning_rate: 1e-2 } },
      3,
    );
  });

  it("average pooling with 'same' padding: gradients follow its forward pass (as in TF/Keras; tfjs' own AvgPoolGrad divides by the whole window)", async () => {
    await checkByDifferences([
      L('Conv2D', { filters: 2, kernel_size: [3, 3], padding: 'same' }),
      L('AveragePooling2D', { pool_size: [3, 3], strides: [2, 2], padding: 'same' }),
    ]);
  });

  it('dilated convolutions train (tfjs cannot compute their gradients): checked by central differences', async () => {
    await checkByDifferences([L('Conv2D', { filters: 2, kernel_size: [3, 3], dilation_rate: [2, 2], padding: 'same' })]);
    await checkByDifferences([L('Conv2D', { filters: 2, kernel_size: [3, 2], dilation_rate: [2, 3], padding: 'valid' })]);
  });

  for (const optimizer of [
    { class_name: 'rmsprop', config: { learning_rate: 1e-3, momentum: 0.5 } },
    { class_name: 'adagrad', config: { learning_rate: 0.05 } },
    { class_name: 'adamax', config: { learning_rate: 2e-3 } },
  ] as OptimizerSpec[]) {
    it(`matches tfjs with ${optimizer.class_name}`, async () => {
      await compareWithTfjs(CNN, optimizer, 3);
    });
  }

  describe("Keras' ReLU and GroupNormalization (models built by hand from the tfjs layer classes)", () => {
    /** Every weight random (GroupNormalization's gamma around 1), so that no gradient hides behind gamma = 1, beta = 0. */
    const randomized = (model: tf.LayersModel): tf.LayersModel => {
      const names = model.weights.map((w) => w.originalName);
      const next = model.getWeights().map((w, i) => {
        const v = seededArray(w.size, 100 + i);
        return tf.tensor(names[i]!.endsWith('gamma') ? v.map((x) => 1 + x / 2) : v.map((x) => x / 2), w.shape);
      });
      model.setWeights(next);
      tf.dispose(next);
      return model;
    };
    const input = { inputShape: [12, 12, 2] };

    it('match tfjs trainOnBatch over 4 Adam steps: ReLU with max_value / negative_slope / threshold, GroupNormalization with 1, 2, 4 and C groups', async () => {
      await compareWithTfjs(
        () =>
          randomized(
            tf.sequential({
              layers: [
                tf.layers.conv2d({ ...input, filters: 8, kernelSize: 3, padding: 'same' }),
                groupNormalizationLayer({ groups: 4 }),
                reluLayer({ maxValue: 6 }), // MobileNet's ReLU(6.)
                tf.layers.maxPooling2d({ poolSize: 2 }),
                tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu' }),
                // Exact zeros from the ReLU above sit on the threshold: the lower branch, as in tfjs.
                reluLayer({ negativeSlope: 0.1 }),
                groupNormalizationLayer({ groups: 2, epsilon: 0.01, center: false }),
                reluLayer({ maxValue: 1.5, negativeSlope: 0.2, threshold: 0.3 }),
                groupNormalizationLayer({ groups: 6, scale: false }),
                tf.layers.conv2d({ filters: 4, kernelSize: 2, strides: 2 }),
                groupNormalizationLayer({ groups: 1 }),
                tf.layers.flatten(),
                tf.layers.dense({ units: 12 }),
                groupNormalizationLayer({ groups: 3 }), // on a flat input
                reluLayer({ threshold: 0.4 }),
                tf.layers.dense({ units: 5, activation: 'softmax' }),
              ],
            }),
          ),
        { class_name: 'adam', config: { learning_rate: 1e-2 } },
        4,
      );
    });

    it('match tfjs with SGD when GroupNormalization is the first layer (no input gradient) and without center and scale', async () => {
      await compareWithTfjs(
        () =>
          randomized(
            tf.sequential({
              layers: [
                groupNormalizationLayer({ ...input, groups: 2, epsilon: 0.1 }),
                tf.layers.conv2d({ filters: 4, kernelSize: 3 }),
                groupNormalizationLayer({ groups: 2, center: false, scale: false }),
                reluLayer({ maxValue: 0.5 }),
                tf.layers.globalAveragePooling2d({}),
                tf.layers.dense({ units: 5, activation: 'softmax' }),
              ],
            }),
          ),
        { class_name: 'sgd', config: { learning_rate: 0.1, momentum: 0.9 } },
        3,
      );
    });

    it("the addon's layout agrees with tfjs: GroupNormalization's weights are [gamma C, beta C], ReLU has none", () => {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({ ...input, filters: 8, kernelSize: 3 }),
          groupNormalizationLayer({ groups: 4 }),
          groupNormalizationLayer({ groups: 2, center: false }),
          reluLayer({ maxValue: 6 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 5, activation: 'softmax' }),
        ],
      });
      const plan = createFusedTrainer(model, { class_name: 'adam', config: { learning_rate: 1e-3 } }, 1, 8, backend);
      assert.ok(plan.ok, plan.ok ? '' : plan.reason);
      plan.trainer.dispose();
      const lib = loadAddon();
      const handle = lib.trainerCreate([[1, 8, 3, 3, 1, 1, 1, 1, 0, 1, 0], [14, 4, 1e-3, 1, 1], [14, 2, 1e-3, 0, 1], [15, 6, 0, 0], [7], [2, 5, 1, 2]], [12, 12, 2], 8, [1, 0.9, 0.999, 1e-7], 1);
      assert.deepEqual(
        lib.trainerLayout(handle).map((l) => l.params),
        model.layers.map((l) => l.getWeights().map((w) => w.size)),
      );
      assert.deepEqual(lib.trainerLayout(handle)[1]!.params, [8, 8]);
      lib.trainerDispose(handle);
      model.dispose();
    });
  });

  it('SpatialDropout2D: rate 0 keeps everything, the same seed gives the same masks', () => {
    const run = (rate: number, seed: number): number[] => {
      const model = buildModel(spec([L('Conv2D', { filters: 6, kernel_size: [3, 3] }), L('SpatialDropout2D', { rate }), L('Flatten', {}), L('Dense', { units: 5, activation: 'softmax' })]), 3);
      const plan = createFusedTrainer(model, { class_name: 'adam', config: { learning_rate: 1e-2 } }, seed, 16, backend);
      assert.ok(plan.ok, plan.ok ? '' : plan.reason);
      const losses = [0, 1, 2].map((s) => plan.trainer.step(batch(16, s).x, batch(16, s).labels, 16, 1e-2).loss);
      model.dispose();
      return losses;
    };
    assert.deepEqual(run(0, 2), run(0, 1));
    const a = run(0.5, 1);
    assert.deepEqual(run(0.5, 1), a);
    assert.notDeepEqual(run(0.5, 2), a);
  });

  it('declines what it does not cover, saying what', () => {
    const cases: [ModelSpec, OptimizerSpec, RegExp][] = [
      [spec([L('DepthwiseConv2D', { kernel_size: [3, 3], dilation_rate: 2 }), L('Flatten', {}), L('Dense', { units: 5, activation: 'softmax' })]), { class_name: 'adam', config: { learning_rate: 1e-3 } }, /DepthwiseConv2D with dilation_rate \[2,2\] \(tfjs ignores it\)/],
      [spec([L('Flatten', {}), L('Dense', { units: 5, activation: 'sigmoid' })]), { class_name: 'adam', config: { learning_rate: 1e-3 } }, /needs a softmax output/],
      [spec([L('Flatten', {}), L('Dense', { units: 5, activation: 'softmax' }), L('Activation', { activation: 'softmax' })]), { class_name: 'adam', config: { learning_rate: 1e-3 } }, /softmax before the last layer/],
      [spec([L('Flatten', {}), L('Dense', { units: 5, trainable: false }), L('Activation', { activation: 'softmax' })]), { class_name: 'adam', config: { learning_rate: 1e-3 } }, /frozen/],
    ];
    for (const [s, opt, why] of cases) {
      const model = buildModel(s, 1);
      const plan = createFusedTrainer(model, opt, 1, 8, backend);
      model.dispose();
      assert.equal(plan.ok, false);
      assert.match(plan.ok ? '' : plan.reason, why);
    }
    const model = buildModel(CNN, 1);
    assert.match((createFusedTrainer(model, { class_name: 'adam', config: { learning_rate: 1e-3 } }, 1, 8, { ...backend, name: 'wasm' }) as { reason: string }).reason, /wasm backend/);
    model.dispose();
  });
});
