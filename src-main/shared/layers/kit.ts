/**
 * What every layer definition is made of, tfjs-free: the field descriptors the form and the validator share, the
 * shape-inference vocabulary (Keras' `compute_output_shape` and parameter count, by our own arithmetic), and the
 * `LayerInfo` a layer module fills in. Pure functions and plain data, so the renderer can import it.
 */
import type { ActivationName, FieldDescriptor, FieldValue, LayerClassName } from '../spec';
import { ACTIVATIONS } from '../spec';

// ---------------------------------------------------------------- fields

/** Keras initializer identifiers we can build (seeded) in tfjs. */
export const INITIALIZERS = [
  'glorot_uniform',
  'glorot_normal',
  'he_uniform',
  'he_normal',
  'lecun_uniform',
  'lecun_normal',
  'random_normal',
  'random_uniform',
  'truncated_normal',
  'zeros',
  'ones',
] as const;
export type InitializerName = (typeof INITIALIZERS)[number];

export const activationField = (dflt: ActivationName, required = false): FieldDescriptor => ({
  name: 'activation',
  kind: 'enum',
  label: 'Activation',
  help: "Applied to the layer's output; 'linear' = none (Keras' default None).",
  required,
  default: required ? null : dflt,
  ...(required ? { suggested: 'relu' } : {}),
  values: ACTIVATIONS,
});
export const useBiasField: FieldDescriptor = { name: 'use_bias', kind: 'bool', label: 'Use bias', help: 'Adds a learned bias per output channel.', required: false, default: true };
export const paddingField: FieldDescriptor = {
  name: 'padding',
  kind: 'enum',
  label: 'Padding',
  help: "'valid' = no padding (the output shrinks); 'same' = pad so that output = ceil(input / stride).",
  required: false,
  default: 'valid',
  values: ['valid', 'same'],
};
export const kernelSizeField: FieldDescriptor = { name: 'kernel_size', kind: 'pair', label: 'Kernel size', help: 'Height and width of the convolution window (n or [h, w]).', required: true, default: null, suggested: 3, min: 1 };
export const stridesField: FieldDescriptor = { name: 'strides', kind: 'pair', label: 'Strides', help: 'Step of the window (n or [h, w]).', required: false, default: 1, min: 1 };
export const dilationField: FieldDescriptor = { name: 'dilation_rate', kind: 'pair', label: 'Dilation rate', help: 'Spacing between kernel taps; > 1 requires strides 1.', required: false, default: 1, min: 1 };
export const depthMultiplierField: FieldDescriptor = { name: 'depth_multiplier', kind: 'int', label: 'Depth multiplier', help: 'Depthwise output channels per input channel.', required: false, default: 1, min: 1 };
export const initializerField = (name: string, label: string, dflt: InitializerName): FieldDescriptor => ({
  name,
  kind: 'enum',
  label,
  help: 'Initial values of the weights (seeded from the run seed).',
  required: false,
  default: dflt,
  values: INITIALIZERS,
});
export const poolFields: readonly FieldDescriptor[] = [
  { name: 'pool_size', kind: 'pair', label: 'Pool size', help: 'Height and width of the pooling window (n or [h, w]).', required: false, default: 2, min: 1 },
  { name: 'strides', kind: 'pair', label: 'Strides', help: 'Step of the window; Keras None = the pool size.', required: false, default: null, min: 1 },
  paddingField,
];
export const rateField = (help: string): FieldDescriptor => ({ name: 'rate', kind: 'float', label: 'Rate', help, required: true, default: null, suggested: 0.25, min: 0, max: 1, maxExclusive: true });
export const keepdimsField: FieldDescriptor = { name: 'keepdims', kind: 'bool', label: 'Keep dims', help: 'Only false is supported (tfjs global pooling has no keepdims).', required: false, default: false };
export const epsilonField = (dflt: number): FieldDescriptor => ({ name: 'epsilon', kind: 'float', label: 'Epsilon', help: 'Added to the variance to avoid dividing by zero.', required: false, default: dflt, min: 0, minExclusive: true });
export const centerField: FieldDescriptor = { name: 'center', kind: 'bool', label: 'Center', help: 'Learn an offset (beta).', required: false, default: true };
export const scaleField: FieldDescriptor = { name: 'scale', kind: 'bool', label: 'Scale', help: 'Learn a scale (gamma).', required: false, default: true };

// ---------------------------------------------------------------- typed configs

export type Pair = [number, number];

/**
 * Reads one layer's config after validation, with Keras' defaults filled in (`withDefaults`): each read checks
 * the type and throws if it is wrong — which cannot happen for a config that passed validation — so builders
 * receive typed values instead of casting `c.x as number`.
 */
export interface ConfigReader {
  readonly name: string;
  readonly trainable: boolean;
  int(field: string): number;
  float(field: string): number;
  /** A float field Keras allows to be None (null). */
  floatOrNull(field: string): number | null;
  bool(field: string): boolean;
  str<T extends string>(field: string, values: readonly T[]): T;
  pair(field: string): Pair;
  ints(field: string): number[];
  activation(): ActivationName;
  initializer(field: string): InitializerName;
  /** ZeroPadding2D's [[top, bottom], [left, right]]. */
  padding2d(field: string): [Pair, Pair];
}

/** The three convolution layers' window, activation and bias fields, in form order. */
export const convWindowFields: readonly FieldDescriptor[] = [kernelSizeField, stridesField, paddingField, dilationField, activationField('linear'), useBiasField];

/** What the three convolution layers share: the window, its activation and bias. */
export interface ConvWindowConfig {
  kernel_size: Pair;
  strides: Pair;
  padding: 'valid' | 'same';
  dilation_rate: Pair;
  activation: ActivationName;
  use_bias: boolean;
}
export const resolveConvWindow = (r: ConfigReader): ConvWindowConfig => ({
  kernel_size: r.pair('kernel_size'),
  strides: r.pair('strides'),
  padding: r.str('padding', ['valid', 'same']),
  dilation_rate: r.pair('dilation_rate'),
  activation: r.activation(),
  use_bias: r.bool('use_bias'),
});

// ---------------------------------------------------------------- shape inference

/** A dimension: a size, or null when an earlier error makes it unknowable. */
export type Dim = number | null;
/** A per-sample shape (no batch dim), or null when even the rank is unknown. */
export type Shape = Dim[] | null;

/** Output shape and parameter counts of one layer; null when an unknown input makes them unknowable. */
export interface Inferred {
  output: Shape;
  params: number | null;
  nonTrainable: number | null;
}

/**
 * What a layer's `infer` may ask of the validator: the config's values (defaults filled, rejected fields read as
 * null so one mistake does not cascade) and a way to report problems on this layer.
 */
export interface InferContext {
  readonly index: number;
  readonly name: string;
  readonly className: LayerClassName;
  /** Functional models: the names of the layers this one takes its inputs from, in order (for messages); a
   *  Sequential layer's one input is the layer before it, named here too. */
  readonly inputNames: readonly string[];
  /** The config as received (no defaults). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Fields whose values were rejected. */
  readonly bad: ReadonlySet<string>;
  int(field: string): number | null;
  bool(field: string): boolean | null;
  str(field: string): string | null;
  pair(field: string): [Dim, Dim];
  error(field: string | null, received: unknown, why: string): void;
  warn(field: string | null, received: unknown, why: string): void;
}

export const mul = (...xs: Dim[]): Dim => (xs.some((x) => x === null) ? null : (xs as number[]).reduce((a, b) => a * b, 1));
export const add = (...xs: Dim[]): Dim => (xs.some((x) => x === null) ? null : (xs as number[]).reduce((a, b) => a + b, 0));
export const json = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));

/** `(None, 28, 28, 1)` as Keras prints it; unknown dims print as `?`. */
export function describeShape(shape: Shape): string {
  if (shape === null) return '(None, ?)';
  return `(${['None', ...shape.map((d) => (d === null ? '?' : String(d)))].join(', ')})`;
}

/** A layer that passes its input through unchanged, with no weights. */
export const sameShape = (_ctx: InferContext, input: Shape): Inferred => ({ output: input, params: 0, nonTrainable: 0 });

/** Requires a 3-D (H, W, C) input; returns its dims (unknown ones null) or reports a rank error. */
export function spatialInput(ctx: InferContext, input: Shape): [Dim, Dim, Dim] {
  if (input === null) return [null, null, null];
  if (input.length !== 3) {
    const hint = input.length === 1 ? ' — it comes after a Flatten/Dense/global pooling; move this layer before them' : '';
    ctx.error(null, undefined, `needs a 3-D input (height, width, channels); received ${describeShape(input)}${hint}`);
    return [null, null, null];
  }
  return [input[0], input[1], input[2]];
}

/**
 * Output size along one axis for a window of size k (dilation d) moved by stride s: Keras'
 * `compute_conv_output_length`. Returns null when unknown, or -1 when the window does not fit ('valid').
 */
function windowOut(n: Dim, k: Dim, s: Dim, d: Dim, padding: string | null): Dim {
  if (n === null || k === null || s === null || d === null || padding === null) return null;
  if (padding === 'same') return Math.ceil(n / s);
  const eff = (k - 1) * d + 1;
  if (eff > n) return -1;
  return Math.floor((n - eff) / s) + 1;
}

/** Spatial output of a conv/pool window over (H, W); reports a window larger than a 'valid' input once. */
export function windowed(ctx: InferContext, h: Dim, w: Dim, sizeField: 'kernel_size' | 'pool_size', dilated: boolean): [Dim, Dim] {
  const k = ctx.pair(sizeField);
  // Pooling strides default to the pool size (Keras' None).
  const s = ctx.config.strides == null && sizeField === 'pool_size' ? k : ctx.pair('strides');
  const d: [Dim, Dim] = dilated ? ctx.pair('dilation_rate') : [1, 1];
  const padding = ctx.str('padding');
  if (dilated && [...s, ...d].every((x) => x !== null) && Math.max(s[0] as number, s[1] as number) > 1 && Math.max(d[0] as number, d[1] as number) > 1) {
    ctx.error('dilation_rate', ctx.config.dilation_rate, `dilation_rate > 1 cannot be combined with strides > 1 (strides = ${json(ctx.config.strides)}); Keras and tfjs reject it`);
    return [null, null];
  }
  const oh = windowOut(h, k[0], s[0], d[0], padding);
  const ow = windowOut(w, k[1], s[1], d[1], padding);
  if (oh === -1 || ow === -1) {
    const effH = k[0] === null || d[0] === null ? k[0] : (k[0] - 1) * d[0] + 1;
    const effW = k[1] === null || d[1] === null ? k[1] : (k[1] - 1) * d[1] + 1;
    const dil = dilated && (d[0] !== 1 || d[1] !== 1) ? ` (${effH}x${effW} once dilated)` : '';
    const what = sizeField === 'pool_size' ? 'pool' : 'kernel';
    ctx.error(
      sizeField,
      ctx.config[sizeField] ?? k[0],
      `the ${k[0]}x${k[1]} ${what}${dil} is larger than its ${h}x${w} input with padding 'valid', so the output would be empty; use padding 'same' or a smaller ${sizeField}`,
    );
    return [null, null];
  }
  return [oh, ow];
}

/** The bias count of a layer with `use_bias`: n, or 0 when the bias is off. */
export const biasCount = (ctx: InferContext, n: Dim): Dim => (ctx.bool('use_bias') === false ? 0 : n);

/** Reports a channels-axis setting other than -1 (channels_last is the only layout here). */
export function channelsAxisOnly(ctx: InferContext, input: Shape): void {
  const axis = ctx.config.axis;
  if (axis !== undefined && axis !== -1 && !(input !== null && axis === input.length)) ctx.error('axis', axis, 'only the channels axis (-1) is supported (channels_last)');
}

// ---------------------------------------------------------------- captions

/** "3×3" for a kernel/pool size given as n or [h, w]. */
export const sizeText = (v: unknown): string => (Array.isArray(v) ? `${v[0]}×${v[1]}` : `${String(v)}×${String(v)}`);
/** A config value for a caption, with the field's default when it is omitted. */
export function captionValue(fields: readonly FieldDescriptor[], config: Readonly<Record<string, unknown>>, field: string): FieldValue | undefined {
  const v = config[field];
  if (v !== undefined) return v as FieldValue;
  const d = fields.find((f) => f.name === field);
  return d?.required ? undefined : d?.default;
}
/** Caption parts for a window: "stride 2×2" and "dilation 2×2" unless 1, the padding when given. */
export function windowCaption(fields: readonly FieldDescriptor[], config: Readonly<Record<string, unknown>>): string[] {
  const parts: string[] = [];
  const isOne = (v: unknown) => v === 1 || (Array.isArray(v) && v.every((x) => x === 1));
  const s = captionValue(fields, config, 'strides');
  if (s !== null && s !== undefined && !isOne(s)) parts.push(`stride ${sizeText(s)}`);
  const d = captionValue(fields, config, 'dilation_rate');
  if (d !== null && d !== undefined && !isOne(d)) parts.push(`dilation ${sizeText(d)}`);
  if (typeof config.padding === 'string') parts.push(config.padding);
  return parts;
}
/** Caption part for an activation other than linear. */
export function activationCaption(fields: readonly FieldDescriptor[], config: Readonly<Record<string, unknown>>): string[] {
  const a = captionValue(fields, config, 'activation');
  return typeof a === 'string' && a !== 'linear' ? [a] : [];
}

// ---------------------------------------------------------------- the definition

/** Where a layer class sits in the editor's palette. */
export const PALETTE_GROUPS = ['Input', 'Preprocessing & augmentation', 'Convolution', 'Pooling', 'Normalisation & activation', 'Regularisation', 'Dense', 'Merge'] as const;
export type PaletteGroup = (typeof PALETTE_GROUPS)[number];

/**
 * A layer's part in a trained network, as the views inside it (core/explain) treat it:
 * - 'hidden': the identity or a reshape at inference (input, dropout, augmentation, Flatten): no feature maps shown;
 * - 'elementwise': keeps a map's shape and only rescales or rectifies it (normalisation, activations): shown, and
 *   Grad-CAM reads past it to the maps the rest of the network sees;
 * - 'maps': computes new maps or features (convolutions, pooling, padding, Dense, Rescaling).
 */
export type LayerRole = 'hidden' | 'elementwise' | 'maps';

/**
 * The tfjs-free half of a layer class (Keras' layer class minus `call`): its config fields with defaults and help,
 * its output shape and parameter count, its typed config, and what the editor shows of it. The core half
 * (core/model/layers) builds it in tfjs, exports it and encodes it for the fused native step.
 */
export interface LayerInfo<K extends LayerClassName, C> {
  className: K;
  /** Keras' auto-name prefix (snake_case of the class name). */
  namePrefix: string;
  palette: PaletteGroup;
  /** One sentence for the palette's tooltip. */
  summary: string;
  /** Config fields beyond name/trainable, in form order. */
  fields: readonly FieldDescriptor[];
  /**
   * Output shape and parameter count, reporting problems through `ctx`. `input` is the first (for all but the
   * merge layers, the only) input's shape; `inputs` lists every input's shape, in order — merge layers read it,
   * single-input layers may leave the parameter out.
   */
  infer(ctx: InferContext, input: Shape, inputs: readonly Shape[]): Inferred;
  /** The typed config, read from a validated config with defaults filled in. */
  resolve(read: ConfigReader): C;
  /** Key settings for the editor's row ("32 3×3 same relu"); '' when there are none. */
  caption(config: Readonly<Record<string, unknown>>): string;
  /** What it does to a feature map at inference, for the views inside the network (`LayerRole`). */
  role: LayerRole;
}

/** Checks a definition against `LayerInfo` while keeping its config type (for `LayerConfigOf`). */
export const defineLayer = <K extends LayerClassName, C>(info: LayerInfo<K, C>): LayerInfo<K, C> => info;
