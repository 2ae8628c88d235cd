import * as tf from '@tensorflow/tfjs';
import type { LayerArgs } from './layer-args';

/** Keras' Subtract (tfjs-layers has Add, Multiply, Average, Maximum but no Subtract): the first input minus the second. */
export class Subtract extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'Subtract';

  constructor(args: LayerArgs) {
    super(args);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shapes = inputShape as tf.Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length !== 2) throw new Error(`Subtract takes exactly two inputs; received ${JSON.stringify(inputShape)}`);
    return shapes[0];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    if (!Array.isArray(inputs) || inputs.length !== 2) throw new Error('Subtract takes exactly two input tensors');
    return tf.sub(inputs[0]!, inputs[1]!);
  }
}
tf.serialization.registerClass(Subtract);
