/** Keras `Dense`: every input connected to `units` outputs. */
import type { ActivationName } from '../spec';
import { activationCaption, activationField, add, biasCount, defineLayer, describeShape, initializerField, mul, useBiasField, type Dim, type InitializerName } from './kit';

export interface DenseConfig {
  units: number;
  activation: ActivationName;
  use_bias: boolean;
  kernel_initializer: InitializerName;
  bias_initializer: InitializerName;
}

const fields = [
  { name: 'units', kind: 'int', label: 'Units', help: 'Number of outputs.', required: true, default: null, suggested: 64, min: 1 },
  activationField('linear'),
  useBiasField,
  initializerField('kernel_initializer', 'Kernel initializer', 'glorot_uniform'),
  initializerField('bias_initializer', 'Bias initializer', 'zeros'),
] as const;

export const dense = defineLayer({
  className: 'Dense',
  role: 'maps',
  namePrefix: 'dense',
  palette: 'Dense',
  summary: 'Every input connected to every output: the classifier at the end.',
  fields,
  infer(ctx, input) {
    const units = ctx.int('units');
    let inDim: Dim = null;
    if (input !== null && input.length !== 1) {
      ctx.error(null, undefined, `needs a flat input (None, features); received ${describeShape(input)} — add a Flatten (or a GlobalAveragePooling2D) before it`);
    } else if (input !== null) {
      inDim = input[0];
    }
    return { output: [units], params: add(mul(inDim, units), biasCount(ctx, units)), nonTrainable: 0 };
  },
  resolve: (r): DenseConfig => ({
    units: r.int('units'),
    activation: r.activation(),
    use_bias: r.bool('use_bias'),
    kernel_initializer: r.initializer('kernel_initializer'),
    bias_initializer: r.initializer('bias_initializer'),
  }),
  caption: (c) => [String(c.units ?? '?'), ...activationCaption(fields, c)].join(' '),
});
