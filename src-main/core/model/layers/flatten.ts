/** Flatten's core half. Keras flattens NHWC order, so ONNX transposes back from NCHW first. */
import * as tf from '@tensorflow/tfjs';
import { attrInt, attrInts } from '../../export/onnx-graph';
import { FUSED } from './fused-codes';
import { defineCore } from './kit';

export const flattenCore = defineCore<'Flatten'>({
  build: (_c, ctx) => tf.layers.flatten(ctx.base),
  kerasArgs: () => [],
  rFunction: 'layer_flatten',
  onnx({ g, x, layout, layer }) {
    const nhwc = layout.rank === 4 ? g.node('Transpose', [x], `${layer.name}/to_nhwc`, [attrInts('perm', [0, 2, 3, 1])]) : x;
    return g.node('Flatten', [nhwc], layer.name, [attrInt('axis', 1)]);
  },
  fused: { encode: () => [FUSED.FLATTEN] },
});
