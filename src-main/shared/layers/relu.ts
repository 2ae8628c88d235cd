/** Keras `ReLU`: max(x, 0), optionally capped (MobileNet's ReLU(6.)), with a slope below a threshold. */
import { defineLayer, sameShape } from './kit';

export interface ReLUConfig {
  /** Keras' None: unbounded. */
  max_value: number | null;
  negative_slope: number;
  threshold: number;
}

export const relu = defineLayer({
  className: 'ReLU',
  role: 'elementwise',
  namePrefix: 're_lu',
  palette: 'Normalisation & activation',
  summary: 'Rectified linear unit with an optional cap (ReLU6), slope and threshold.',
  fields: [
    { name: 'max_value', kind: 'float', label: 'Max value', help: 'Upper bound of the output (6 for ReLU6); empty = unbounded (Keras None).', required: false, default: null, min: 0 },
    { name: 'negative_slope', kind: 'float', label: 'Negative slope', help: 'Slope below the threshold (0 = plain ReLU).', required: false, default: 0, min: 0 },
    { name: 'threshold', kind: 'float', label: 'Threshold', help: 'Values above it pass; below it the negative slope applies (≥ 0, as in Keras 3).', required: false, default: 0, min: 0 },
  ],
  infer: sameShape,
  resolve: (r): ReLUConfig => ({ max_value: r.floatOrNull('max_value'), negative_slope: r.float('negative_slope'), threshold: r.float('threshold') }),
  caption: (c) =>
    [
      ...(typeof c.max_value === 'number' ? [`max ${c.max_value}`] : []),
      ...(typeof c.negative_slope === 'number' && c.negative_slope !== 0 ? [`slope ${c.negative_slope}`] : []),
      ...(typeof c.threshold === 'number' && c.threshold !== 0 ? [`threshold ${c.threshold}`] : []),
    ].join(' '),
});
