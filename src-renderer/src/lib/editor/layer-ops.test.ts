import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerSpec, ModelSpec } from '$shared/spec';
import { autoNames, duplicateLayer, emptySpec, freeName, insertLayer, moveLayer, removeLayer, setLayerField } from './layer-ops';

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

test('auto names follow Keras: per-class counters that skip names given explicitly', () => {
  let spec = emptySpec('m');
  const add = (class_name: LayerSpec['class_name'], config: LayerSpec['config'] = {}): void => {
    spec = insertLayer(spec, { class_name, config }, spec.config.layers.length).spec;
  };
  add('InputLayer', { name: 'image' });
  add('Conv2D');
  add('Conv2D', { name: 'conv2d_1' });
  add('Conv2D');
  add('MaxPooling2D');
  add('LeakyReLU');
  add('Dense', { name: 'class_prob' });
  assert.deepEqual(autoNames(spec), ['image', 'conv2d', 'conv2d_1', 'conv2d_2', 'max_pooling2d', 'leaky_re_lu', 'class_prob']);
  assert.equal(autoNames(spec, 6)[6], 'dense', 'the name the output layer would get without its explicit one');
  assert.equal(autoNames(spec, 2)[2], 'conv2d_1');
});
