import assert from 'node:assert/strict';
import test from 'node:test';
import { SPEC_FORMAT_VERSION, type LayerSpec, type ModelSpec } from '$shared/spec';
import { previewKey } from './preview-key';

const spec = (layers: LayerSpec[]): ModelSpec => ({ format_version: SPEC_FORMAT_VERSION, class_name: 'Sequential', config: { name: 'm', layers } });
const input: LayerSpec = { class_name: 'InputLayer', config: { shape: [16, 16, 3] } };
const flip: LayerSpec = { class_name: 'RandomFlip', config: { mode: 'horizontal' } };
const dense = (units: number): LayerSpec => ({ class_name: 'Dense', config: { units, activation: 'softmax' } });

test('no leading augmentation layer: nothing to preview', () => {
  assert.equal(previewKey(spec([input, dense(3)]), 'shapes', 0, 1), null);
  // An augmentation layer after the first non-preprocessing layer is not previewed.
  assert.equal(previewKey(spec([input, dense(3), flip]), 'shapes', 0, 1), null);
});

test('edits below the augmentation layers keep the key; their settings, the data, the image and the seed change it', () => {
  const base = previewKey(spec([input, flip, dense(3)]), 'shapes', 0, 1);
  assert.ok(base);
  assert.equal(previewKey(spec([input, flip, dense(10)]), 'shapes', 0, 1), base);
  assert.notEqual(previewKey(spec([input, { class_name: 'RandomFlip', config: { mode: 'vertical' } }, dense(3)]), 'shapes', 0, 1), base);
  assert.notEqual(previewKey(spec([input, flip, dense(3)]), 'other', 0, 1), base);
  assert.notEqual(previewKey(spec([input, flip, dense(3)]), 'shapes', 1, 1), base);
  assert.notEqual(previewKey(spec([input, flip, dense(3)]), 'shapes', 0, 2), base);
});
