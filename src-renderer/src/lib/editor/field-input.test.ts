import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYER_FIELDS, COMMON_LAYER_FIELDS } from '$shared/layer-fields';
import type { FieldDescriptor } from '$shared/spec';
import { fieldPlaceholder, formatFieldValue, parseFieldInput, starterConfig } from './field-input';

const field = (cls: keyof typeof LAYER_FIELDS, name: string): FieldDescriptor => {
  const d = [...LAYER_FIELDS[cls], ...COMMON_LAYER_FIELDS].find((f) => f.name === name);
  assert.ok(d, `${cls}.${name} is in the shared field table`);
  return d;
};

test('pairs accept one number or two, written several ways, and round-trip', () => {
  const pool = field('MaxPooling2D', 'pool_size');
  assert.deepEqual(parseFieldInput(pool, '2'), { ok: true, value: 2 });
  assert.deepEqual(parseFieldInput(pool, '2, 3'), { ok: true, value: [2, 3] });
  assert.deepEqual(parseFieldInput(pool, '[5,5]'), { ok: true, value: [5, 5] });
  assert.deepEqual(parseFieldInput(pool, '2x2'), { ok: true, value: [2, 2] });
  assert.equal(formatFieldValue([2, 3]), '2, 3');
  const bad = parseFieldInput(pool, '2.5');
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.error, /^pool_size must be a whole number or two .*received "2\.5"$/);
});

test('empty text omits an optional field and is refused for a required one', () => {
  assert.deepEqual(parseFieldInput(field('Conv2D', 'strides'), '  '), { ok: true, value: undefined });
  const r = parseFieldInput(field('Conv2D', 'filters'), '');
  assert.deepEqual(r, { ok: false, error: 'filters is required (Keras has no default)' });
});

test('numbers, shapes, padding and enums parse by kind', () => {
  assert.deepEqual(parseFieldInput(field('Conv2D', 'filters'), '64'), { ok: true, value: 64 });
  assert.equal(parseFieldInput(field('Conv2D', 'filters'), '6.4').ok, false);
  assert.deepEqual(parseFieldInput(field('Dropout', 'rate'), '0.25'), { ok: true, value: 0.25 });
  assert.deepEqual(parseFieldInput(field('InputLayer', 'shape'), '28, 28, 1'), { ok: true, value: [28, 28, 1] });
  assert.deepEqual(parseFieldInput(field('ZeroPadding2D', 'padding'), '1, 1, 2, 2'), { ok: true, value: [[1, 1], [2, 2]] });
  assert.deepEqual(parseFieldInput(field('Conv2D', 'padding'), 'same'), { ok: true, value: 'same' });
  assert.equal(parseFieldInput(field('Conv2D', 'padding'), 'full').ok, false);
  assert.deepEqual(parseFieldInput(field('Dense', 'use_bias'), 'false'), { ok: true, value: false });
  assert.deepEqual(parseFieldInput(field('Dense', 'name'), ' class_prob '), { ok: true, value: 'class_prob' });
});

test('placeholders show the Keras default, and new layers get only their required fields', () => {
  assert.equal(fieldPlaceholder(field('Conv2D', 'strides')), 'default: 1');
  assert.equal(fieldPlaceholder(field('Conv2D', 'padding')), 'default: valid');
  assert.equal(fieldPlaceholder(field('Conv2D', 'filters')), 'required, e.g. 32');
  assert.deepEqual(starterConfig(LAYER_FIELDS.Conv2D), { filters: 32, kernel_size: 3 });
  assert.deepEqual(starterConfig(LAYER_FIELDS.Flatten), {});
});
