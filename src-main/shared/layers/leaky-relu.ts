/** Keras `LeakyReLU`: x for x ≥ 0, negative_slope·x below. */
import { defineLayer, sameShape } from './kit';

export interface LeakyReLUConfig {
  negative_slope: number;
}

export const leakyReLU = defineLayer({
  className: 'LeakyReLU',
  role: 'elementwise',
  namePrefix: 'leaky_re_lu',
  palette: 'Normalisation & activation',
  summary: 'ReLU with a small slope below zero, so no unit dies.',
  fields: [
    { name: 'negative_slope', kind: 'float', label: 'Negative slope', help: "Slope for x < 0 (Keras 3 default 0.3; Keras 2 called it 'alpha').", required: false, default: 0.3, min: 0 },
  ],
  infer: sameShape,
  resolve: (r): LeakyReLUConfig => ({ negative_slope: r.float('negative_slope') }),
  caption: (c) => `slope ${String(c.negative_slope ?? c.alpha ?? 0.3)}`,
});
