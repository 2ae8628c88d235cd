import * as tf from '@tensorflow/tfjs';
import { type LayerArgs, single } from './layer-args';

/** Keras 3 `ReLU` arguments in tfjs' camelCase. */
export interface ReLUArgs extends LayerArgs {
  /** Upper bound of the output; null or absent: unbounded (Keras' None). MobileNet uses 6. */
  maxValue?: number | null;
  /** Slope below the threshold (Keras' negative_slope; default 0). */
  negativeSlope?: number;
  /** Inputs above it pass unchanged (default 0; ≥ 0, as Keras requires). */
  threshold?: number;
}

/**
 * Keras' ReLU: f(x) = max_value for x ≥ max_value; x for threshold < x < max_value; negative_slope · (x − threshold)
 * otherwise (all three ≥ 0, as Keras requires). At x = threshold the lower branch applies (0 there), as Keras
 * computes it (`x · (x > threshold)`; its docs show relu(5, threshold=5) = 0), which
 * also gives tf.relu's gradient 0 at 0; the fused step (native/trainer.cc, code 15) takes the same branches.
 * The branches are blended by 0/1 masks from tf.step rather than tf.where, whose gradient would reach the
 * comparison (tfjs has none for Greater); step's gradient is 0, so each branch gets exactly its own.
 */
export function kerasRelu(x: tf.Tensor, maxValue: number | null, negativeSlope: number, threshold: number): tf.Tensor {
  return tf.tidy(() => {
    if (maxValue === null && negativeSlope === 0 && threshold === 0) return tf.relu(x);
    const above = tf.step(tf.sub(x, threshold)); // 1 where x > threshold
    let y = tf.mul(above, x);
    if (negativeSlope !== 0) y = tf.add(y, tf.mul(tf.sub(1, above), tf.mul(tf.sub(x, threshold), negativeSlope)));
    if (maxValue === null) return y;
    const capped = tf.sub(1, tf.step(tf.sub(maxValue, x))); // 1 where x ≥ max_value
    return tf.add(tf.mul(capped, maxValue), tf.mul(tf.sub(1, capped), y));
  });
}

/** Keras' `ReLU` layer (tfjs' own lacks negative_slope and threshold), registered under the Keras class name. */
export class ReLU extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'ReLU';
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;

  constructor(args: ReLUArgs = {}) {
    super(args);
    this.maxValue = args.maxValue ?? null;
    this.negativeSlope = args.negativeSlope ?? 0;
    this.threshold = args.threshold ?? 0;
    // Keras refuses the same values (ValueError in ReLU.__init__).
    if (this.maxValue !== null && !(Number.isFinite(this.maxValue) && this.maxValue >= 0))
      throw new Error(`ReLU '${this.name}': max_value must be ≥ 0 or None, got ${this.maxValue}`);
    if (!(Number.isFinite(this.negativeSlope) && this.negativeSlope >= 0))
      throw new Error(`ReLU '${this.name}': negative_slope must be ≥ 0, got ${this.negativeSlope}`);
    if (!(Number.isFinite(this.threshold) && this.threshold >= 0))
      throw new Error(`ReLU '${this.name}': threshold must be ≥ 0, got ${this.threshold}`);
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return kerasRelu(single(inputs), this.maxValue, this.negativeSlope, this.threshold);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), maxValue: this.maxValue, negativeSlope: this.negativeSlope, threshold: this.threshold };
  }
}
// Replaces tfjs' own 'ReLU' for loading: its config ({maxValue}) is a subset of this one's.
tf.serialization.registerClass(ReLU);

/** A Keras ReLU layer: `reluLayer({ maxValue: 6 })`. */
export function reluLayer(args: ReLUArgs = {}): ReLU {
  return new ReLU(args);
}
