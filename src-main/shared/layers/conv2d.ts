/** Keras `Conv2D`: `filters` kernels of `kernel_size` slid over the image. */
import {
  activationCaption,
  add,
  biasCount,
  convWindowFields,
  defineLayer,
  initializerField,
  mul,
  sizeText,
  spatialInput,
  windowCaption,
  windowed,
  resolveConvWindow,
  type ConvWindowConfig,
  type InitializerName,
} from './kit';

export interface Conv2DConfig extends ConvWindowConfig {
  filters: number;
  kernel_initializer: InitializerName;
  bias_initializer: InitializerName;
}

const fields = [
  { name: 'filters', kind: 'int', label: 'Filters', help: 'Number of output channels.', required: true, default: null, suggested: 32, min: 1 },
  ...convWindowFields,
  initializerField('kernel_initializer', 'Kernel initializer', 'glorot_uniform'),
  initializerField('bias_initializer', 'Bias initializer', 'zeros'),
] as const;

export const conv2d = defineLayer({
  className: 'Conv2D',
  role: 'maps',
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
    ...resolveConvWindow(r),
    filters: r.int('filters'),
    kernel_initializer: r.initializer('kernel_initializer'),
    bias_initializer: r.initializer('bias_initializer'),
  }),
  caption: (c) => [String(c.filters ?? '?'), sizeText(c.kernel_size ?? '?'), ...windowCaption(fields, c), ...activationCaption(fields, c)].join(' '),
});
