/** Keras `Conv2D`: `filters` kernels of `kernel_size` slid over the image. */
import type { ActivationName } from '../spec';
import {
  activationCaption,
  activationField,
  add,
  biasCount,
  defineLayer,
  dilationField,
  initializerField,
  kernelSizeField,
  mul,
  paddingField,
  sizeText,
  spatialInput,
  stridesField,
  useBiasField,
  windowCaption,
  windowed,
  type InitializerName,
  type Pair,
} from './kit';

export interface Conv2DConfig {
  filters: number;
  kernel_size: Pair;
  strides: Pair;
  padding: 'valid' | 'same';
  dilation_rate: Pair;
  activation: ActivationName;
  use_bias: boolean;
  kernel_initializer: InitializerName;
  bias_initializer: InitializerName;
}

const fields = [
  { name: 'filters', kind: 'int', label: 'Filters', help: 'Number of output channels.', required: true, default: null, suggested: 32, min: 1 },
  kernelSizeField,
  stridesField,
  paddingField,
  dilationField,
  activationField('linear'),
  useBiasField,
  initializerField('kernel_initializer', 'Kernel initializer', 'glorot_uniform'),
  initializerField('bias_initializer', 'Bias initializer', 'zeros'),
] as const;

export const conv2d = defineLayer({
  className: 'Conv2D',
  namePrefix: 'conv2d',
  palette: 'Convolution',
  summary: 'Slides learned filters over the image; each filter makes one output channel.',
  fields,
  infer(ctx, input) {
    const [h, w, c] = spatialInput(ctx, input);
    const [oh, ow] = windowed(ctx, h, w, 'kernel_size', true);
    const filters = ctx.int('filters');
    const [kh, kw] = ctx.pair('kernel_size');
    return { output: [oh, ow, filters], params: add(mul(kh, kw, c, filters), biasCount(ctx, filters)), nonTrainable: 0 };
  },
  resolve: (r): Conv2DConfig => ({
    filters: r.int('filters'),
    kernel_size: r.pair('kernel_size'),
    strides: r.pair('strides'),
    padding: r.str('padding', ['valid', 'same']),
    dilation_rate: r.pair('dilation_rate'),
    activation: r.activation(),
    use_bias: r.bool('use_bias'),
    kernel_initializer: r.initializer('kernel_initializer'),
    bias_initializer: r.initializer('bias_initializer'),
  }),
  caption: (c) => [String(c.filters ?? '?'), sizeText(c.kernel_size ?? '?'), ...windowCaption(fields, c), ...activationCaption(fields, c)].join(' '),
});
