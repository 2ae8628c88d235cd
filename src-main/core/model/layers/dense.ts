/** Dense's core half (its fields and shapes: shared/layers/dense.ts). */
import * as tf from '@tensorflow/tfjs';
import { Int } from '../../export/keras-args';
import { onnxActivation, OnnxExportError, tensorData } from '../../export/onnx-graph';
import { activationArgs, useBiasArgs } from './conv-common';
import { FUSED, fusedActivation } from './fused-codes';
import { defineCore } from './kit';

export const denseCore = defineCore<'Dense'>({
  build: (c, ctx) =>
    tf.layers.dense({
      ...ctx.base,
      units: c.units,
      activation: ctx.act(c.activation),
      useBias: c.use_bias,
      kernelInitializer: ctx.init(c.kernel_initializer, 0),
      biasInitializer: ctx.init(c.bias_initializer, 1),
    }),
  kerasArgs: (c) => [['units', new Int(Number(c.units))], ...activationArgs(c), ...useBiasArgs(c)],
  rFunction: 'layer_dense',
  onnx({ g, x, layout, layer, cfg, weights }) {
    const name = layer.name;
    if (layout.rank !== 2) throw new OnnxExportError(`layer '${name}' (Dense) receives an image-shaped tensor; add a Flatten or global pooling layer before it to export to ONNX`);
    const k = weights.get('kernel')!;
    const bias = weights.get('bias');
    const kName = g.floatTensor(`${name}/kernel`, tensorData(k), k.shape);
    const y = bias ? g.node('Gemm', [x, kName, g.floatTensor(`${name}/bias`, tensorData(bias), bias.shape)], name) : g.node('MatMul', [x, kName], name);
    return onnxActivation(g, y, String(cfg.activation ?? 'linear'), name);
  },
  fused: { encode: (layer, c, last) => [FUSED.DENSE, Number(c.units), c.useBias === false ? 0 : 1, fusedActivation(layer, c, last)] },
});
