/**
 * GroupNormalization's core half (its fields and shapes: shared/layers/group-normalization.ts; the tfjs layer:
 * tfjs-layers/group-normalization.ts). ONNX's own GroupNormalization op needs opset 18 (and changed meaning in
 * 21), so the export spells it out in opset-13 ops: reshape to [N, groups, rest], normalise over the last axis,
 * reshape back, then γ·x + β per channel.
 */
import { Int } from '../../export/keras-args';
import { attrInts, tensorData } from '../../export/onnx-graph';
import { groupNormalizationLayer } from '../tfjs-layers/group-normalization';
import { FUSED } from './fused-codes';
import { defineCore } from './kit';

export const groupNormalizationCore = defineCore<'GroupNormalization'>({
  build: (c, ctx) => groupNormalizationLayer({ ...ctx.base, groups: c.groups, epsilon: c.epsilon, center: c.center, scale: c.scale }),
  kerasArgs: (c) => [
    ['groups', new Int(Number(c.groups ?? 32))],
    ['epsilon', Number(c.epsilon ?? 1e-3)],
    ['center', c.center !== false],
    ['scale', c.scale !== false],
  ],
  rFunction: 'layer_group_normalization',
  onnx({ g, x, layout, layer, cfg, weights }) {
    const name = layer.name;
    const groups = Number(cfg.groups ?? 32);
    const c = layout.c;
    const dims = layout.rank === 4 ? [0, c, layout.h, layout.w] : [0, c];
    const grouped = g.node('Reshape', [x, g.int64Tensor(`${name}/grouped_shape`, [0, groups, -1])], name);
    const mean = g.node('ReduceMean', [grouped], name, [attrInts('axes', [2])]);
    const centered = g.node('Sub', [grouped, mean], name);
    const variance = g.node('ReduceMean', [g.node('Mul', [centered, centered], name)], name, [attrInts('axes', [2])]);
    const eps = g.floatTensor(`${name}/epsilon`, Float32Array.of(Number(cfg.epsilon ?? 1e-3)), []);
    const normed = g.node('Div', [centered, g.node('Sqrt', [g.node('Add', [variance, eps], name)], name)], name);
    let y = g.node('Reshape', [normed, g.int64Tensor(`${name}/shape`, dims)], name);
    // Per-channel γ and β broadcast over H and W in NCHW: shape [C, 1, 1] (or [C] for a vector).
    const perChannel = layout.rank === 4 ? [c, 1, 1] : [c];
    const gamma = weights.get('gamma');
    const beta = weights.get('beta');
    if (gamma) y = g.node('Mul', [y, g.floatTensor(`${name}/gamma`, tensorData(gamma), perChannel)], name);
    if (beta) y = g.node('Add', [y, g.floatTensor(`${name}/beta`, tensorData(beta), perChannel)], name);
    return y;
  },
  fused: { encode: (_layer, c) => [FUSED.GROUP_NORM, Number(c.groups ?? 32), Number(c.epsilon ?? 1e-3), c.center === false ? 0 : 1, c.scale === false ? 0 : 1] },
});
