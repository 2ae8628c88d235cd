/**
 * ReLU's core half (its fields: shared/layers/relu.ts; the tfjs layer: tfjs-layers/relu.ts). ONNX follows Keras'
 * own arithmetic: x·(x > threshold), clipped to [0, max_value], minus negative_slope·relu(threshold − x).
 */
import { attrInt } from '../../export/onnx-graph';
import type { Arg } from '../../export/keras-args';
import { reluLayer } from '../tfjs-layers/relu';
import { FUSED } from './fused-codes';
import { defineCore, num } from './kit';

const maxValueOf = (c: Readonly<Record<string, unknown>>): number | null => (typeof c.maxValue === 'number' ? c.maxValue : null);

export const reluCore = defineCore<'ReLU'>({
  build: (c, ctx) => reluLayer({ ...ctx.base, maxValue: c.max_value, negativeSlope: c.negative_slope, threshold: c.threshold }),
  kerasArgs(c) {
    // Only what differs from Keras' ReLU() defaults, as a person would write it (ReLU(max_value=6.0)).
    const args: [string, Arg][] = [];
    const max = maxValueOf(c);
    if (max !== null) args.push(['max_value', max]);
    if (num(c.negativeSlope, 0) !== 0) args.push(['negative_slope', num(c.negativeSlope, 0)]);
    if (num(c.threshold, 0) !== 0) args.push(['threshold', num(c.threshold, 0)]);
    return args;
  },
  rFunction: 'layer_activation_relu',
  onnx({ g, x, layer, cfg }) {
    const name = layer.name;
    const max = maxValueOf(cfg);
    const slope = num(cfg.negativeSlope, 0);
    const threshold = num(cfg.threshold, 0);
    const scalar = (what: string, v: number) => g.floatTensor(`${name}/${what}`, Float32Array.of(v), []);
    let y: string;
    if (threshold === 0) {
      y = g.node('Relu', [x], name);
    } else {
      const above = g.node('Cast', [g.node('Greater', [x, scalar('threshold', threshold)], name)], name, [attrInt('to', 1)] /* FLOAT */);
      y = g.node('Mul', [x, above], name);
    }
    if (max !== null) y = g.node('Clip', [y, scalar('min', 0), scalar('max', max)], name);
    if (slope !== 0) {
      const below = g.node('Relu', [g.node('Sub', [scalar('threshold_below', threshold), x], name)], name);
      y = g.node('Sub', [y, g.node('Mul', [below, scalar('negative_slope', slope)], name)], name);
    }
    return y;
  },
  fused: { encode: (_layer, c) => [FUSED.RELU, maxValueOf(c) ?? -1, num(c.negativeSlope, 0), num(c.threshold, 0)] },
});
