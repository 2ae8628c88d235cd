import * as tf from '@tensorflow/tfjs';
import { type LayerArgs, single } from './layer-args';

/** Keras 3 `GroupNormalization` arguments in tfjs' camelCase. */
export interface GroupNormalizationArgs extends LayerArgs {
  /** Groups the channels are split into (default 32); the channel count must divide by it. */
  groups?: number;
  /** The channel axis: -1 (the last) only, as the workbench's models are channels-last. */
  axis?: number;
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  /** A learned offset beta per channel (default true). */
  center?: boolean;
  /** A learned factor gamma per channel (default true). */
  scale?: boolean;
}

/**
 * Keras' GroupNormalization (tfjs has none): per sample and group, the mean and variance over every axis but
 * the batch and channel ones and over the group's C/groups channels; y = (x − mean) / √(var + ε) · γ + β, with
 * γ and β per channel (2·C parameters, gamma first as Keras orders them, no moving statistics: training and
 * inference compute the same). Built from differentiable tfjs ops, so tfjs trains it; the fused step has it as
 * code 14 (native/trainer.cc).
 */
export class GroupNormalization extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'GroupNormalization';
  readonly groups: number;
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: GroupNormalizationArgs = {}) {
    super(args);
    this.groups = args.groups ?? 32;
    this.axis = args.axis ?? -1;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    if (!(Number.isInteger(this.groups) && this.groups >= 1))
      throw new Error(`GroupNormalization '${this.name}': groups must be a positive integer, got ${this.groups}`);
    if (this.axis !== -1) throw new Error(`GroupNormalization '${this.name}': only axis -1 (channels last) is supported, got ${this.axis}`);
    if (!(Number.isFinite(this.epsilon) && this.epsilon >= 0))
      throw new Error(`GroupNormalization '${this.name}': epsilon must be ≥ 0, got ${this.epsilon}`);
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (shape.length < 2 || typeof channels !== 'number')
      throw new Error(`GroupNormalization '${this.name}': the input needs a known channel axis, got shape ${JSON.stringify(shape)}`);
    if (channels % this.groups !== 0)
      throw new Error(`GroupNormalization '${this.name}': ${channels} channels do not split into ${this.groups} groups (channels must be a multiple of groups)`);
    if (this.scale) this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
    if (this.center) this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const rank = x.shape.length;
      const channels = x.shape[rank - 1]!;
      // [N, …, C] → [N, …, G, C/G]: reduce over every axis but the batch (0) and the group (rank − 1).
      const grouped = tf.reshape(x, [...x.shape.slice(0, -1), this.groups, channels / this.groups]);
      const axes = [...Array.from({ length: rank - 2 }, (_, i) => i + 1), rank];
      const { mean, variance } = tf.moments(grouped, axes, true);
      const normalized = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, this.epsilon))), x.shape);
      const scaled = this.gamma ? tf.mul(normalized, this.gamma.read()) : normalized;
      return this.beta ? tf.add(scaled, this.beta.read()) : scaled;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, axis: this.axis, epsilon: this.epsilon, center: this.center, scale: this.scale };
  }
}
tf.serialization.registerClass(GroupNormalization);

/** A Keras GroupNormalization layer: `groupNormalizationLayer({ groups: 4 })`. */
export function groupNormalizationLayer(args: GroupNormalizationArgs = {}): GroupNormalization {
  return new GroupNormalization(args);
}
