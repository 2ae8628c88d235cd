import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSpec } from '../../../../src-main/shared/spec';
import { defaultNameStem, duplicateLayer, emptySpec, freeName, insertLayer, moveLayer, removeLayer, setLayerField } from './layer-ops';

function threeLayers(): ModelSpec {
  let spec = emptySpec('m');
  spec = insertLayer(spec, { class_name: 'InputLayer', config: { shape: [28, 28, 1], name: 'image' } }, 0).spec;
  spec = insertLayer(spec, { class_name: 'Flatten', config: {} }, 1).spec;
  spec = insertLayer(spec, { class_name: 'Dense', config: { units: 10, activation: 'softmax', name: 'class_prob' } }, 2).spec;
  return spec;
}
const classes = (s: ModelSpec): string[] => s.config.layers.map((l) => l.class_name);

test('insert places the layer at the index, clamps, and never mutates the input', () => {
  const spec = threeLayers();
  const before = JSON.stringify(spec);
  const r = insertLayer(spec, { class_name: 'Dropout', config: { rate: 0.4 } }, 2);
  assert.deepEqual(classes(r.spec), ['InputLayer', 'Flatten', 'Dropout', 'Dense']);
  assert.equal(r.index, 2);
  assert.equal(JSON.stringify(spec), before);
  assert.equal(insertLayer(spec, { class_name: 'Dropout', config: {} }, 99).index, 3);
});

test('remove and move reorder as asked', () => {
  const spec = threeLayers();
  assert.deepEqual(classes(removeLayer(spec, 1)), ['InputLayer', 'Dense']);
  assert.deepEqual(classes(moveLayer(spec, 2, 1)), ['InputLayer', 'Dense', 'Flatten']);
  assert.deepEqual(classes(moveLayer(spec, 0, 2)), ['Flatten', 'Dense', 'InputLayer']);
  assert.equal(moveLayer(spec, 1, 1), spec);
  assert.throws(() => removeLayer(spec, 3), /\[0, 2\], received 3/);
});

test('duplicate copies the config deeply and renames a named layer', () => {
  const spec = threeLayers();
  const r = duplicateLayer(spec, 0);
  assert.equal(r.index, 1);
  assert.equal(r.spec.config.layers[1].config.name, 'image_1');
  assert.deepEqual(r.spec.config.layers[1].config.shape, [28, 28, 1]);
  assert.notEqual(r.spec.config.layers[1].config.shape, spec.config.layers[0].config.shape);
  assert.equal(freeName(r.spec, 'image_1'), 'image_2');
  assert.equal(duplicateLayer(spec, 1).spec.config.layers[2].config.name, undefined, 'an unnamed layer stays unnamed');
});

test('setting a field to undefined removes it so the Keras default applies', () => {
  const spec = threeLayers();
  const withRate = setLayerField(spec, 2, 'use_bias', false);
  assert.equal(withRate.config.layers[2].config.use_bias, false);
  const cleared = setLayerField(withRate, 2, 'use_bias', undefined);
  assert.equal('use_bias' in cleared.config.layers[2].config, false);
  assert.equal('use_bias' in spec.config.layers[2].config, false);
});

test('default name stems are spelt as Keras spells them', () => {
  assert.equal(defaultNameStem('Conv2D'), 'conv2d');
  assert.equal(defaultNameStem('MaxPooling2D'), 'max_pooling2d');
  assert.equal(defaultNameStem('BatchNormalization'), 'batch_normalization');
  assert.equal(defaultNameStem('LeakyReLU'), 'leaky_re_lu');
  assert.equal(defaultNameStem('GlobalAveragePooling2D'), 'global_average_pooling2d');
});
