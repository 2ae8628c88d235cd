/** GlobalAveragePooling2D's and GlobalMaxPooling2D's core half (shared/layers/global-pooling2d.ts). */
import * as tf from '@tensorflow/tfjs';
import { attrInt, need4d } from '../../export/onnx-graph';
import { FUSED } from './fused-codes';
import { defineCore, type LayerCore } from './kit';

const globalPooling = <K extends 'GlobalAveragePooling2D' | 'GlobalMaxPooling2D'>(kind: K): LayerCore<K> => {
  const avg = kind === 'GlobalAveragePooling2D';
  return defineCore<K>({
    build: (_c, ctx) => (avg ? tf.layers.globalAveragePooling2d(ctx.base) : tf.layers.globalMaxPooling2d(ctx.base)),
    kerasArgs: () => [],
    rFunction: avg ? 'layer_global_average_pooling_2d' : 'layer_global_max_pooling_2d',
    onnx({ g, x, layout, layer }) {
      need4d(layout, layer);
      const pooled = g.node(avg ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], layer.name);
      return g.node('Flatten', [pooled], layer.name, [attrInt('axis', 1)]);
    },
    fused: { encode: () => [avg ? FUSED.GLOBAL_AVG_POOL : FUSED.GLOBAL_MAX_POOL] },
  });
};

export const globalAveragePooling2dCore = globalPooling('GlobalAveragePooling2D');
export const globalMaxPooling2dCore = globalPooling('GlobalMaxPooling2D');
