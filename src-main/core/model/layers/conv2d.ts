/** Conv2D's core half (its fields and shapes: shared/layers/conv2d.ts). */
import * as tf from '@tensorflow/tfjs';
import { Int } from '../../export/keras-args';
import { activationArgs, convArgs, convOnnx, tfConvWindow, useBiasArgs } from './conv-common';
import { FUSED, FUSED_ACTIVATION, fusedActivation, fusedPair, FusedUnsupported } from './fused-codes';
import { defineCore } from './kit';

export const conv2dCore = defineCore<'Conv2D'>({
  build: (c, ctx) =>
    tf.layers.conv2d({
      ...tfConvWindow(c, ctx),
      filters: c.filters,
      kernelInitializer: ctx.init(c.kernel_initializer, 0),
      biasInitializer: ctx.init(c.bias_initializer, 1),
    }),
  kerasArgs: (c, layer) => [['filters', new Int(Number(c.filters))], ...convArgs(c, layer.name), ...activationArgs(c), ...useBiasArgs(c)],
  rFunction: 'layer_conv_2d',
  onnx: (step) => convOnnx(step, 'conv'),
  fused: {
    encode(layer, c, last) {
      const [kh, kw] = fusedPair(c.kernelSize);
      const [sh, sw] = fusedPair(c.strides);
      const [dh, dw] = fusedPair(c.dilationRate ?? 1);
      const act = fusedActivation(layer, c, last);
      if (act === FUSED_ACTIVATION.softmax) throw new FusedUnsupported(`layer '${layer.name}': softmax on a convolution`);
      return [FUSED.CONV, Number(c.filters), kh, kw, sh, sw, dh, dw, c.padding === 'same' ? 1 : 0, c.useBias === false ? 0 : 1, act];
    },
  },
});
