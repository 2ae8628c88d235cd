/** Keras `Rescaling`: y = x · scale + offset, in training and at inference (e.g. scale 2, offset −1 maps [0, 1] to [−1, 1]). */
import { defineLayer, sameShape } from './kit';

export interface RescalingConfig {
  scale: number;
  offset: number;
}

export const rescaling = defineLayer({
  className: 'Rescaling',
  role: 'maps',
  namePrefix: 'rescaling',
  palette: 'Preprocessing & augmentation',
  summary: 'Multiplies and shifts every value (the workbench already scales pixels to [0, 1]).',
  fields: [
    { name: 'scale', kind: 'float', label: 'Scale', help: 'Every value is multiplied by it.', required: true, default: null, suggested: 2 },
    { name: 'offset', kind: 'float', label: 'Offset', help: 'Added after scaling.', required: false, default: 0 },
  ],
  infer: sameShape,
  resolve: (r): RescalingConfig => ({ scale: r.float('scale'), offset: r.float('offset') }),
  caption: (c) => `×${String(c.scale ?? '?')}${typeof c.offset === 'number' && c.offset !== 0 ? ` ${c.offset < 0 ? '−' : '+'} ${Math.abs(c.offset)}` : ''}`,
});
