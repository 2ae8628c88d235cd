/**
 * Keras' random augmentation layers as tfjs layers: active only when called with `training: true` (fit /
 * trainOnBatch), the identity otherwise, as in Keras. Each layer draws its per-image parameters from its own
 * seeded generator (the run seed mixed with the layer's index), so the same seed gives the same run; the pixel
 * work is tfjs ops on the whole batch (image.transform, flips, reductions), which run in the backend's kernels,
 * never JavaScript per pixel.
 *
 * The geometric transforms follow Keras 3's matrices (keras/src/layers/preprocessing/image_preprocessing):
 * a projective transform [a0, a1, a2, b0, b1, b2, 0, 0] maps an output pixel (x, y) to the input pixel
 * (a0·x + a1·y + a2, b0·x + b1·y + b2).
 *
 * Each layer separates its random draws (`draw`: the per-image parameters, from its generator) from the pixel work
 * (`applyDrawn`), and says how the native augmentation pass (native/augment.cc) runs the same work (`nativeCode`):
 * the fused training step draws through the same layer object, so the tfjs path and the native one see the same
 * parameters for the same seed, and tests can compare both on one draw.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../../data/random';

/** mulberry32 advances its state by this constant per number (core/data/random.ts). */
const MULBERRY32_STEP = 0x6d2b79f5;
import { type LayerArgs, single } from './layer-args';

type FillMode = 'reflect' | 'wrap' | 'constant' | 'nearest';
type Interpolation = 'bilinear' | 'nearest';

interface RandomArgs extends LayerArgs {
  /** Seeds the layer's generator; null or absent: unseeded (a fresh draw per process). */
  seed?: number | null;
}

/** The shared machinery: a seeded generator and the training switch. */
export abstract class RandomLayer extends tf.layers.Layer {
  readonly seed: number | null;
  /** mulberry32's whole state (its 32-bit counter): checkpoints keep it, so a resumed run continues the same draws. */
  private state: number;

  constructor(args: RandomArgs) {
    super(args);
    this.seed = args.seed ?? null;
    this.state = (this.seed ?? Math.floor(Math.random() * 2 ** 31)) >>> 0;
  }

  /** A uniform draw in [lo, hi): mulberry32's next number from the current state. */
  protected uniform(lo: number, hi: number): number {
    const u = mulberry32(this.state)();
    this.state = (this.state + MULBERRY32_STEP) >>> 0;
    return lo + (hi - lo) * u;
  }

  /** The generator's state, for checkpoints (an unsigned 32-bit integer). */
  get generatorState(): number {
    return this.state;
  }

  set generatorState(state: number) {
    if (!Number.isInteger(state) || state < 0 || state >= 2 ** 32) throw new RangeError(`layer '${this.name}': generator state ${state} is not a 32-bit unsigned integer`);
    this.state = state;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = single(inputs);
    if (kwargs.training !== true) return x;
    return tf.tidy(() => this.augment(x as tf.Tensor4D));
  }

  /** The images with drawn parameters applied (as the tfjs layer does while training). */
  protected augment(x: tf.Tensor4D): tf.Tensor {
    const [n, h, w] = x.shape;
    return this.applyDrawn(x, this.draw(n, h, w));
  }

  /** Parameters per image in `draw`'s output. */
  abstract readonly paramsPerImage: number;
  /** Draws the parameters of `n` images of h × w from the layer's generator: `paramsPerImage` numbers per image. */
  abstract draw(n: number, h: number, w: number): number[];
  /** The images `x` under the drawn parameters `params` (from `draw`), as tfjs ops on the whole batch. */
  abstract applyDrawn(x: tf.Tensor4D, params: readonly number[]): tf.Tensor;
  /** The native augmentation pass's code list for this layer (native/augment.h). */
  abstract nativeCode(): number[];

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), seed: this.seed };
  }
}

/**
 * tf.image.transform with one 8-parameter matrix per image. tfjs 4.22's cpu Transform kernel fills every image
 * after the first with the fill value (its batch offset is wrong; the wasm/native kernel is right), so on that
 * backend the images go through one at a time.
 */
function transform(x: tf.Tensor4D, matrices: number[][], interpolation: Interpolation, fillMode: FillMode, fillValue: number, size: [number, number]): tf.Tensor4D {
  const n = x.shape[0];
  if (tf.getBackend() === 'cpu' && n > 1) {
    const images = tf.split(x, n, 0) as tf.Tensor4D[];
    return tf.concat(images.map((img, i) => tf.image.transform(img, tf.tensor2d([matrices[i]!]), interpolation, fillMode, fillValue, size)), 0);
  }
  return tf.image.transform(x, tf.tensor2d(matrices, [n, 8]), interpolation, fillMode, fillValue, size);
}

/** One value per image as a [N, 1, 1, 1] tensor that broadcasts over the image (0/1 choices, strengths). */
function perImage(values: number[]): tf.Tensor4D {
  return tf.tensor4d(values, [values.length, 1, 1, 1]);
}

/** Each image replaced by its flipped version where its flag is 1. */
function flipWhere(y: tf.Tensor4D, flipped: tf.Tensor4D, flags: number[]): tf.Tensor4D {
  const m = perImage(flags);
  return tf.add(tf.mul(m, flipped), tf.mul(tf.sub(1, m), y));
}

export interface RandomFlipArgs extends RandomArgs {
  mode?: 'horizontal' | 'vertical' | 'horizontal_and_vertical';
}

export class RandomFlip extends RandomLayer {
  /** @nocollapse */
  static className = 'RandomFlip';
  readonly mode: 'horizontal' | 'vertical' | 'horizontal_and_vertical';

  constructor(args: RandomFlipArgs = {}) {
    super(args);
    this.mode = args.mode ?? 'horizontal_and_vertical';
  }

  readonly paramsPerImage = 2;

  /** Per image [left–right, up–down], each 1 with probability ½ where the mode allows it, else 0. */
  draw(n: number): number[] {
    const out: number[] = [];
    const coin = (allowed: boolean): number => (allowed && this.uniform(0, 1) < 0.5 ? 1 : 0);
    for (let i = 0; i < n; i++) out.push(coin(this.mode !== 'vertical'), coin(this.mode !== 'horizontal'));
    return out;
  }

  applyDrawn(x: tf.Tensor4D, params: readonly number[]): tf.Tensor4D {
    const pick = (axis: 0 | 1) => params.filter((_, i) => i % 2 === axis);
    let y: tf.Tensor4D = x;
    if (this.mode !== 'vertical') y = flipWhere(y, tf.image.flipLeftRight(y), pick(0));
    if (this.mode !== 'horizontal') y = flipWhere(y, tf.reverse(y, 1), pick(1));
    return y;
  }

  nativeCode(): number[] {
    return [2, this.mode === 'horizontal' ? 1 : this.mode === 'vertical' ? 2 : 3];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}

interface GeometricArgs extends RandomArgs {
  fillMode?: FillMode;
  interpolation?: Interpolation;
  fillValue?: number;
}

/** native/augment.h's fill mode codes. */
const FILL_CODES: Readonly<Record<FillMode, number>> = { reflect: 0, wrap: 1, constant: 2, nearest: 3 };

/** Rotation, translation and zoom: one projective transform per image, through tf.image.transform. */
abstract class GeometricLayer extends RandomLayer {
  readonly fillMode: FillMode;
  readonly interpolation: Interpolation;
  readonly fillValue: number;

  constructor(args: GeometricArgs) {
    super(args);
    this.fillMode = args.fillMode ?? 'reflect';
    this.interpolation = args.interpolation ?? 'bilinear';
    this.fillValue = args.fillValue ?? 0;
  }

  /** The 8 transform parameters for one image of height h and width w. */
  protected abstract matrix(h: number, w: number): number[];

  readonly paramsPerImage = 8;

  draw(n: number, h: number, w: number): number[] {
    return Array.from({ length: n }, () => this.matrix(h, w)).flat();
  }

  nativeCode(): number[] {
    return [3, FILL_CODES[this.fillMode], this.interpolation === 'nearest' ? 1 : 0, this.fillValue];
  }

  applyDrawn(x: tf.Tensor4D, params: readonly number[]): tf.Tensor4D {
    const [n, h, w] = x.shape;
    const matrices = Array.from({ length: n }, (_, i) => params.slice(i * 8, i * 8 + 8));
    if (this.fillMode !== 'reflect') return transform(x, matrices, this.interpolation, this.fillMode, this.fillValue, [h, w]);
    // tfjs 4.22's wasm Transform kernel reads 'reflect' fills from the wrong pixels (its cpu kernel is right).
    // Keras' reflect is (d c b a | a b c d | d c b a), which is symmetric mirror padding: pad by a whole image on
    // each side, shift the transform into the padded frame, and read beyond it as 'nearest'.
    const padded = tf.mirrorPad(x, [[0, 0], [h, h], [w, w], [0, 0]], 'symmetric');
    const shifted = matrices.map(([a0, a1, a2, b0, b1, b2, c0, c1]) => [a0!, a1!, a2! + w, b0!, b1!, b2! + h, c0!, c1!]);
    return transform(padded, shifted, this.interpolation, 'nearest', this.fillValue, [h, w]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue };
  }
}

export interface RandomRotationArgs extends GeometricArgs {
  /** Fraction of a full turn. */
  factor: number;
}

export class RandomRotation extends GeometricLayer {
  /** @nocollapse */
  static className = 'RandomRotation';
  readonly factor: number;

  constructor(args: RandomRotationArgs) {
    super(args);
    this.factor = args.factor;
  }

  protected matrix(h: number, w: number): number[] {
    const angle = this.uniform(-this.factor, this.factor) * 2 * Math.PI;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    // Rotation about the image centre (Keras' _get_rotation_matrix).
    const xOffset = (w - 1 - (cos * (w - 1) - sin * (h - 1))) / 2;
    const yOffset = (h - 1 - (sin * (w - 1) + cos * (h - 1))) / 2;
    return [cos, -sin, xOffset, sin, cos, yOffset, 0, 0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
  }
}

export interface RandomTranslationArgs extends GeometricArgs {
  heightFactor: number;
  widthFactor: number;
}

export class RandomTranslation extends GeometricLayer {
  /** @nocollapse */
  static className = 'RandomTranslation';
  readonly heightFactor: number;
  readonly widthFactor: number;

  constructor(args: RandomTranslationArgs) {
    super(args);
    this.heightFactor = args.heightFactor;
    this.widthFactor = args.widthFactor;
  }

  protected matrix(h: number, w: number): number[] {
    const dy = this.uniform(-this.heightFactor, this.heightFactor) * h;
    const dx = this.uniform(-this.widthFactor, this.widthFactor) * w;
    return [1, 0, -dx, 0, 1, -dy, 0, 0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
  }
}

export interface RandomZoomArgs extends GeometricArgs {
  heightFactor: number;
  /** null: the height's zoom (aspect ratio kept). */
  widthFactor?: number | null;
}

export class RandomZoom extends GeometricLayer {
  /** @nocollapse */
  static className = 'RandomZoom';
  readonly heightFactor: number;
  readonly widthFactor: number | null;

  constructor(args: RandomZoomArgs) {
    super(args);
    this.heightFactor = args.heightFactor;
    this.widthFactor = args.widthFactor ?? null;
  }

  protected matrix(h: number, w: number): number[] {
    // Keras: a positive factor zooms out (the transform reads a larger area), a negative one zooms in.
    const zy = 1 + this.uniform(-this.heightFactor, this.heightFactor);
    const zx = this.widthFactor === null ? zy : 1 + this.uniform(-this.widthFactor, this.widthFactor);
    return [zx, 0, ((w - 1) / 2) * (1 - zx), 0, zy, ((h - 1) / 2) * (1 - zy), 0, 0];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
  }
}

export interface FactorArgs extends RandomArgs {
  factor: number;
}

/** Contrast and brightness: one random strength per image, drawn within `factor`. */
abstract class FactorLayer extends RandomLayer {
  readonly factor: number;

  readonly paramsPerImage = 1;

  constructor(args: FactorArgs) {
    super(args);
    this.factor = args.factor;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), factor: this.factor };
  }
}

/** Contrast: per image, (x − mean) · f + mean per channel, f in [1 − factor, 1 + factor], clipped to [0, 1]. */
export class RandomContrast extends FactorLayer {
  /** @nocollapse */
  static className = 'RandomContrast';

  draw(n: number): number[] {
    return Array.from({ length: n }, () => this.uniform(1 - this.factor, 1 + this.factor));
  }

  nativeCode(): number[] {
    return [4, this.factor, 0, 1];
  }

  applyDrawn(x: tf.Tensor4D, params: readonly number[]): tf.Tensor {
    const f = perImage([...params]);
    const mean = tf.mean(x, [1, 2], true);
    return tf.clipByValue(tf.add(tf.mul(tf.sub(x, mean), f), mean), 0, 1);
  }
}

/** Brightness: per image, x + δ with δ in [−factor, factor] of the [0, 1] range, clipped to [0, 1]. */
export class RandomBrightness extends FactorLayer {
  /** @nocollapse */
  static className = 'RandomBrightness';

  draw(n: number): number[] {
    return Array.from({ length: n }, () => this.uniform(-this.factor, this.factor));
  }

  nativeCode(): number[] {
    return [5, this.factor, 0, 1];
  }

  applyDrawn(x: tf.Tensor4D, params: readonly number[]): tf.Tensor {
    const d = perImage([...params]);
    return tf.clipByValue(tf.add(x, d), 0, 1);
  }
}

for (const cls of [RandomFlip, RandomRotation, RandomTranslation, RandomZoom, RandomContrast, RandomBrightness]) tf.serialization.registerClass(cls);
