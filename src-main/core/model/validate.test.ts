import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerSpec, ModelSpec, SpecIssue } from '../../shared/spec';
import { summarizeSpec } from './index';

const layer = (class_name: string, config: Record<string, unknown> = {}): LayerSpec => ({ class_name, config }) as LayerSpec;
const model = (...layers: LayerSpec[]): ModelSpec => ({ format_version: 1, class_name: 'Sequential', config: { name: 'm', layers } });
const input = (shape: number[] = [28, 28, 1]) => layer('InputLayer', { name: 'image', shape });
const head = [layer('Flatten'), layer('Dense', { units: 10, activation: 'softmax' })];
const errors = (spec: unknown): SpecIssue[] => summarizeSpec(spec).issues.filter((i) => i.severity === 'error');
const warnings = (spec: unknown): SpecIssue[] => summarizeSpec(spec).issues.filter((i) => i.severity === 'warning');

/** Exactly one error, on this layer and field, quoting the value; returns it for message checks. */
function oneError(spec: unknown, layerIndex: number | null, field: string | null, received: string | null): SpecIssue {
  const errs = errors(spec);
  assert.equal(errs.length, 1, `expected one error, got:\n${errs.map((e) => e.message).join('\n')}`);
  const [e] = errs;
  assert.equal(e.layerIndex, layerIndex);
  assert.equal(e.field, field);
  assert.equal(e.received, received);
  if (layerIndex !== null) assert.match(e.message, new RegExp(`^Layer ${layerIndex} '${e.layerName}' \\(`));
  return e;
}

test('a valid spec has no issues and one row per layer', () => {
  const s = summarizeSpec(model(input(), layer('Conv2D', { filters: 4, kernel_size: 3 }), ...head));
  assert.equal(s.ok, true);
  assert.deepEqual(s.issues, []);
  assert.equal(s.rows.length, 4);
});

test('a 2x2 pool on a 1x1 input is an error naming the pool and the input size', () => {
  const e = oneError(model(input([1, 1, 8]), layer('MaxPooling2D', { pool_size: [2, 2] }), ...head), 1, 'pool_size', '[2,2]');
  assert.match(e.message, /2x2 pool is larger than its 1x1 input with padding 'valid'/);
  assert.equal(e.layerName, 'max_pooling2d');
});

test("the same pool with padding 'same' is fine", () => {
  assert.deepEqual(errors(model(input([1, 1, 8]), layer('MaxPooling2D', { padding: 'same' }), ...head)), []);
});

test("a kernel larger than its input with 'valid' padding is an error (dilation counted)", () => {
  const e = oneError(model(input([4, 4, 1]), layer('Conv2D', { filters: 2, kernel_size: 5 }), ...head), 1, 'kernel_size', '5');
  assert.match(e.message, /5x5 kernel is larger than its 4x4 input/);
  const d = oneError(model(input([4, 4, 1]), layer('Conv2D', { filters: 2, kernel_size: 3, dilation_rate: 2 }), ...head), 1, 'kernel_size', '3');
  assert.match(d.message, /5x5 once dilated/);
});

test('Dense on a 4-D input without Flatten is an error that suggests Flatten', () => {
  const e = oneError(model(input(), layer('Dense', { units: 10, activation: 'softmax' })), 1, null, null);
  assert.match(e.message, /needs a flat input .* received \(None, 28, 28, 1\) — add a Flatten/);
});

test("an unknown activation is an error quoting it and listing the known ones, Keras-style", () => {
  const e = oneError(model(input(), layer('Conv2D', { filters: 2, kernel_size: 3, activation: 'relu6' }), ...head), 1, 'activation', '"relu6"');
  assert.match(e.message, /Unknown activation: 'relu6'\. Known: relu, elu, selu, gelu, swish, sigmoid, tanh, softmax, linear/);
});

test('an unknown layer class is an error quoting it, and does not cascade into later layers', () => {
  const e = oneError(model(input(), layer('Conv3D', { filters: 2 }), ...head), 1, 'class_name', '"Conv3D"');
  assert.match(e.message, /Unknown layer class: 'Conv3D'\. Known: InputLayer, .*\bConv2D\b/);
});

test('negative, zero and non-integer units or filters are errors, all reported at once', () => {
  const spec = model(
    input(),
    layer('Conv2D', { filters: 0, kernel_size: 3 }),
    layer('Conv2D', { filters: 2.5, kernel_size: 3 }),
    layer('Flatten'),
    layer('Dense', { units: -3 }),
    layer('Dense', { units: 10, activation: 'softmax' }),
  );
  const errs = errors(spec);
  assert.deepEqual(
    errs.map((e) => [e.layerIndex, e.field, e.received]),
    [
      [1, 'filters', '0'],
      [2, 'filters', '2.5'],
      [4, 'units', '-3'],
    ],
  );
  for (const e of errs) assert.match(e.message, /must be an integer ≥ 1/);
});

test('a dropout rate outside [0, 1) is an error (Dropout and SpatialDropout2D)', () => {
  for (const rate of [1, -0.1, 1.5]) {
    const e = oneError(model(input(), layer('Dropout', { rate }), ...head), 1, 'rate', JSON.stringify(rate));
    assert.match(e.message, /must be a number in \[0, 1\)/);
    oneError(model(input(), layer('SpatialDropout2D', { rate }), ...head), 1, 'rate', JSON.stringify(rate));
  }
  assert.deepEqual(errors(model(input(), layer('Dropout', { rate: 0 }), ...head)), []);
});

test('a missing InputLayer, or an InputLayer without a shape, is an error', () => {
  const e = oneError(model(layer('Conv2D', { filters: 2, kernel_size: 3 }), ...head), 0, null, null);
  assert.match(e.message, /no InputLayer/);
  const s = oneError(model(layer('InputLayer', { name: 'image' }), ...head), 0, 'shape', null);
  assert.match(s.message, /input shape is missing/);
  oneError(model(input([28, 0, 1]), ...head), 0, 'shape', '[28,0,1]');
});

test('Keras batch_shape is accepted in place of shape', () => {
  const s = summarizeSpec(model(layer('InputLayer', { batch_shape: [null, 8, 8, 3] }), ...head));
  assert.equal(s.ok, true);
  assert.deepEqual(s.rows[0].outputShape, [null, 8, 8, 3]);
});

test('duplicate layer names are an error naming both layers', () => {
  const e = oneError(model(input(), layer('Conv2D', { name: 'c', filters: 2, kernel_size: 3 }), layer('Conv2D', { name: 'c', filters: 2, kernel_size: 3 }), ...head), 2, 'name', '"c"');
  assert.match(e.message, /duplicate layer name: layer 1 already has it/);
});

test('auto names follow Keras (conv2d, conv2d_1) and skip names already given', () => {
  const s = summarizeSpec(model(input(), layer('Conv2D', { filters: 2, kernel_size: 3 }), layer('Conv2D', { name: 'conv2d_1', filters: 2, kernel_size: 3 }), layer('Conv2D', { filters: 2, kernel_size: 3 }), ...head));
  assert.deepEqual(
    s.rows.map((r) => r.name),
    ['image', 'conv2d', 'conv2d_1', 'conv2d_2', 'flatten', 'dense'],
  );
});

test('a missing softmax output for the categorical loss is a warning, not an error', () => {
  const spec = model(input(), layer('Flatten'), layer('Dense', { units: 10 }));
  const s = summarizeSpec(spec);
  assert.equal(s.ok, true);
  const [w] = warnings(spec);
  assert.equal(w.layerIndex, 2);
  assert.equal(w.field, 'activation');
  assert.equal(w.received, '"linear"');
  assert.match(w.message, /not softmax/);
  assert.deepEqual(warnings(model(input(), layer('Flatten'), layer('Dense', { units: 10 }), layer('Activation', { activation: 'softmax' }))), []);
});

test('a model whose output is not (None, classes) is an error; numClasses is checked when given', () => {
  const e = oneError(model(input(), layer('Conv2D', { filters: 2, kernel_size: 3, activation: 'softmax' })), 1, null, '[null,26,26,2]');
  assert.match(e.message, /must be \(None, classes\)/);
  // An unfinished model: still an error (it cannot train), marked so the editor shows it as a next step.
  assert.equal(e.incomplete, true);
  const spec = model(input(), layer('Flatten'), layer('Dense', { units: 7, activation: 'softmax' }));
  assert.equal(summarizeSpec(spec).ok, true);
  const errs = summarizeSpec(spec, { numClasses: 10 }).issues.filter((i) => i.severity === 'error');
  assert.equal(errs.length, 1);
  assert.match(errs[0].message, /outputs 7 values per image but the dataset has 10 classes/);
});

test('a Flatten with nothing to flatten is a warning; Dense producing no units is an error', () => {
  const w = warnings(model(input(), layer('Flatten'), layer('Flatten', { name: 'again' }), layer('Dense', { units: 10, activation: 'softmax' })));
  assert.equal(w.length, 1);
  assert.match(w[0].message, /^Layer 2 'again' \(Flatten\): its input \(None, 784\) is already flat/);
  oneError(model(input(), layer('Flatten'), layer('Dense', { units: 0 }), layer('Dense', { units: 10, activation: 'softmax' })), 2, 'units', '0');
});

test('unknown config fields are warnings naming the field and the known ones', () => {
  const spec = model(input(), layer('Conv2D', { filters: 2, kernel_size: 3, filter: 8 }), ...head);
  assert.equal(summarizeSpec(spec).ok, true);
  const [w] = warnings(spec);
  assert.equal(w.field, 'filter');
  assert.equal(w.received, '8');
  assert.match(w.message, /unknown config field for Conv2D, ignored \(known: filters, kernel_size/);
});

test('every problem is reported at once, and one error does not cascade into bogus later errors', () => {
  // A too-large kernel makes the spatial size unknown: the pool after it must not also complain, but the
  // Dense with bad units further on, and the bad dropout rate, are real problems of their own.
  const spec = model(
    input(),
    layer('Conv2D', { filters: 8, kernel_size: 30 }),
    layer('MaxPooling2D'),
    layer('Dropout', { rate: 2 }),
    layer('Flatten'),
    layer('Dense', { units: -1 }),
    layer('Dense', { units: 10, activation: 'softmax' }),
  );
  const s = summarizeSpec(spec);
  assert.deepEqual(
    s.issues.map((i) => [i.severity, i.layerIndex, i.field]),
    [
      ['error', 1, 'kernel_size'],
      ['error', 3, 'rate'],
      ['error', 5, 'units'],
    ],
  );
  // Rows stop before the first error; totals sum those rows.
  assert.deepEqual(
    s.rows.map((r) => r.index),
    [0],
  );
  assert.equal(s.totalParams, 0);
});

test('a Dense after a broken conv still checks its own input width', () => {
  const s = summarizeSpec(model(input(), layer('Conv2D', { filters: 8, kernel_size: 99 }), layer('Flatten'), layer('Dense', { units: 5 }), layer('Dense', { units: 10, activation: 'softmax' })));
  assert.deepEqual(
    s.issues.filter((i) => i.severity === 'error').map((i) => i.layerIndex),
    [1],
  );
});

test('a conv after Flatten is a rank error suggesting to move it', () => {
  const e = oneError(model(input(), layer('Flatten'), layer('Conv2D', { filters: 2, kernel_size: 3 }), layer('Flatten', { name: 'f2' }), layer('Dense', { units: 10, activation: 'softmax' })), 2, null, null);
  assert.match(e.message, /needs a 3-D input \(height, width, channels\); received \(None, 784\)/);
});

test('strides > 1 with dilation > 1 is refused, as Keras and tfjs do', () => {
  oneError(model(input(), layer('Conv2D', { filters: 2, kernel_size: 3, strides: 2, dilation_rate: 2 }), ...head), 1, 'dilation_rate', '2');
});

test("an unknown field's value is echoed cut short, however long it is", () => {
  const huge = 'x'.repeat(5_000_000);
  const spec = { ...model(input(), layer('Dense', { units: 10, activation: 'softmax', typo: huge })), extra: huge };
  const ws = warnings(spec);
  assert.deepEqual(ws.map((w) => w.field).sort(), ['extra', 'typo']);
  for (const w of ws) {
    assert.ok(w.message.length < 400, `a message of ${w.message.length} characters`);
    assert.ok((w.received ?? '').length < 200);
    assert.match(w.received ?? '', /^"xxx.*… \(a string of 5000000 characters\)$/);
  }
});

test('a spec nested 5,000 deep is one clear error, not a stack overflow', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 5000; i++) deep = [deep];
  const s = summarizeSpec({ ...model(input(), ...head), extra: deep });
  assert.equal(s.ok, false);
  assert.match(s.issues.map((i) => i.message).join('\n'), /Model spec: nested more than 64 levels deep/);
  const inLayer = summarizeSpec(model(input(), layer('Dense', { units: 10, activation: 'softmax', kernel_size: deep })));
  assert.equal(inLayer.ok, false);
});

test('summarizeSpec never throws, whatever it is given', () => {
  for (const bad of [null, undefined, 42, 'spec', [], {}, { format_version: 1, class_name: 'Sequential', config: { name: 'x', layers: 'no' } }, { format_version: 1, class_name: 'Functional', config: { name: 'x', layers: [null, 3] } }]) {
    const s = summarizeSpec(bad);
    assert.equal(s.ok, false, JSON.stringify(bad));
    assert.ok(s.issues.length > 0);
    for (const i of s.issues) assert.doesNotMatch(i.message, /\n\s+at /, 'no stack traces');
  }
});

test('envelope problems are all reported: version, class name, missing name', () => {
  const errs = errors({ format_version: 99, class_name: 'Model', config: { layers: [input(), ...head] } });
  assert.deepEqual(
    errs.map((e) => e.field),
    ['format_version', 'class_name', 'config.name'],
  );
});

test('trainable: false moves a layer\'s params to non-trainable', () => {
  const s = summarizeSpec(model(input(), layer('Conv2D', { filters: 4, kernel_size: 3, trainable: false }), ...head));
  assert.equal(s.rows[1].trainableParams, 0);
  assert.equal(s.rows[1].nonTrainableParams, s.rows[1].params);
  assert.equal(s.nonTrainableParams, s.rows[1].params);
});

test("LeakyReLU accepts Keras 2's alpha; a negative slope is an error", () => {
  assert.equal(summarizeSpec(model(input(), layer('LeakyReLU', { alpha: 0.2 }), ...head)).ok, true);
  oneError(model(input(), layer('LeakyReLU', { negative_slope: -1 }), ...head), 1, 'negative_slope', '-1');
});

test('channels_first is refused with the field named', () => {
  oneError(model(input(), layer('Conv2D', { filters: 2, kernel_size: 3, data_format: 'channels_first' }), ...head), 1, 'data_format', '"channels_first"');
});

test("pooling strides default to the pool size (Keras None), and follow Keras' output-length formula", () => {
  const out = (cfg: Record<string, unknown>) => summarizeSpec(model(input(), layer('MaxPooling2D', cfg), ...head)).rows[1].outputShape;
  assert.deepEqual(out({ pool_size: 3 }), [null, 9, 9, 1]);
  assert.deepEqual(out({ pool_size: 3, strides: null }), [null, 9, 9, 1]);
  assert.deepEqual(out({ pool_size: 3, strides: 2 }), [null, 13, 13, 1]);
  assert.deepEqual(out({ pool_size: 3, strides: 2, padding: 'same' }), [null, 14, 14, 1]);
  assert.deepEqual(out({ pool_size: [2, 4] }), [null, 14, 7, 1]);
});
