/** Keras `Dropout` and `SpatialDropout2D`: zero a fraction of values (or whole channels) while training. */
import { defineLayer, rateField, sameShape, spatialInput } from './kit';

export interface DropoutConfig {
  rate: number;
}

export const dropout = defineLayer({
  className: 'Dropout',
  role: 'hidden',
  namePrefix: 'dropout',
  palette: 'Regularisation',
  summary: 'Sets a random fraction of its inputs to zero while training (identity at inference).',
  fields: [rateField('Fraction of inputs set to zero while training, in [0, 1).')],
  infer: sameShape,
  resolve: (r): DropoutConfig => ({ rate: r.float('rate') }),
  caption: (c) => (c.rate === undefined ? '' : `rate ${String(c.rate)}`),
});

export const spatialDropout2d = defineLayer({
  className: 'SpatialDropout2D',
  role: 'hidden',
  namePrefix: 'spatial_dropout2d',
  palette: 'Regularisation',
  summary: 'Drops whole feature maps (channels) while training.',
  fields: [rateField('Fraction of whole feature maps (channels) set to zero while training, in [0, 1).')],
  infer(ctx, input) {
    const dims = spatialInput(ctx, input);
    return { output: input === null || input.length !== 3 ? dims : input, params: 0, nonTrainable: 0 };
  },
  resolve: (r): DropoutConfig => ({ rate: r.float('rate') }),
  caption: (c) => (c.rate === undefined ? '' : `rate ${String(c.rate)}`),
});
