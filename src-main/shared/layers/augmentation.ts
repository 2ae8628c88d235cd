/**
 * Keras' random augmentation layers (RandomFlip, RandomRotation, RandomTranslation, RandomZoom, RandomContrast,
 * RandomBrightness): active only while training, the identity at inference, seeded from the run seed. Factors
 * are Keras' symmetric form (a float f means [−f, f]); values are in [0, 1], the range the workbench scales
 * pixels to (Keras' `value_range=(0, 1)`).
 */
import type { FieldDescriptor } from '../spec';
import { defineLayer, spatialInput, type InferContext, type Inferred, type Shape } from './kit';

/** The geometric layers' fill and interpolation (tfjs' image.transform supports exactly Keras' modes). */
export const FILL_MODES = ['reflect', 'wrap', 'constant', 'nearest'] as const;
export type FillMode = (typeof FILL_MODES)[number];
export const INTERPOLATIONS = ['bilinear', 'nearest'] as const;
export type Interpolation = (typeof INTERPOLATIONS)[number];

const factorField = (name: string, label: string, help: string, required: boolean, max?: number): FieldDescriptor => ({
  name,
  kind: 'float',
  label,
  help,
  required,
  default: null,
  ...(required ? { suggested: 0.1 } : {}),
  min: 0,
  ...(max === undefined ? {} : { max }),
});
const geometricFields: readonly FieldDescriptor[] = [
  { name: 'fill_mode', kind: 'enum', label: 'Fill mode', help: 'How pixels from outside the image are filled.', required: false, default: 'reflect', values: FILL_MODES },
  { name: 'interpolation', kind: 'enum', label: 'Interpolation', help: 'How pixels between grid points are read.', required: false, default: 'bilinear', values: INTERPOLATIONS },
  { name: 'fill_value', kind: 'float', label: 'Fill value', help: "Value of pixels outside the image with fill mode 'constant'.", required: false, default: 0 },
];

/** An image-only, weightless layer: the input must be (H, W, C). */
const imageOnly = (ctx: InferContext, input: Shape): Inferred => {
  const dims = spatialInput(ctx, input);
  return { output: input === null || input.length !== 3 ? dims : input, params: 0, nonTrainable: 0 };
};

export interface GeometricConfig {
  fill_mode: FillMode;
  interpolation: Interpolation;
  fill_value: number;
}

export interface RandomFlipConfig {
  mode: 'horizontal' | 'vertical' | 'horizontal_and_vertical';
}
export const randomFlip = defineLayer({
  className: 'RandomFlip',
  role: 'hidden',
  namePrefix: 'random_flip',
  palette: 'Preprocessing & augmentation',
  summary: 'While training, mirrors each image at random (left–right and/or up–down).',
  fields: [
    { name: 'mode', kind: 'enum', label: 'Mode', help: 'Which flips may happen, each with probability ½.', required: false, default: 'horizontal_and_vertical', values: ['horizontal', 'vertical', 'horizontal_and_vertical'] },
  ],
  infer: imageOnly,
  resolve: (r): RandomFlipConfig => ({ mode: r.str('mode', ['horizontal', 'vertical', 'horizontal_and_vertical']) }),
  caption: (c) => String(c.mode ?? 'horizontal_and_vertical').replace(/_/g, ' '),
});

export interface RandomRotationConfig extends GeometricConfig {
  /** Fraction of a full turn: angles are drawn from [−factor·2π, factor·2π]. */
  factor: number;
}
export const randomRotation = defineLayer({
  className: 'RandomRotation',
  role: 'hidden',
  namePrefix: 'random_rotation',
  palette: 'Preprocessing & augmentation',
  summary: 'While training, rotates each image by a random angle.',
  fields: [factorField('factor', 'Factor', 'Fraction of a full turn: 0.1 rotates by up to ±36°.', true, 1), ...geometricFields],
  infer: imageOnly,
  resolve: (r): RandomRotationConfig => ({ factor: r.float('factor'), fill_mode: r.str('fill_mode', FILL_MODES), interpolation: r.str('interpolation', INTERPOLATIONS), fill_value: r.float('fill_value') }),
  caption: (c) => `±${Math.round(Number(c.factor ?? 0) * 360)}°`,
});

export interface RandomTranslationConfig extends GeometricConfig {
  height_factor: number;
  width_factor: number;
}
export const randomTranslation = defineLayer({
  className: 'RandomTranslation',
  role: 'hidden',
  namePrefix: 'random_translation',
  palette: 'Preprocessing & augmentation',
  summary: 'While training, shifts each image by a random fraction of its size.',
  fields: [
    factorField('height_factor', 'Height factor', 'Up to this fraction of the height, up or down.', true, 1),
    factorField('width_factor', 'Width factor', 'Up to this fraction of the width, left or right.', true, 1),
    ...geometricFields,
  ],
  infer: imageOnly,
  resolve: (r): RandomTranslationConfig => ({
    height_factor: r.float('height_factor'),
    width_factor: r.float('width_factor'),
    fill_mode: r.str('fill_mode', FILL_MODES),
    interpolation: r.str('interpolation', INTERPOLATIONS),
    fill_value: r.float('fill_value'),
  }),
  caption: (c) => `±${String(c.height_factor ?? '?')}×±${String(c.width_factor ?? '?')}`,
});

export interface RandomZoomConfig extends GeometricConfig {
  height_factor: number;
  /** Keras' None: the same zoom as the height (keeps the aspect ratio). */
  width_factor: number | null;
}
export const randomZoom = defineLayer({
  className: 'RandomZoom',
  role: 'hidden',
  namePrefix: 'random_zoom',
  palette: 'Preprocessing & augmentation',
  summary: 'While training, zooms each image in or out by a random amount.',
  fields: [
    factorField('height_factor', 'Height factor', 'Zoom by up to this fraction, in or out (0.2 = 80–120 %).', true, 1),
    factorField('width_factor', 'Width factor', 'Empty = same as the height (keeps the aspect ratio).', false, 1),
    ...geometricFields,
  ],
  infer: imageOnly,
  resolve: (r): RandomZoomConfig => ({
    height_factor: r.float('height_factor'),
    width_factor: r.floatOrNull('width_factor'),
    fill_mode: r.str('fill_mode', FILL_MODES),
    interpolation: r.str('interpolation', INTERPOLATIONS),
    fill_value: r.float('fill_value'),
  }),
  caption: (c) => `±${String(c.height_factor ?? '?')}`,
});

export interface RandomContrastConfig {
  factor: number;
}
export const randomContrast = defineLayer({
  className: 'RandomContrast',
  role: 'hidden',
  namePrefix: 'random_contrast',
  palette: 'Preprocessing & augmentation',
  summary: 'While training, scales each image’s contrast around its mean by a random factor.',
  fields: [factorField('factor', 'Factor', 'Contrast factor drawn from [1 − f, 1 + f].', true, 1)],
  infer: imageOnly,
  resolve: (r): RandomContrastConfig => ({ factor: r.float('factor') }),
  caption: (c) => `±${String(c.factor ?? '?')}`,
});

export interface RandomBrightnessConfig {
  factor: number;
}
export const randomBrightness = defineLayer({
  className: 'RandomBrightness',
  role: 'hidden',
  namePrefix: 'random_brightness',
  palette: 'Preprocessing & augmentation',
  summary: 'While training, brightens or darkens each image by a random amount.',
  fields: [factorField('factor', 'Factor', 'Adds up to ±f of the value range (pixels are 0–1 here).', true, 1)],
  infer: imageOnly,
  resolve: (r): RandomBrightnessConfig => ({ factor: r.float('factor') }),
  caption: (c) => `±${String(c.factor ?? '?')}`,
});
