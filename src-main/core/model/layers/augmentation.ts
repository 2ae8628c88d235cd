/**
 * The random augmentation layers' core half (their fields: shared/layers/augmentation.ts; the tfjs layers:
 * tfjs-layers/augmentation.ts). They are the identity at inference, so the ONNX graph leaves them out; the Keras
 * and R scripts keep them, with `value_range=(0, 1)` where Keras needs to know the workbench's pixel range.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Arg } from '../../export/keras-args';
import { RandomBrightness, RandomContrast, RandomFlip, RandomLayer, RandomRotation, RandomTranslation, RandomZoom } from '../tfjs-layers/augmentation';
import { defineCore, num, type AugmentStage, type TfConfig } from './kit';

const geometricArgs = (c: TfConfig): [string, Arg][] => [
  ['fill_mode', String(c.fillMode ?? 'reflect')],
  ['interpolation', String(c.interpolation ?? 'bilinear')],
  ['fill_value', num(c.fillValue, 0)],
];
const identity = { onnx: (step: { x: string }) => step.x };
/** Leading random layers run in the native augmentation pass, with the parameters the tfjs layer itself draws. */
const nativePass = {
  augment(layer: tf.layers.Layer): AugmentStage {
    if (!(layer instanceof RandomLayer)) throw new TypeError(`layer '${layer.name}' is not a workbench augmentation layer`);
    return { code: layer.nativeCode(), draw: (n, h, w) => layer.draw(n, h, w) };
  },
};

export const randomFlipCore = defineCore<'RandomFlip'>({
  build: (c, ctx) => new RandomFlip({ ...ctx.base, mode: c.mode, seed: ctx.seed(0) }),
  kerasArgs: (c) => [['mode', String(c.mode ?? 'horizontal_and_vertical')]],
  rFunction: 'layer_random_flip',
  ...identity,
  fused: nativePass,
});

export const randomRotationCore = defineCore<'RandomRotation'>({
  build: (c, ctx) => new RandomRotation({ ...ctx.base, factor: c.factor, fillMode: c.fill_mode, interpolation: c.interpolation, fillValue: c.fill_value, seed: ctx.seed(0) }),
  kerasArgs: (c) => [['factor', num(c.factor, 0)], ...geometricArgs(c)],
  rFunction: 'layer_random_rotation',
  ...identity,
  fused: nativePass,
});

export const randomTranslationCore = defineCore<'RandomTranslation'>({
  build: (c, ctx) =>
    new RandomTranslation({ ...ctx.base, heightFactor: c.height_factor, widthFactor: c.width_factor, fillMode: c.fill_mode, interpolation: c.interpolation, fillValue: c.fill_value, seed: ctx.seed(0) }),
  kerasArgs: (c) => [['height_factor', num(c.heightFactor, 0)], ['width_factor', num(c.widthFactor, 0)], ...geometricArgs(c)],
  rFunction: 'layer_random_translation',
  ...identity,
  fused: nativePass,
});

export const randomZoomCore = defineCore<'RandomZoom'>({
  build: (c, ctx) =>
    new RandomZoom({ ...ctx.base, heightFactor: c.height_factor, widthFactor: c.width_factor, fillMode: c.fill_mode, interpolation: c.interpolation, fillValue: c.fill_value, seed: ctx.seed(0) }),
  kerasArgs: (c) => [['height_factor', num(c.heightFactor, 0)], ['width_factor', typeof c.widthFactor === 'number' ? c.widthFactor : null], ...geometricArgs(c)],
  rFunction: 'layer_random_zoom',
  ...identity,
  fused: nativePass,
});

export const randomContrastCore = defineCore<'RandomContrast'>({
  build: (c, ctx) => new RandomContrast({ ...ctx.base, factor: c.factor, seed: ctx.seed(0) }),
  kerasArgs: (c) => [['factor', num(c.factor, 0)]],
  rFunction: 'layer_random_contrast',
  ...identity,
  fused: nativePass,
});

export const randomBrightnessCore = defineCore<'RandomBrightness'>({
  build: (c, ctx) => new RandomBrightness({ ...ctx.base, factor: c.factor, seed: ctx.seed(0) }),
  kerasArgs: (c) => [
    ['factor', num(c.factor, 0)],
    ['value_range', [0, 1]],
  ],
  rFunction: 'layer_random_brightness',
  ...identity,
  fused: nativePass,
});
