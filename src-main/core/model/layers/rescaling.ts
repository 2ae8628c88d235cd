/** Rescaling's core half (its fields: shared/layers/rescaling.ts). */
import { Rescaling } from '../tfjs-layers/rescaling';
import { defineCore, num } from './kit';

export const rescalingCore = defineCore<'Rescaling'>({
  build: (c, ctx) => new Rescaling({ ...ctx.base, scale: c.scale, offset: c.offset }),
  kerasArgs: (c) => [
    ['scale', num(c.scale, 1)],
    ['offset', num(c.offset, 0)],
  ],
  rFunction: 'layer_rescaling',
  onnx({ g, x, layer, cfg }) {
    const scaled = g.node('Mul', [x, g.floatTensor(`${layer.name}/scale`, Float32Array.of(num(cfg.scale, 1)), [])], layer.name);
    return g.node('Add', [scaled, g.floatTensor(`${layer.name}/offset`, Float32Array.of(num(cfg.offset, 0)), [])], layer.name);
  },
  // Leading Rescaling layers run in the native augmentation pass, in training and at inference.
  fused: { augment: (_layer, c) => ({ code: [1, num(c.scale, 1), num(c.offset, 0)] }) },
});
