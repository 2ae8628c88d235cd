/** Activation's core half (its fields: shared/layers/activation.ts). */
import * as tf from '@tensorflow/tfjs';
import { onnxActivation } from '../../export/onnx-graph';
import { activationArgs } from './conv-common';
import { FUSED, fusedActivation } from './fused-codes';
import { defineCore } from './kit';

export const activationCore = defineCore<'Activation'>({
  build: (c, ctx) => tf.layers.activation({ ...ctx.base, activation: ctx.act(c.activation) }),
  kerasArgs: activationArgs,
  rFunction: 'layer_activation',
  onnx: ({ g, x, layer, cfg }) => onnxActivation(g, x, String(cfg.activation), layer.name),
  fused: { encode: (layer, c, last) => [FUSED.ACTIVATION, fusedActivation(layer, c, last)] },
});
