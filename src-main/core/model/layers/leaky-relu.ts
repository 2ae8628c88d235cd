/** LeakyReLU's core half (its fields: shared/layers/leaky-relu.ts). tfjs calls the slope `alpha`. */
import * as tf from '@tensorflow/tfjs';
import { attrFloat } from '../../export/onnx-graph';
import { FUSED } from './fused-codes';
import { defineCore } from './kit';

export const leakyReLUCore = defineCore<'LeakyReLU'>({
  build: (c, ctx) => tf.layers.leakyReLU({ ...ctx.base, alpha: c.negative_slope }),
  kerasArgs: (c) => [['negative_slope', Number(c.alpha ?? 0.3)]],
  rFunction: 'layer_activation_leaky_relu',
  onnx: ({ g, x, layer, cfg }) => g.node('LeakyRelu', [x], layer.name, [attrFloat('alpha', Number(cfg.alpha ?? 0.3))]),
  fused: { encode: (_layer, c) => [FUSED.LEAKY_RELU, Number(c.alpha ?? 0.3)] },
});
