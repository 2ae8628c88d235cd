/**
 * Converting Keras configs into specs. The fixtures (`fixtures/*.json`) follow Keras 3's and tf.keras 2.12's
 * serialization field by field (see `fixtures/make_fixtures.py`; Keras itself is not installed here, so they were not
 * written by Keras). Parameter counts are Keras' formulas worked out by hand in the comments.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { FunctionalModelSpec, ModelSpec } from '../../../shared/spec';
import { parseSpec, summarizeSpec } from '../index';
import { convertKerasConfig, ModelImportError } from './keras-config';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** The refusal message for `json`, asserting it is one ModelImportError naming the file. */
function refusal(json: unknown): string {
  try {
    convertKerasConfig(json, 'model.json');
  } catch (err) {
    assert.ok(err instanceof ModelImportError, String(err));
    assert.match(err.message, /^model\.json: /);
    assert.equal(err.message.split('\n').length, 1, 'one message, one line');
    return err.message;
  }
  assert.fail('expected the model to be refused');
}

// Conv2D(32, 3×3) on 1 channel: 3·3·1·32 + 32 = 320; BatchNormalization(32): 4·32 = 128 (64 moving statistics,
// not trainable); Dense(10) on 13·13·32 = 5,408 inputs: 54,080 + 10 = 54,090. Total 54,538, non-trainable 64.
for (const name of ['keras3-sequential', 'tfkeras2-sequential']) {
  test(`${name}: opens as a Sequential spec the core accepts, with Keras' parameter counts`, () => {
    const { spec, warnings, dialect } = convertKerasConfig(fixture(name), `${name}.json`);
    assert.equal(dialect, name.startsWith('keras3') ? 'keras3' : 'tf.keras2');
    assert.deepEqual(warnings, []);
    assert.equal(spec.class_name, 'Sequential');
    const seq = parseSpec(spec);
    assert.deepEqual(
      seq.config.layers.map((l) => l.class_name),
      ['InputLayer', 'Conv2D', 'BatchNormalization', 'MaxPooling2D', 'Dropout', 'Flatten', 'Dense'],
    );
    // Keras 3's {"class_name": "GlorotUniform", …} object and tf.keras 2's string 'zeros' both become names.
    assert.equal(seq.config.layers[1]!.config.kernel_initializer, 'glorot_uniform');
    assert.equal(seq.config.layers[6]!.config.bias_initializer, 'zeros');
    assert.deepEqual(seq.config.layers[0]!.config.shape, [28, 28, 1]);
    const summary = summarizeSpec(seq);
    assert.equal(summary.ok, true, JSON.stringify(summary.issues));
    assert.deepEqual(summary.issues, []);
    assert.deepEqual(summary.rows.map((r) => r.params), [0, 320, 128, 0, 0, 0, 54_090]);
    assert.equal(summary.totalParams, 54_538);
    assert.equal(summary.nonTrainableParams, 64);
  });
}

test('both dialects of the same Sequential model give the same layers (only the input layer is named differently)', () => {
  const a = convertKerasConfig(fixture('keras3-sequential'), 'a').spec as ModelSpec;
  const b = convertKerasConfig(fixture('tfkeras2-sequential'), 'b').spec as ModelSpec;
  assert.deepEqual(a.config.layers.slice(1), b.config.layers.slice(1));
});

test('a TF.js topology without an InputLayer (batch_input_shape on the first layer) gains one, as tf.keras 2 names it', () => {
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'sequential_1',
      layers: [
        {
          class_name: 'Flatten',
          config: { batch_input_shape: [null, 28, 28, 1], dtype: 'float32', name: 'flatten_Flatten1', trainable: true },
        },
        {
          class_name: 'Dense',
          config: {
            units: 10,
            activation: 'softmax',
            use_bias: true,
            // tfjs writes GlorotUniform as the VarianceScaling it is.
            kernel_initializer: { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'normal', seed: null } },
            bias_initializer: { class_name: 'Zeros', config: {} },
            kernel_regularizer: { class_name: 'L1L2', config: { l1: 0, l2: 0.01 } },
            bias_regularizer: null,
            activity_regularizer: null,
            kernel_constraint: null,
            bias_constraint: null,
            name: 'dense_Dense1',
            trainable: true,
          },
        },
      ],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  const { spec, warnings, dialect } = convertKerasConfig({ modelTopology: topology, weightsManifest: [] }, 'model.json');
  assert.equal(dialect, 'tfjs');
  const seq = parseSpec(spec);
  assert.deepEqual(seq.config.layers[0], { class_name: 'InputLayer', config: { name: 'flatten_Flatten1_input', shape: [28, 28, 1] } });
  assert.equal(seq.config.layers[2]!.config.kernel_initializer, 'glorot_normal');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /layer 'dense_Dense1' \(Dense\): kernel_regularizer L1L2 ignored/);
});

/** A Keras 3 functional chain (no merge): Input → Conv2D → Flatten → Dense, written as Keras 3 writes calls. */
function keras3Chain(inputLayers: unknown): Record<string, unknown> {
  const tensor = (from: string, shape: (number | null)[]) => ({ class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [from, 0, 0] } });
  const dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
  const layer = (class_name: string, config: Record<string, unknown>, from: string | null, shape: (number | null)[]) => ({
    module: 'keras.layers',
    class_name,
    config: { name: config.name, trainable: true, dtype, ...config },
    registered_name: null,
    ...(from ? { build_config: { input_shape: shape } } : {}),
    name: config.name,
    inbound_nodes: from ? [{ args: [tensor(from, shape)], kwargs: {} }] : [],
  });
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'chain',
      trainable: true,
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false, name: 'img' }, registered_name: null, name: 'img', inbound_nodes: [] },
        layer('Conv2D', { name: 'c', filters: 4, kernel_size: [3, 3], groups: 1, data_format: 'channels_last', activation: 'relu', kernel_regularizer: null }, 'img', [null, 8, 8, 3]),
        layer('Flatten', { name: 'f', data_format: 'channels_last' }, 'c', [null, 6, 6, 4]),
        layer('Dense', { name: 'd', units: 5, activation: 'softmax' }, 'f', [null, 144]),
      ],
      input_layers: inputLayers,
      output_layers: ['d', 0, 0],
    },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: null,
  };
}

test("a Keras 3 functional config becomes a Functional spec with tf.keras 2's list-form inbound_nodes", () => {
  for (const inputs of [['img', 0, 0], [['img', 0, 0]]]) {
    const { spec, warnings } = convertKerasConfig(keras3Chain(inputs), 'chain.json');
    assert.deepEqual(warnings, []);
    const f = spec as FunctionalModelSpec;
    assert.equal(f.class_name, 'Functional');
    assert.deepEqual(f.config.input_layers, [['img', 0, 0]]);
    assert.deepEqual(f.config.output_layers, [['d', 0, 0]]);
    assert.deepEqual(
      f.config.layers.map((l) => [l.name, l.class_name, l.inbound_nodes]),
      [
        ['img', 'InputLayer', []],
        ['c', 'Conv2D', [[['img', 0, 0, {}]]]],
        ['f', 'Flatten', [[['c', 0, 0, {}]]]],
        ['d', 'Dense', [[['f', 0, 0, {}]]]],
      ],
    );
    assert.deepEqual(f.config.layers[1]!.config, { name: 'c', filters: 4, kernel_size: [3, 3], activation: 'relu' });
  }
});

test('unsupported models are refused with one message naming the layer, its class and what to do', () => {
  const chain = () => keras3Chain([['img', 0, 0]]) as { config: { layers: Record<string, unknown>[]; input_layers: unknown; output_layers: unknown } };
  const with_ = (edit: (m: ReturnType<typeof chain>) => void) => {
    const m = chain();
    edit(m);
    return m;
  };
  assert.match(
    refusal(with_((m) => Object.assign(m.config.layers[2]!, { class_name: 'Lambda' }))),
    /layer 'f' \(Lambda\): a Lambda layer holds Python code, which cannot be opened — replace it with a built-in layer/,
  );
  assert.match(refusal(with_((m) => Object.assign(m.config.layers[2]!, { class_name: 'Conv1D' }))), /layer 'f' \(Conv1D\): the workbench has no Conv1D layer — replace it with one it has \(.*Conv2D.*\), or export the model without it/);
  assert.match(
    refusal(with_((m) => (m.config.layers[1]!.inbound_nodes = [...(m.config.layers[1]!.inbound_nodes as unknown[]), ...(m.config.layers[1]!.inbound_nodes as unknown[])]))),
    /layer 'c' \(Conv2D\) is called 2 times \(a shared layer\); .* export it with a separate layer per call/,
  );
  assert.match(refusal(with_((m) => (m.config.input_layers = [['img', 0, 0], ['c', 0, 0]]))), /the model has 2 inputs \(img, c\); the workbench takes one input/);
  assert.match(refusal(with_((m) => (m.config.output_layers = [['d', 0, 0], ['f', 0, 0]]))), /the model has 2 outputs \(d, f\)/);
  assert.match(
    refusal(with_((m) => ((m.config.layers[1]!.config as Record<string, unknown>).data_format = 'channels_first'))),
    /layer 'c' \(Conv2D\): data_format "channels_first" is not supported; .* export the model with data_format='channels_last'/,
  );
  assert.match(refusal(with_((m) => ((m.config.layers[1]!.config as Record<string, unknown>).groups = 2))), /layer 'c' \(Conv2D\): groups = 2 \(a grouped convolution\)/);
  assert.match(
    refusal(with_((m) => ((m.config.layers[0]!.config as Record<string, unknown>).batch_shape = [null, null, null, 3]))),
    /layer 'img' \(InputLayer\): input shape \[null,null,3\] has an unknown size; .*Input\(shape=/,
  );
  assert.match(refusal({ class_name: 'MyModel', config: { name: 'x' } }), /only Sequential and Functional models can be opened/);
  assert.match(refusal([1, 2]), /not a Keras model config/);
});

// The residual network of both dialects: Conv2D(16, 3×3) on 1 channel 160; two Conv2D(16→16, 3×3) 2,320 each;
// BatchNormalization(16) 64 twice, (32) 128; the 1×1 projection Conv2D(16→32) 544; Conv2D(16→32, 3×3) 4,640;
// Dense(32→10) 330. Total 10,570; non-trainable: the moving statistics, 2·16 + 2·16 + 2·32 = 128.
for (const name of ['keras3-resnet', 'tfkeras2-resnet']) {
  test(`${name}: opens as a Functional spec with its two Add merges, and Keras' parameter counts`, () => {
    const { spec, warnings } = convertKerasConfig(fixture(name), `${name}.json`);
    assert.deepEqual(warnings, []);
    const f = parseSpec(spec) as FunctionalModelSpec;
    assert.equal(f.class_name, 'Functional');
    const input = name.startsWith('keras3') ? 'input_layer' : 'input_1';
    assert.deepEqual(f.config.input_layers, [[input, 0, 0]]);
    assert.deepEqual(f.config.output_layers, [['dense', 0, 0]]);
    const byName = new Map(f.config.layers.map((l) => [l.name, l]));
    assert.deepEqual(byName.get('add')!.inbound_nodes, [[['conv2d', 0, 0, {}], ['batch_normalization_1', 0, 0, {}]]]);
    assert.deepEqual(byName.get('add_1')!.inbound_nodes, [[['conv2d_3', 0, 0, {}], ['batch_normalization_2', 0, 0, {}]]]);
    // The projection and the main branch both take activation_1's output (a fan-out).
    assert.deepEqual(byName.get('conv2d_3')!.inbound_nodes, [[['activation_1', 0, 0, {}]]]);
    assert.deepEqual(byName.get('conv2d_4')!.inbound_nodes, [[['activation_1', 0, 0, {}]]]);
    assert.deepEqual(byName.get('conv2d_3')!.config, { name: 'conv2d_3', filters: 32, kernel_size: [1, 1], strides: [2, 2], padding: 'valid', dilation_rate: [1, 1], activation: 'linear', use_bias: true, kernel_initializer: 'glorot_uniform', bias_initializer: 'zeros' });
    const summary = summarizeSpec(f);
    assert.equal(summary.ok, true, JSON.stringify(summary.issues));
    assert.equal(summary.totalParams, 10_570);
    assert.equal(summary.nonTrainableParams, 128);
    assert.deepEqual(summary.rows.find((r) => r.name === 'add_1')?.connectedTo, ['conv2d_3', 'batch_normalization_2']);
  });
}

test('the residual network reads the same from Keras 3 and tf.keras 2 (only the input layer is named differently)', () => {
  const strip = (s: FunctionalModelSpec) => JSON.stringify(s.config.layers.slice(1)).replaceAll('"input_layer"', '"input_1"');
  const a = convertKerasConfig(fixture('keras3-resnet'), 'a').spec as FunctionalModelSpec;
  const b = convertKerasConfig(fixture('tfkeras2-resnet'), 'b').spec as FunctionalModelSpec;
  assert.equal(strip(a), strip(b));
});

test('a Keras 3 Sequential without an InputLayer takes its input from build_input_shape; a converted .h5 nests it in model_config', () => {
  const k3 = fixture('keras3-sequential') as { config: { layers: unknown[] } };
  k3.config.layers = k3.config.layers.slice(1);
  const a = parseSpec(convertKerasConfig(k3, 'k3.json').spec) as ModelSpec;
  assert.deepEqual(a.config.layers[0], { class_name: 'InputLayer', config: { name: 'conv2d_input', shape: [28, 28, 1] } });
  assert.equal(a.config.layers.length, 7);
  // tensorflowjs_converter on a Keras .h5: {modelTopology: {keras_version, backend, model_config: {…}}, weightsManifest}.
  const converted = { modelTopology: { keras_version: '2.12.0', backend: 'tensorflow', model_config: fixture('tfkeras2-sequential') }, weightsManifest: [] };
  const b = convertKerasConfig(converted, 'model.json');
  assert.equal(b.dialect, 'tfjs');
  assert.equal(summarizeSpec(b.spec).totalParams, 54_538);
});

test("tf.keras 2's LeakyReLU alpha becomes negative_slope, an activation object its name; a mixed-precision dtype and an L2 regularizer are noted, not refused", () => {
  const m = fixture('tfkeras2-sequential') as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
  m.config.layers.splice(2, 0, { class_name: 'LeakyReLU', config: { name: 'leaky', trainable: true, dtype: 'float32', alpha: 0.1 } });
  m.config.layers[1]!.config.kernel_regularizer = { class_name: 'L2', config: { l2: 1e-4 } };
  m.config.layers[1]!.config.activation = { module: 'keras.activations', class_name: 'function', config: 'relu', registered_name: 'function' };
  m.config.layers[1]!.config.dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'mixed_float16' }, registered_name: null };
  const { spec, warnings } = convertKerasConfig(m, 'm.json');
  assert.deepEqual((spec as ModelSpec).config.layers[2]!.config, { name: 'leaky', negative_slope: 0.1 });
  assert.equal((spec as ModelSpec).config.layers[1]!.config.activation, 'relu');
  assert.deepEqual(warnings, [
    "layer 'conv2d' (Conv2D): dtype 'mixed_float16' ignored; the workbench computes in float32",
    "layer 'conv2d' (Conv2D): kernel_regularizer L2 ignored; the workbench trains without weight penalties or constraints (the network computes the same)",
  ]);
});
