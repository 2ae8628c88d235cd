import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LayerSpec } from '$shared/spec';
import { describeLayer, layerCaption } from './layer-caption';

const layer = (class_name: LayerSpec['class_name'], config: LayerSpec['config']): LayerSpec => ({ class_name, config });

test('a row caption tells a relu Activation from a linear one', () => {
  assert.equal(layerCaption(layer('Activation', { activation: 'relu' })), 'relu');
  assert.equal(layerCaption(layer('Activation', {})), 'linear');
});

test('convolutions show filters, kernel, non-default strides and dilation, padding and activation', () => {
  assert.equal(layerCaption(layer('Conv2D', { filters: 32, kernel_size: 3, padding: 'same', activation: 'relu' })), '32 3×3 same relu');
  assert.equal(layerCaption(layer('Conv2D', { filters: 8, kernel_size: [5, 3], strides: 2, dilation_rate: [1, 1] })), '8 5×3 stride 2×2');
  assert.equal(layerCaption(layer('Conv2D', { filters: 8, kernel_size: 3, strides: [1, 1], dilation_rate: 2 })), '8 3×3 dilation 2×2');
});

test('other classes: units, rate, pool, slope, input shape, frozen', () => {
  assert.equal(layerCaption(layer('Dense', { units: 10, activation: 'softmax' })), '10 softmax');
  assert.equal(layerCaption(layer('Dropout', { rate: 0.25 })), 'rate 0.25');
  assert.equal(layerCaption(layer('MaxPooling2D', { pool_size: [2, 2] })), 'pool 2×2');
  assert.equal(layerCaption(layer('LeakyReLU', { negative_slope: 0.1 })), 'slope 0.1');
  assert.equal(layerCaption(layer('InputLayer', { shape: [28, 28, 1] })), '(28, 28, 1)');
  assert.equal(layerCaption(layer('Dense', { units: 4, trainable: false })), '4 frozen');
  assert.equal(layerCaption(layer('Flatten', {})), '');
});

test('describeLayer prefixes the class name', () => {
  assert.equal(describeLayer(layer('Conv2D', { filters: 32, kernel_size: 3, padding: 'same' })), 'Conv2D 32 3×3 same');
});
