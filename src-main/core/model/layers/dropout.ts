/** Dropout's and SpatialDropout2D's core half (shared/layers/dropout.ts): the identity at inference. */
import * as tf from '@tensorflow/tfjs';
import { SpatialDropout2D } from '../spatial-dropout';
import { FUSED, FusedUnsupported } from './fused-codes';
import { defineCore } from './kit';

export const dropoutCore = defineCore<'Dropout'>({
  build: (c, ctx) => tf.layers.dropout({ ...ctx.base, rate: c.rate }),
  kerasArgs: (c) => [['rate', Number(c.rate)]],
  rFunction: 'layer_dropout',
  onnx: (step) => step.x,
  fused: {
    encode(layer, c) {
      if (c.noiseShape !== null && c.noiseShape !== undefined) throw new FusedUnsupported(`layer '${layer.name}': Dropout noise_shape`);
      return [FUSED.DROPOUT, Number(c.rate)];
    },
  },
});

export const spatialDropout2dCore = defineCore<'SpatialDropout2D'>({
  build: (c, ctx) => new SpatialDropout2D({ ...ctx.base, rate: c.rate }),
  kerasArgs: (c) => [['rate', Number(c.rate)]],
  rFunction: 'layer_spatial_dropout_2d',
  onnx: (step) => step.x,
  fused: { encode: (_layer, c) => [FUSED.SPATIAL_DROPOUT, Number(c.rate)] },
});
