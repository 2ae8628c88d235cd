/** InputLayer's core half: nothing to compute, only the shape. */
import * as tf from '@tensorflow/tfjs';
import { defineCore } from './kit';

export const inputLayerCore = defineCore<'InputLayer'>({
  build: (c, ctx) => tf.layers.inputLayer({ name: ctx.base.name, inputShape: c.shape }),
  // The scripts write the input as keras.Input / layer_input from the model's input shape.
  kerasArgs: () => [],
  rFunction: 'layer_input',
  onnx: (step) => step.x,
  // The fused step takes the input shape from the model, not from a layer.
  fused: { encode: () => [] },
});
