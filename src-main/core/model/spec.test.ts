import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ModelSpec } from '../../shared/spec';
import { LAYER_CLASS_NAMES } from '../../shared/spec';
import { LAYER_FIELDS } from '../../shared/layer-fields';
import { SpecError, TEMPLATES, layerFields, parseSpec, summarizeSpec, withDefaults } from './index';

test('the templates exist, load from examples/*.json, and are valid', () => {
  assert.deepEqual(
    TEMPLATES.map((t) => t.id),
    ['lesson-cnn', 'small-cnn', 'lenet5', 'small-mlp', 'small-resnet', 'inception-blocks'],
  );
  for (const t of TEMPLATES) {
    const file = JSON.parse(readFileSync(new URL(`../../../examples/${t.id}.json`, import.meta.url), 'utf8'));
    assert.deepEqual(t.spec, file, `${t.id} is examples/${t.id}.json`);
    const s = summarizeSpec(t.spec);
    assert.deepEqual(s.issues, [], `${t.id}: ${s.issues.map((i) => i.message).join('; ')}`);
  }
});

test('small-cnn has no BatchNorm and stays a few tens of thousands of parameters', () => {
  const spec = TEMPLATES.find((t) => t.id === 'small-cnn')?.spec as ModelSpec;
  assert.ok(spec.config.layers.every((l) => l.class_name !== 'BatchNormalization'));
  const { totalParams } = summarizeSpec(spec);
  assert.ok(totalParams > 10_000 && totalParams < 60_000, String(totalParams));
});

test('parseSpec round-trips every template through JSON unchanged', () => {
  for (const t of TEMPLATES) {
    const again = parseSpec(JSON.parse(JSON.stringify(t.spec)));
    assert.deepEqual(again, t.spec);
    assert.notEqual(again, t.spec, 'a copy, not the same object');
    assert.deepEqual(parseSpec(JSON.parse(JSON.stringify(withDefaults(t.spec)))), withDefaults(t.spec), `${t.id} with defaults`);
  }
});

test('parseSpec throws a SpecError listing every structural problem at once', () => {
  const bad = {
    format_version: 1,
    class_name: 'Sequential',
    config: {
      name: 'bad',
      layers: [
        { class_name: 'InputLayer', config: { shape: [28, 28, 1] } },
        { class_name: 'Conv2D', config: { filters: '32', kernel_size: 3, activation: 'relu6' } },
        { class_name: 'Conv3D', config: {} },
        { class_name: 'Dropout', config: { rate: 1 } },
      ],
    },
  };
  assert.throws(
    () => parseSpec(bad),
    (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.deepEqual(
        err.issues.map((i) => [i.layerIndex, i.field, i.received]),
        [
          [1, 'filters', '"32"'],
          [1, 'activation', '"relu6"'],
          [2, 'class_name', '"Conv3D"'],
          [3, 'rate', '1'],
        ],
      );
      assert.match(err.message, /^Not a valid model spec \(4 problems\):/);
      return true;
    },
  );
});

test('parseSpec accepts shape problems (the editor must load half-finished models); summarizeSpec reports them', () => {
  const spec = { format_version: 1, class_name: 'Sequential', config: { name: 'wip', layers: [{ class_name: 'InputLayer', config: { shape: [28, 28, 1] } }, { class_name: 'Dense', config: { units: 10 } }] } };
  assert.deepEqual(parseSpec(spec), spec);
  assert.equal(summarizeSpec(spec).ok, false);
});

test('parseSpec rejects a non-object, a wrong envelope and an empty model', () => {
  for (const bad of [null, 'x', { class_name: 'Sequential' }, { format_version: 1, class_name: 'Sequential', config: { name: 'e', layers: [] } }]) {
    assert.throws(() => parseSpec(bad), SpecError);
  }
});

test('withDefaults fills every omitted field with the Keras default and names every layer', () => {
  const spec: ModelSpec = {
    format_version: 1,
    class_name: 'Sequential',
    config: {
      name: 'd',
      layers: [
        { class_name: 'InputLayer', config: { batch_shape: [null, 28, 28, 1] } },
        { class_name: 'Conv2D', config: { filters: 8, kernel_size: 3 } },
        { class_name: 'BatchNormalization', config: {} },
        { class_name: 'LeakyReLU', config: { alpha: 0.2 } },
        { class_name: 'MaxPooling2D', config: { pool_size: 3 } },
        { class_name: 'ZeroPadding2D', config: { padding: [1, 2] } },
        { class_name: 'Flatten', config: {} },
        { class_name: 'Dense', config: { units: 10, activation: 'softmax' } },
      ],
    },
  };
  const [input, conv, bn, leaky, pool, pad, flat, dense] = withDefaults(spec).config.layers.map((l) => l.config);
  assert.deepEqual(input, { batch_shape: [null, 28, 28, 1], shape: [28, 28, 1], name: 'input_layer', trainable: true });
  assert.deepEqual(conv, {
    name: 'conv2d',
    trainable: true,
    filters: 8,
    kernel_size: [3, 3],
    strides: [1, 1],
    padding: 'valid',
    dilation_rate: [1, 1],
    activation: 'linear',
    use_bias: true,
    kernel_initializer: 'glorot_uniform',
    bias_initializer: 'zeros',
  });
  assert.deepEqual(bn, { name: 'batch_normalization', trainable: true, momentum: 0.99, epsilon: 1e-3, center: true, scale: true });
  assert.deepEqual(leaky, { name: 'leaky_re_lu', trainable: true, negative_slope: 0.2 });
  assert.deepEqual(pool, { name: 'max_pooling2d', trainable: true, pool_size: [3, 3], strides: [3, 3], padding: 'valid' });
  assert.deepEqual(pad.padding, [
    [1, 1],
    [2, 2],
  ]);
  assert.equal(flat.name, 'flatten');
  assert.equal(dense.use_bias, true);
  assert.equal(spec.config.layers[1].config.strides, undefined, 'the input is not modified');
  // Filling defaults changes nothing about the model.
  assert.deepEqual(summarizeSpec(withDefaults(spec)).rows, summarizeSpec(spec).rows);
});

test("LeakyReLU's default slope is Keras 3's 0.3", () => {
  const spec = withDefaults({ format_version: 1, class_name: 'Sequential', config: { name: 'l', layers: [{ class_name: 'LeakyReLU', config: {} }] } });
  assert.equal(spec.config.layers[0].config.negative_slope, 0.3);
});

test('layerFields describes every class from the shared table, with Keras defaults and ranges', () => {
  for (const c of LAYER_CLASS_NAMES) assert.deepEqual(layerFields(c), LAYER_FIELDS[c]);
  const conv = layerFields('Conv2D');
  assert.deepEqual(
    conv.map((f) => f.name),
    ['filters', 'kernel_size', 'strides', 'padding', 'dilation_rate', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer'],
  );
  const padding = conv.find((f) => f.name === 'padding');
  assert.deepEqual([padding?.kind, padding?.default, padding?.values], ['enum', 'valid', ['valid', 'same']]);
  const rate = layerFields('Dropout')[0];
  assert.deepEqual([rate.kind, rate.required, rate.min, rate.max, rate.maxExclusive], ['float', true, 0, 1, true]);
  const bn = layerFields('BatchNormalization');
  assert.deepEqual(
    bn.map((f) => [f.name, f.default]),
    [
      ['momentum', 0.99],
      ['epsilon', 0.001],
      ['center', true],
      ['scale', true],
    ],
  );
  assert.throws(() => layerFields('Conv3D' as never), /Unknown layer class: 'Conv3D'/);
});

test('every required field has a suggested value for the form to prefill', () => {
  for (const c of LAYER_CLASS_NAMES) {
    for (const f of layerFields(c)) {
      if (f.required) assert.notEqual(f.suggested, undefined, `${c}.${f.name}`);
    }
  }
});
