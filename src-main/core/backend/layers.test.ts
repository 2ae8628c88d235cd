/**
 * Every layer type of the spec trains on the workbench backends exactly as on tfjs' reference cpu backend:
 * one training step (forward in training mode, loss, gradients of every trainable weight, an SGD update)
 * gives the same loss, gradients and updated weights within 1e-4 relative.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ACTIVATIONS, functionalLayer, LAYER_CLASS_NAMES, type LayerClassName, type LayerConfig, SPEC_FORMAT_VERSION, type ActivationName, type AnyModelSpec, type FunctionalLayerSpec, type LayerSpec, type ModelSpec } from '../../shared/spec';
import { buildModel } from '../model';
import { workbenchBackends } from './index';
import { disagreement, runOn, seededArray } from './testing';

const TOL = 1e-4;
/** Float32 noise floor for gradients that vanish in exact arithmetic (a bias feeding BatchNorm). */
const ATOL = 1e-6;
type Layer = LayerSpec;
const input: Layer = { class_name: 'InputLayer', config: { shape: [12, 12, 3] } };
const spec = (name: string, layers: Layer[]): ModelSpec => ({
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  config: { name, layers: [input, ...layers] },
});
const bn: Layer = { class_name: 'BatchNormalization', config: { momentum: 0.99, epsilon: 1e-3 } };
const act = (activation: ActivationName): Layer => ({ class_name: 'Activation', config: { activation } });

/** A functional layer entry: `inputs` are the layers whose outputs it takes. */
const fn = (name: string, className: string, inputs: string[], config: LayerConfig = {}): FunctionalLayerSpec => functionalLayer(name, className as LayerClassName, inputs, config);

/** Every merge layer in one graph: gradients flow back through each merge into both branches (summed at the fan-out). */
const MERGES: AnyModelSpec = {
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Functional',
  config: {
    name: 'merges',
    layers: [
      fn('image', 'InputLayer', [], { shape: [12, 12, 3] }),
      fn('a', 'Conv2D', ['image'], { filters: 4, kernel_size: 3, padding: 'same' }),
      fn('b', 'Conv2D', ['a'], { filters: 4, kernel_size: 3, padding: 'same', activation: 'tanh' }),
      fn('sum', 'Add', ['a', 'b']),
      fn('diff', 'Subtract', ['a', 'b']),
      fn('prod', 'Multiply', ['sum', 'diff']),
      fn('avg', 'Average', ['prod', 'b']),
      fn('max', 'Maximum', ['avg', 'a']),
      fn('cat', 'Concatenate', ['max', 'sum']),
      fn('gap', 'GlobalAveragePooling2D', ['cat']),
      fn('class_prob', 'Dense', ['gap'], { units: 4, activation: 'softmax' }),
    ],
    input_layers: [['image', 0, 0]],
    output_layers: [['class_prob', 0, 0]],
  },
};

/** Small specs that together hold every layer type and activation the spec offers, built by buildModel. */
const MODELS: AnyModelSpec[] = [
  spec('conv_bn_activations_pooling_dropout', [
    // No ReLU right before a max pool: ReLU's zeros tie inside pooling windows, and backends may route a tie's
    // gradient to different (equally valid) elements.
    { class_name: 'Conv2D', config: { filters: 6, kernel_size: 3, padding: 'same' } },
    bn,
    { class_name: 'LeakyReLU', config: { negative_slope: 0.2 } },
    act('elu'),
    { class_name: 'MaxPooling2D', config: { pool_size: 2 } },
    act('relu'),
    act('selu'),
    { class_name: 'ZeroPadding2D', config: { padding: 1 } },
    { class_name: 'Conv2D', config: { filters: 5, kernel_size: 3, strides: 2, padding: 'valid', activation: 'gelu' } },
    act('swish'),
    { class_name: 'AveragePooling2D', config: { pool_size: 2, padding: 'same' } },
    act('tanh'),
    { class_name: 'Dropout', config: { rate: 0.3 } },
    { class_name: 'Flatten', config: {} },
    { class_name: 'Dense', config: { units: 7, activation: 'sigmoid' } },
    { class_name: 'Dense', config: { units: 4, activation: 'softmax' } },
  ]),
  spec('depthwise_separable_spatial_dropout_gap', [
    { class_name: 'Rescaling', config: { scale: 0.5, offset: 0.25 } },
    { class_name: 'DepthwiseConv2D', config: { kernel_size: 3, depth_multiplier: 2, padding: 'same' } },
    bn,
    act('relu'),
    { class_name: 'SeparableConv2D', config: { filters: 8, kernel_size: 3, padding: 'valid', activation: 'elu' } },
    { class_name: 'GroupNormalization', config: { groups: 4 } },
    { class_name: 'ReLU', config: { max_value: 6, negative_slope: 0.1 } },
    { class_name: 'SpatialDropout2D', config: { rate: 0.25 } },
    act('softmax'),
    { class_name: 'GlobalAveragePooling2D', config: {} },
    { class_name: 'Dense', config: { units: 4, activation: 'softmax' } },
  ]),
  spec('strided_separable_gmp', [
    // Augmentation: each layer's seeded draws are the same on both backends, so the images must agree too.
    { class_name: 'RandomFlip', config: {} },
    { class_name: 'RandomRotation', config: { factor: 0.1 } },
    { class_name: 'RandomTranslation', config: { height_factor: 0.1, width_factor: 0.1, fill_mode: 'nearest' } },
    { class_name: 'RandomZoom', config: { height_factor: 0.1, width_factor: 0.2, fill_mode: 'wrap' } },
    { class_name: 'RandomContrast', config: { factor: 0.2 } },
    { class_name: 'RandomBrightness', config: { factor: 0.1 } },
    { class_name: 'SeparableConv2D', config: { filters: 6, kernel_size: 3, strides: 2, padding: 'same', depth_multiplier: 2 } },
    bn,
    act('relu'),
    { class_name: 'DepthwiseConv2D', config: { kernel_size: 3, strides: 2, padding: 'valid' } },
    { class_name: 'GlobalMaxPooling2D', config: {} },
    { class_name: 'Dense', config: { units: 4, activation: 'softmax' } },
  ]),
  MERGES,
];

/** One training step of a freshly built, identically initialised model: loss, gradients, updated weights. */
function step(modelSpec: AnyModelSpec): () => tf.Tensor[] {
  return () => {
    const model = buildModel(modelSpec, 123);
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
  it('the specs cover every layer class and activation of the spec vocabulary', () => {
    const layers = new Set(MODELS.flatMap((m) => m.config.layers.map((l) => l.class_name)));
    assert.deepEqual(LAYER_CLASS_NAMES.filter((n) => !layers.has(n)), []);
    const acts = new Set(MODELS.flatMap((m) => m.config.layers.map((l) => l.config.activation ?? 'linear')));
    assert.deepEqual(ACTIVATIONS.filter((a) => !acts.has(a)), []);
  });
  for (const modelSpec of MODELS) {
    const name = modelSpec.config.name;
    it(name, async () => {
      assert.ok(backends.length > 0, 'no workbench backend loaded');
      const ref = await runOn('cpu', step(modelSpec));
      for (const backend of backends) {
        const got = await runOn(backend, step(modelSpec));
        assert.equal(got.length, ref.length, `${backend}: number of outputs`);
        ref.forEach((r, i) => {
          const bad = disagreement(got[i], r, TOL, ATOL);
          assert.equal(bad, null, `${backend}, ${name}: output ${i} (0 = loss, then gradients, then weights): ${bad}`);
        });
      }
    });
  }
});
