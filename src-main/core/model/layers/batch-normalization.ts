/** BatchNormalization's core half (its fields and shapes: shared/layers/batch-normalization.ts). */
import * as tf from '@tensorflow/tfjs';
import { Int } from '../../export/keras-args';
import { attrFloat, OnnxExportError, tensorData } from '../../export/onnx-graph';
import { FUSED, FusedUnsupported } from './fused-codes';
import { defineCore } from './kit';

export const batchNormalizationCore = defineCore<'BatchNormalization'>({
  build: (c, ctx) => tf.layers.batchNormalization({ ...ctx.base, axis: -1, momentum: c.momentum, epsilon: c.epsilon, center: c.center, scale: c.scale }),
  kerasArgs: (c) => [
    ['axis', new Int(Number(c.axis ?? -1))],
    ['momentum', Number(c.momentum ?? 0.99)],
    ['epsilon', Number(c.epsilon ?? 1e-3)],
    ['center', c.center !== false],
    ['scale', c.scale !== false],
  ],
  rFunction: 'layer_batch_normalization',
  onnx({ g, x, layout, layer, cfg, weights }) {
    const name = layer.name;
    const axis = Number(cfg.axis ?? -1);
    if (!(axis === -1 || axis === layout.rank - 1)) {
      throw new OnnxExportError(`layer '${name}': BatchNormalization on axis ${axis} is not exportable; only the channel axis (-1) is`);
    }
    const c = layout.c;
    const gamma = weights.get('gamma');
    const beta = weights.get('beta');
    return g.node(
      'BatchNormalization',
      [
        x,
        g.floatTensor(`${name}/gamma`, gamma ? tensorData(gamma) : new Float32Array(c).fill(1), [c]),
        g.floatTensor(`${name}/beta`, beta ? tensorData(beta) : new Float32Array(c), [c]),
        g.floatTensor(`${name}/moving_mean`, tensorData(weights.get('moving_mean')!), [c]),
        g.floatTensor(`${name}/moving_variance`, tensorData(weights.get('moving_variance')!), [c]),
      ],
      name,
      [attrFloat('epsilon', Number(cfg.epsilon ?? 1e-3))],
    );
  },
  fused: {
    encode(layer, c) {
      const axis = c.axis;
      if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3)))
        throw new FusedUnsupported(`layer '${layer.name}': BatchNormalization axis ${JSON.stringify(axis)}`);
      return [FUSED.BATCH_NORM, Number(c.momentum), Number(c.epsilon), c.center === false ? 0 : 1, c.scale === false ? 0 : 1];
    },
  },
});
