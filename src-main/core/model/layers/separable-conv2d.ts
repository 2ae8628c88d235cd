/** SeparableConv2D's core half (its fields and shapes: shared/layers/separable-conv2d.ts). */
import * as tf from '@tensorflow/tfjs';
import { Int } from '../../export/keras-args';
import { activationArgs, convArgs, convOnnx, tfConvWindow, depthMultiplierArgs, useBiasArgs } from './conv-common';
import { fusedDepthwise } from './fused-codes';
import { defineCore } from './kit';

export const separableConv2dCore = defineCore<'SeparableConv2D'>({
  build(c, ctx) {
    const sep = tf.layers.separableConv2d({
      ...tfConvWindow(c, ctx),
      filters: c.filters,
      depthMultiplier: c.depth_multiplier,
      depthwiseInitializer: ctx.init(c.depthwise_initializer, 0),
      pointwiseInitializer: ctx.init(c.pointwise_initializer, 2),
      biasInitializer: ctx.init(c.bias_initializer, 1),
    });
    // tfjs 4.22's SeparableConv.getConfig() drops depthMultiplier, so a saved model.json with
    // depth_multiplier > 1 reloads with the wrong kernel shape; put it back (its constructor does read it).
    const getConfig = sep.getConfig.bind(sep);
    sep.getConfig = () => ({ ...getConfig(), depthMultiplier: c.depth_multiplier });
    return sep;
  },
  kerasArgs: (c, layer) => [['filters', new Int(Number(c.filters))], ...convArgs(c, layer.name), ...depthMultiplierArgs(c), ...activationArgs(c), ...useBiasArgs(c)],
  rFunction: 'layer_separable_conv_2d',
  onnx: (step) => convOnnx(step, 'separable'),
  fused: { encode: fusedDepthwise },
});
