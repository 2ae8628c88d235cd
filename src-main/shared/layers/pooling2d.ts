/** Keras `MaxPooling2D` and `AveragePooling2D`: one module, since they differ only in the reduction. */
import { defineLayer, poolFields, sizeText, spatialInput, windowCaption, windowed, type Pair } from './kit';

export interface Pooling2DConfig {
  pool_size: Pair;
  /** Keras' None (= pool_size) is resolved to the pool size. */
  strides: Pair;
  padding: 'valid' | 'same';
}

const pooling = <K extends 'MaxPooling2D' | 'AveragePooling2D'>(className: K, namePrefix: string, summary: string) =>
  defineLayer({
    className,
    role: 'maps',
    namePrefix,
    palette: 'Pooling',
    summary,
    fields: poolFields,
    infer(ctx, input) {
      const [h, w, c] = spatialInput(ctx, input);
      const [oh, ow] = windowed(ctx, h, w, 'pool_size', false);
      return { output: [oh, ow, c], params: 0, nonTrainable: 0 };
    },
    resolve: (r): Pooling2DConfig => ({ pool_size: r.pair('pool_size'), strides: r.pair('strides'), padding: r.str('padding', ['valid', 'same']) }),
    caption: (c) => [`pool ${sizeText(c.pool_size ?? 2)}`, ...windowCaption(poolFields, c)].join(' '),
  });

export const maxPooling2d = pooling('MaxPooling2D', 'max_pooling2d', 'Keeps the largest value of each window: halves the image at 2×2.');
export const averagePooling2d = pooling('AveragePooling2D', 'average_pooling2d', 'Averages each window: halves the image at 2×2.');
