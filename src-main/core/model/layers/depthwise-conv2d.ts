/** DepthwiseConv2D's core half (its fields and shapes: shared/layers/depthwise-conv2d.ts). */
import * as tf from '@tensorflow/tfjs';
import { activationArgs, convArgs, convOnnx, tfConvWindow, depthMultiplierArgs, useBiasArgs } from './conv-common';
import { fusedDepthwise } from './fused-codes';
import { defineCore } from './kit';

export const depthwiseConv2dCore = defineCore<'DepthwiseConv2D'>({
  build: (c, ctx) =>
    tf.layers.depthwiseConv2d({
      ...tfConvWindow(c, ctx),
      depthMultiplier: c.depth_multiplier,
      depthwiseInitializer: ctx.init(c.depthwise_initializer, 0),
      biasInitializer: ctx.init(c.bias_initializer, 1),
    }),
  kerasArgs: (c, layer) => [...convArgs(c, layer.name), ...depthMultiplierArgs(c), ...activationArgs(c), ...useBiasArgs(c)],
  rFunction: 'layer_depthwise_conv_2d',
  onnx: (step) => convOnnx(step, 'depthwise'),
  fused: { encode: fusedDepthwise },
});
