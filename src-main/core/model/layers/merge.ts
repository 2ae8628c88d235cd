/**
 * The merge layers' core half (their shapes: shared/layers/merge.ts). tfjs-layers has Add, Multiply, Average,
 * Maximum and Concatenate; Subtract is our own tfjs layer (tfjs-layers/subtract.ts). ONNX has a node for each:
 * Add/Mul/Sub for two inputs, the variadic Sum/Max/Mean for more, and Concat with Keras' axis mapped onto NCHW.
 */
import * as tf from '@tensorflow/tfjs';
import { Int } from '../../export/keras-args';
import { attrInt, OnnxExportError, type OnnxStep } from '../../export/onnx-graph';
import { Subtract } from '../tfjs-layers/subtract';
import { defineCore, type TfConfig } from './kit';

/** Why the fused native step does not train graph networks (yet): the run log quotes it and tfjs trains them. */
const GRAPH_FUSED = { unsupported: 'graph networks train through tfjs until the native graph step lands' } as const;

/** Two inputs through a binary op; more folded through the variadic one when ONNX has it, else a chain. */
function variadic({ g, xs, layer }: OnnxStep, binary: string, many: string | null): string {
  if (xs.length === 2 || many === null) return xs.slice(1).reduce((acc, x) => g.node(binary, [acc, x], layer.name), xs[0]!);
  return g.node(many, [...xs], layer.name);
}

/** Keras' concatenation axis (counted with the batch, channels_last) as the axis of our NCHW (or [N, C]) tensors. */
export function onnxConcatAxis(axis: number, rank: 2 | 4, layer: string): number {
  const a = axis < 0 ? rank + axis : axis;
  if (a < 1 || a >= rank) throw new OnnxExportError(`layer '${layer}' (Concatenate): axis ${axis} is not a per-sample axis of a rank-${rank} tensor`);
  if (rank === 2) return 1;
  // NHWC axis 1 (H) → NCHW 2, 2 (W) → 3, 3 (C) → 1.
  return a === 3 ? 1 : a + 1;
}

export const addCore = defineCore<'Add'>({
  build: (_c, ctx) => tf.layers.add(ctx.base),
  kerasArgs: () => [],
  rFunction: 'layer_add',
  onnx: (step) => variadic(step, 'Add', 'Sum'),
  fused: GRAPH_FUSED,
});

export const multiplyCore = defineCore<'Multiply'>({
  build: (_c, ctx) => tf.layers.multiply(ctx.base),
  kerasArgs: () => [],
  rFunction: 'layer_multiply',
  onnx: (step) => variadic(step, 'Mul', null),
  fused: GRAPH_FUSED,
});

export const averageCore = defineCore<'Average'>({
  build: (_c, ctx) => tf.layers.average(ctx.base),
  kerasArgs: () => [],
  rFunction: 'layer_average',
  onnx: ({ g, xs, layer }) => g.node('Mean', [...xs], layer.name),
  fused: GRAPH_FUSED,
});

export const maximumCore = defineCore<'Maximum'>({
  build: (_c, ctx) => tf.layers.maximum(ctx.base),
  kerasArgs: () => [],
  rFunction: 'layer_maximum',
  onnx: ({ g, xs, layer }) => g.node('Max', [...xs], layer.name),
  fused: GRAPH_FUSED,
});

export const subtractCore = defineCore<'Subtract'>({
  build: (_c, ctx) => new Subtract(ctx.base),
  kerasArgs: () => [],
  rFunction: 'layer_subtract',
  onnx: ({ g, xs, layer }) => g.node('Sub', [...xs], layer.name),
  fused: GRAPH_FUSED,
});

const axisOf = (c: TfConfig): number => (typeof c.axis === 'number' ? c.axis : -1);

export const concatenateCore = defineCore<'Concatenate'>({
  build: (c, ctx) => tf.layers.concatenate({ ...ctx.base, axis: c.axis }),
  kerasArgs: (c) => [['axis', new Int(axisOf(c))]],
  rFunction: 'layer_concatenate',
  onnx: ({ g, xs, layout, layer, cfg }) => g.node('Concat', [...xs], layer.name, [attrInt('axis', onnxConcatAxis(axisOf(cfg), layout.rank, layer.name))]),
  fused: GRAPH_FUSED,
});
