/** ZeroPadding2D's core half (its fields and shapes: shared/layers/zero-padding2d.ts). */
import * as tf from '@tensorflow/tfjs';
import { ints } from '../../export/keras-args';
import { need4d, pair } from '../../export/onnx-graph';
import { FUSED, fusedPair, FusedUnsupported } from './fused-codes';
import { defineCore } from './kit';

/** tfjs writes padding as n, [rows, cols] or [[top, bottom], [left, right]]: always the last form here. */
function sides(p: unknown, read: (v: unknown) => [number, number]): [[number, number], [number, number]] {
  if (Array.isArray(p) && p.length === 2 && Array.isArray(p[0])) return [read(p[0]), read(p[1])];
  const [h, w] = read(p);
  return [
    [h, h],
    [w, w],
  ];
}

export const zeroPadding2dCore = defineCore<'ZeroPadding2D'>({
  build: (c, ctx) => tf.layers.zeroPadding2d({ ...ctx.base, padding: c.padding }),
  kerasArgs(c, layer) {
    const [tb, lr] = sides(c.padding, (v) => {
      const [a, b] = ints(v, 'padding', layer.name);
      return [a!.value, b!.value];
    });
    return [['padding', [ints(tb, 'padding', layer.name), ints(lr, 'padding', layer.name)]]];
  },
  rFunction: 'layer_zero_padding_2d',
  onnx({ g, x, layout, layer, cfg }) {
    need4d(layout, layer);
    const [tb, lr] = sides(cfg.padding, (v) => pair(v, 'padding', layer.name));
    const pads = g.int64Tensor(`${layer.name}/pads`, [0, 0, tb[0], lr[0], 0, 0, tb[1], lr[1]]);
    return g.node('Pad', [x, pads], layer.name);
  },
  fused: {
    encode(layer, c) {
      const p = c.padding;
      if (!Array.isArray(p) || p.length !== 2) throw new FusedUnsupported(`layer '${layer.name}': padding ${JSON.stringify(p)}`);
      const [top, bottom] = fusedPair(p[0]);
      const [left, right] = fusedPair(p[1]);
      return [FUSED.ZERO_PAD, top, bottom, left, right];
    },
  },
});
