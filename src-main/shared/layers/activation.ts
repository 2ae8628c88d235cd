/** Keras `Activation`: applies a named activation function. */
import type { ActivationName } from '../spec';
import { activationField, defineLayer, sameShape } from './kit';

export interface ActivationConfig {
  activation: ActivationName;
}

export const activation = defineLayer({
  className: 'Activation',
  role: 'elementwise',
  namePrefix: 'activation',
  palette: 'Normalisation & activation',
  summary: 'Applies an activation function (relu, softmax, …) to its input.',
  fields: [activationField('linear', true)],
  infer: sameShape,
  resolve: (r): ActivationConfig => ({ activation: r.activation() }),
  // An Activation without `activation` is Keras' linear one: say so rather than show nothing.
  caption: (c) => (typeof c.activation === 'string' ? c.activation : 'linear'),
});
