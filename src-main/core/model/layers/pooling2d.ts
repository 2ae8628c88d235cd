/** MaxPooling2D's and AveragePooling2D's core half (their fields and shapes: shared/layers/pooling2d.ts). */
import * as tf from '@tensorflow/tfjs';
import { ints, type Arg } from '../../export/keras-args';
import { attrInts, need4d, pair, tfPads, type OnnxStep } from '../../export/onnx-graph';
import { FUSED, fusedPair } from './fused-codes';
import type { Pooling2DConfig } from '../../../shared/layers/pooling2d';
import { defineCore, type BuildContext, type TfConfig } from './kit';

const pooling = (max: boolean) => ({
    build(c: Pooling2DConfig, ctx: BuildContext) {
      const args = { ...ctx.base, poolSize: c.pool_size, strides: c.strides, padding: c.padding };
      return max ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
    },
    kerasArgs: (c: TfConfig, layer: tf.layers.Layer): [string, Arg][] => [
      ['pool_size', ints(c.poolSize, 'pool_size', layer.name)],
      ['strides', ints(c.strides ?? c.poolSize, 'strides', layer.name)],
      ['padding', String(c.padding ?? 'valid')],
    ],
    rFunction: max ? 'layer_max_pooling_2d' : 'layer_average_pooling_2d',
    onnx({ g, x, layout, layer, cfg }: OnnxStep) {
      const inL = need4d(layout, layer);
      const poolSize = pair(cfg.poolSize, 'pool_size', layer.name);
      const strides = pair(cfg.strides ?? cfg.poolSize, 'strides', layer.name);
      const pads = tfPads(String(cfg.padding ?? 'valid'), [inL.h, inL.w], poolSize, strides, [1, 1]);
      // count_include_pad=0 (the default) matches TF's 'same' average pooling, which ignores the padding.
      return g.node(max ? 'MaxPool' : 'AveragePool', [x], layer.name, [attrInts('kernel_shape', poolSize), attrInts('strides', strides), attrInts('pads', pads)]);
    },
    fused: {
      encode(_layer: tf.layers.Layer, c: TfConfig) {
        const [ph, pw] = fusedPair(c.poolSize);
        const [sh, sw] = fusedPair(c.strides ?? c.poolSize);
        return [max ? FUSED.MAX_POOL : FUSED.AVG_POOL, ph, pw, sh, sw, c.padding === 'same' ? 1 : 0];
      },
    },
});

export const maxPooling2dCore = defineCore<'MaxPooling2D'>(pooling(true));
export const averagePooling2dCore = defineCore<'AveragePooling2D'>(pooling(false));
