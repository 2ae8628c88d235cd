import type * as tf from '@tensorflow/tfjs';

/** tfjs' base layer arguments (name, trainable, inputShape, …), which tfjs does not export under a name. */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** The one tensor a single-input layer receives. */
export function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (!x) throw new Error('expected one input tensor');
  return x;
}
