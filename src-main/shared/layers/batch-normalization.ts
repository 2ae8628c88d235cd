/** Keras `BatchNormalization` over the channels axis, with moving statistics for inference. */
import { centerField, channelsAxisOnly, defineLayer, epsilonField, mul, scaleField } from './kit';

export interface BatchNormalizationConfig {
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
}

const fields = [
  { name: 'momentum', kind: 'float', label: 'Momentum', help: 'Weight of the old value in the moving mean/variance.', required: false, default: 0.99, min: 0, max: 1 },
  epsilonField(1e-3),
  centerField,
  scaleField,
] as const;

export const batchNormalization = defineLayer({
  className: 'BatchNormalization',
  role: 'elementwise',
  namePrefix: 'batch_normalization',
  palette: 'Normalisation & activation',
  summary: 'Normalises each channel over the batch; learns a scale and an offset.',
  fields,
  infer(ctx, input) {
    channelsAxisOnly(ctx, input);
    const c = input === null ? null : (input[input.length - 1] ?? null);
    const learned = (ctx.bool('center') === false ? 0 : 1) + (ctx.bool('scale') === false ? 0 : 1);
    return { output: input, params: mul(c, learned + 2), nonTrainable: mul(c, 2) };
  },
  resolve: (r): BatchNormalizationConfig => ({ momentum: r.float('momentum'), epsilon: r.float('epsilon'), center: r.bool('center'), scale: r.bool('scale') }),
  caption: (c) => (c.momentum !== undefined && c.momentum !== 0.99 ? `momentum ${String(c.momentum)}` : ''),
});
