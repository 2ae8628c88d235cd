import * as tf from '@tensorflow/tfjs';

/** Constructor arguments of `SpatialDropout2D` (tfjs naming). */
export interface SpatialDropout2DArgs {
  rate: number;
  name?: string;
  trainable?: boolean;
}

/**
 * Keras' SpatialDropout2D, which tfjs-layers lacks (it has only SpatialDropout1D): while training, drops whole
 * feature maps — one Bernoulli draw per (sample, channel), broadcast over height and width — and scales the
 * kept ones by 1/(1 − rate); at inference it is the identity. Registered for serialization so that a saved
 * model.json containing it loads back with `tf.loadLayersModel` once this module is imported.
 *
 * No fixed seed: tfjs' dropout with a fixed seed would draw the same mask on every batch.
 */
export class SpatialDropout2D extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'SpatialDropout2D';
  readonly rate: number;

  constructor(args: SpatialDropout2DArgs) {
    super(args);
    this.rate = args.rate;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs.training !== true || this.rate <= 0) return x;
    return tf.tidy(() => {
      const [batch, , , channels] = x.shape;
      return tf.dropout(x, this.rate, [batch, 1, 1, channels]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}
tf.serialization.registerClass(SpatialDropout2D);
