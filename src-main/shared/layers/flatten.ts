/** Keras `Flatten`: an image of H×W×C values becomes one vector. */
import { defineLayer, describeShape, mul } from './kit';

export type FlattenConfig = Record<string, never>;

export const flatten = defineLayer({
  className: 'Flatten',
  role: 'hidden',
  namePrefix: 'flatten',
  palette: 'Dense',
  summary: 'Turns the image-shaped tensor into one vector for Dense layers.',
  fields: [],
  infer(ctx, input) {
    if (input === null) return { output: [null], params: 0, nonTrainable: 0 };
    if (input.length === 1) ctx.warn(null, undefined, `its input ${describeShape(input)} is already flat: this Flatten does nothing`);
    return { output: [mul(...input)], params: 0, nonTrainable: 0 };
  },
  resolve: (): FlattenConfig => ({}),
  caption: () => '',
});
