import * as tf from '@tensorflow/tfjs';
import { type LayerArgs, single } from './layer-args';

export interface RescalingArgs extends LayerArgs {
  scale: number;
  offset?: number;
}

/** Keras' Rescaling (tfjs-layers has its own only in newer versions): y = x · scale + offset, always. */
export class Rescaling extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'Rescaling';
  readonly scale: number;
  readonly offset: number;

  constructor(args: RescalingArgs) {
    super(args);
    this.scale = args.scale;
    this.offset = args.offset ?? 0;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.add(tf.mul(single(inputs), this.scale), this.offset));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}
tf.serialization.registerClass(Rescaling);
