import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { AnyModelSpec, FunctionalLayerSpec, FunctionalModelSpec, LayerSpec, ModelSpec } from '../../shared/spec';
import { functionalLayer, LAYER_CLASS_NAMES, type LayerClassName, type LayerConfig } from '../../shared/spec';
import { SpecError, TEMPLATES, buildModel, summarizeSpec } from './index';

const layer = (class_name: string, config: Record<string, unknown> = {}): LayerSpec => ({ class_name, config }) as LayerSpec;
const model = (name: string, ...layers: LayerSpec[]): ModelSpec => ({ format_version: 1, class_name: 'Sequential', config: { name, layers } });

/** A functional layer entry: `inputs` are the layers whose outputs it takes. */
const fn = (name: string, className: string, inputs: string[], config: LayerConfig = {}): FunctionalLayerSpec => functionalLayer(name, className as LayerClassName, inputs, config);

/** Every merge layer, in one graph (each takes two or more of the branches). */
const EVERY_MERGE: FunctionalModelSpec = {
  format_version: 1,
  class_name: 'Functional',
  config: {
    name: 'every_merge',
    layers: [
      fn('image', 'InputLayer', [], { shape: [8, 8, 2] }),
      fn('a', 'Conv2D', ['image'], { filters: 4, kernel_size: 3, padding: 'same' }),
      fn('b', 'Conv2D', ['a'], { filters: 4, kernel_size: 3, padding: 'same' }),
      fn('c', 'Conv2D', ['image'], { filters: 4, kernel_size: 1 , padding: 'same' }),
      fn('sum', 'Add', ['a', 'b', 'c']),
      fn('diff', 'Subtract', ['a', 'b']),
      fn('prod', 'Multiply', ['sum', 'diff']),
      fn('avg', 'Average', ['prod', 'a', 'b']),
      fn('max', 'Maximum', ['avg', 'c']),
      fn('cat', 'Concatenate', ['max', 'a', 'image']),
      fn('d', 'Conv2D', ['image'], { filters: 10, kernel_size: 1 }),
      fn('cat_w', 'Concatenate', ['cat', 'd'], { axis: 2 }),
      fn('gap', 'GlobalAveragePooling2D', ['cat_w']),
      fn('class_prob', 'Dense', ['gap'], { units: 3, activation: 'softmax' }),
    ],
    input_layers: [['image', 0, 0]],
    output_layers: [['class_prob', 0, 0]],
  },
};

/** Between them, these specs use every supported layer class and most non-default options. */
const EVERY_LAYER: AnyModelSpec[] = [
  model(
    'every_layer_a',
    layer('InputLayer', { shape: [16, 16, 3] }),
    layer('ZeroPadding2D', { padding: [[1, 2], [0, 1]] }),
    layer('Conv2D', { filters: 8, kernel_size: [3, 2], strides: 2, activation: 'relu', kernel_initializer: 'he_normal' }),
    layer('BatchNormalization', { center: false }),
    layer('GroupNormalization', { groups: 4, epsilon: 1e-4 }),
    layer('ReLU', { max_value: 6, negative_slope: 0.1, threshold: 0.05 }),
    layer('LeakyReLU', { negative_slope: 0.1 }),
    layer('DepthwiseConv2D', { kernel_size: 3, depth_multiplier: 2, padding: 'same', activation: 'gelu' }),
    layer('SeparableConv2D', { filters: 12, kernel_size: 3, dilation_rate: 2, padding: 'same', depth_multiplier: 2 }),
    layer('Activation', { activation: 'swish' }),
    layer('MaxPooling2D', { pool_size: 2 }),
    layer('SpatialDropout2D', { rate: 0.2 }),
    layer('AveragePooling2D', { pool_size: 2, strides: 1, padding: 'same' }),
    layer('Conv2D', { filters: 4, kernel_size: 1, use_bias: false, trainable: false }),
    layer('GlobalAveragePooling2D'),
    layer('Dense', { units: 10, activation: 'softmax' }),
  ),
  model(
    'every_layer_b',
    layer('InputLayer', { shape: [12, 12, 1] }),
    layer('Rescaling', { scale: 2, offset: -1 }),
    layer('RandomFlip', { mode: 'horizontal' }),
    layer('RandomRotation', { factor: 0.1, fill_mode: 'constant' }),
    layer('RandomTranslation', { height_factor: 0.1, width_factor: 0.2 }),
    layer('RandomZoom', { height_factor: 0.2, interpolation: 'nearest' }),
    layer('RandomContrast', { factor: 0.3 }),
    layer('RandomBrightness', { factor: 0.1 }),
    layer('Conv2D', { filters: 4, kernel_size: 3, activation: 'elu' }),
    layer('BatchNormalization', { scale: false, trainable: false }),
    layer('DepthwiseConv2D', { kernel_size: 2, strides: 2, use_bias: false, activation: 'selu' }),
    layer('GlobalMaxPooling2D'),
    layer('Dropout', { rate: 0.5 }),
    layer('Dense', { units: 6, activation: 'tanh' }),
    layer('Dense', { units: 5, activation: 'sigmoid' }),
    layer('Dense', { units: 3, activation: 'linear' }),
    layer('Activation', { activation: 'softmax' }),
  ),
  model('every_layer_c', layer('InputLayer', { shape: [6, 6, 2] }), layer('SeparableConv2D', { filters: 3, kernel_size: 2, strides: [1, 2], use_bias: false }), layer('Flatten'), layer('Dense', { units: 3, activation: 'softmax', use_bias: false })),
  EVERY_MERGE,
];

const sizeOf = (ws: tf.LayerVariable[]) => ws.reduce((a, w) => a + w.shape.reduce((p: number, d) => p * (d ?? 1), 1), 0);

test('between them, the every-layer specs use every layer class', () => {
  const used = new Set(EVERY_LAYER.flatMap((s) => s.config.layers.map((l) => l.class_name)));
  assert.deepEqual([...LAYER_CLASS_NAMES].filter((c) => !used.has(c)), []);
});

for (const { id, spec } of [...TEMPLATES.map((t) => ({ id: t.id, spec: t.spec })), ...EVERY_LAYER.map((s) => ({ id: s.config.name, spec: s }))]) {
  test(`${id}: our arithmetic equals tfjs — countParams, trainable split and every output shape`, () => {
    const summary = summarizeSpec(spec);
    assert.equal(summary.ok, true, summary.issues.map((i) => i.message).join('\n'));
    const m = buildModel(spec, 1);
    try {
      assert.equal(m.countParams(), summary.totalParams);
      assert.equal(sizeOf(m.trainableWeights), summary.trainableParams);
      assert.equal(sizeOf(m.nonTrainableWeights), summary.nonTrainableParams);
      // tfjs' Sequential lists the InputLayer among its layers, as Keras' functional models do.
      const rows = summary.rows;
      assert.equal(m.layers.length, rows.length);
      // A graph's layers may be listed in another order where each still follows its inputs: match them by name.
      m.layers.forEach((l, i) => {
        const row = spec.class_name === 'Functional' ? rows.find((r) => r.name === l.name) : rows[i];
        assert.equal(l.name, row?.name);
        assert.deepEqual(l.outputShape, row?.outputShape, `${l.name} output shape`);
        assert.equal(l.countParams(), row?.params, `${l.name} params`);
      });
      // And it runs: a forward pass gives one probability row per sample.
      const inputShape = summary.rows[0].outputShape.slice(1) as number[];
      const y = tf.tidy(() => m.predict(tf.ones([2, ...inputShape])) as tf.Tensor);
      assert.deepEqual(y.shape, summary.rows[summary.rows.length - 1].outputShape.map((d) => d ?? 2));
      y.dispose();
    } finally {
      m.dispose();
    }
  });
}

async function weightsOf(spec: AnyModelSpec, seed: number): Promise<Float32Array[]> {
  const m = buildModel(spec, seed);
  const out = await Promise.all(m.getWeights().map((w) => w.data() as Promise<Float32Array>));
  m.dispose();
  return out;
}

test('same seed ⇒ identical initial weights; another seed ⇒ different ones', async () => {
  for (const spec of [TEMPLATES[0].spec, EVERY_LAYER[0]]) {
    const a = await weightsOf(spec, 123);
    const b = await weightsOf(spec, 123);
    const c = await weightsOf(spec, 124);
    assert.deepEqual(a, b);
    const firstKernel = (ws: Float32Array[]) => ws.find((w) => w.some((v) => v !== 0 && v !== 1));
    assert.notDeepEqual(firstKernel(a), firstKernel(c));
  }
});

test('two layers of the same shape do not start with the same weights', async () => {
  const spec = model('twins', layer('InputLayer', { shape: [4] }), layer('Dense', { units: 4 }), layer('Dense', { units: 4, activation: 'softmax' }));
  const [k1, , k2] = await weightsOf(spec, 5);
  assert.notDeepEqual(k1, k2);
});

test('kernels use the Keras default glorot_uniform (bounded by sqrt(6 / (fan_in + fan_out)))', async () => {
  const spec = model('g', layer('InputLayer', { shape: [50] }), layer('Dense', { units: 30, activation: 'softmax' }));
  const [kernel, bias] = await weightsOf(spec, 9);
  const limit = Math.sqrt(6 / (50 + 30));
  assert.ok(kernel.every((v) => Math.abs(v) <= limit));
  // A uniform draw reaches near its limit; tfjs' own default (glorot_normal, truncated) would rarely.
  assert.ok(Math.max(...kernel.map(Math.abs)) > 0.95 * limit);
  assert.ok(bias.every((v) => v === 0));
});

test('buildModel refuses an invalid spec with a SpecError listing every problem, never a tfjs error', () => {
  const bad = model('bad', layer('InputLayer', { shape: [1, 1, 3] }), layer('MaxPooling2D'), layer('Flatten'), layer('Dense', { units: -2, activation: 'softmax' }));
  assert.throws(
    () => buildModel(bad, 1),
    (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.equal(err.name, 'SpecError');
      assert.deepEqual(
        err.issues.filter((i) => i.severity === 'error').map((i) => [i.layerIndex, i.field]),
        [
          [1, 'pool_size'],
          [3, 'units'],
        ],
      );
      assert.match(err.message, /^Invalid model spec \(2 problems\):\n {2}- Layer 1 'max_pooling2d' \(MaxPooling2D\): pool_size = 2 — the 2x2 pool is larger than its 1x1 input/);
      return true;
    },
  );
  assert.throws(() => buildModel(TEMPLATES[0].spec, 1.5), /seed = 1.5 must be an integer/);
});

test('SpatialDropout2D drops whole feature maps while training and is the identity at inference', () => {
  const spec = model('sd', layer('InputLayer', { shape: [5, 5, 64] }), layer('SpatialDropout2D', { rate: 0.5 }), layer('GlobalMaxPooling2D'), layer('Dense', { units: 2, activation: 'softmax' }));
  const m = buildModel(spec, 3);
  const drop = m.layers[1];
  const x = tf.ones([2, 5, 5, 64]);
  const trained = drop.apply(x, { training: true }) as tf.Tensor;
  const inferred = drop.apply(x) as tf.Tensor;
  const t = trained.arraySync() as number[][][][];
  let zeroed = 0;
  for (let b = 0; b < 2; b++) {
    for (let c = 0; c < 64; c++) {
      const values = new Set(t[b].flatMap((row) => row.map((px) => px[c])));
      assert.equal(values.size, 1, 'one draw per (sample, channel)');
      const [v] = values;
      assert.ok(v === 0 || Math.abs(v - 2) < 1e-6, `kept maps are scaled by 1/(1 - rate): ${v}`);
      if (v === 0) zeroed++;
    }
  }
  assert.ok(zeroed > 20 && zeroed < 108, `about half of 128 maps dropped, got ${zeroed}`);
  assert.deepEqual(inferred.arraySync(), x.arraySync());
  tf.dispose([x, trained, inferred]);
  m.dispose();
});

test('a built model with every layer class saves as tfjs layers JSON and loads back with the same outputs', async () => {
  const spec = EVERY_LAYER[0];
  const m = buildModel(spec, 11);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await m.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  assert.ok(artifacts);
  assert.match(JSON.stringify(artifacts.modelTopology), /"class_name":"SpatialDropout2D"/);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const x = tf.randomUniform([3, 16, 16, 3], 0, 1, 'float32', 5);
  const a = m.predict(x) as tf.Tensor;
  const b = loaded.predict(x) as tf.Tensor;
  assert.ok((tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]) < 1e-6);
  tf.dispose([x, a, b]);
  m.dispose();
  loaded.dispose();
});
