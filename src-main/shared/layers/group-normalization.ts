/** Keras `GroupNormalization`: normalises each sample over groups of channels (no batch statistics). */
import { centerField, channelsAxisOnly, defineLayer, epsilonField, mul, scaleField } from './kit';

export interface GroupNormalizationConfig {
  groups: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
}

const fields = [
  { name: 'groups', kind: 'int', label: 'Groups', help: 'Channels are split into this many groups; the channel count must divide by it (1 = LayerNorm-like, channels = InstanceNorm-like).', required: false, default: 32, min: 1 },
  epsilonField(1e-3),
  centerField,
  scaleField,
] as const;

export const groupNormalization = defineLayer({
  className: 'GroupNormalization',
  role: 'elementwise',
  namePrefix: 'group_normalization',
  palette: 'Normalisation & activation',
  summary: 'Normalises each image over groups of channels: independent of the batch size.',
  fields,
  infer(ctx, input) {
    channelsAxisOnly(ctx, input);
    const c = input === null ? null : (input[input.length - 1] ?? null);
    const groups = ctx.int('groups');
    if (c !== null && groups !== null && c % groups !== 0) {
      ctx.error('groups', ctx.config.groups ?? groups, `the ${c} input channels cannot be split into ${groups} equal groups; use a divisor of ${c}`);
    }
    const learned = (ctx.bool('center') === false ? 0 : 1) + (ctx.bool('scale') === false ? 0 : 1);
    return { output: input, params: mul(c, learned), nonTrainable: 0 };
  },
  resolve: (r): GroupNormalizationConfig => ({ groups: r.int('groups'), epsilon: r.float('epsilon'), center: r.bool('center'), scale: r.bool('scale') }),
  caption: (c) => `${String(c.groups ?? 32)} groups`,
});
