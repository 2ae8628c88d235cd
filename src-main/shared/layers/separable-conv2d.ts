/** Keras `SeparableConv2D`: a depthwise convolution followed by a 1×1 (pointwise) one. */
import {
  activationCaption,
  add,
  biasCount,
  convWindowFields,
  defineLayer,
  depthMultiplierField,
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

export interface SeparableConv2DConfig extends ConvWindowConfig {
  filters: number;
  depth_multiplier: number;
  depthwise_initializer: InitializerName;
  pointwise_initializer: InitializerName;
  bias_initializer: InitializerName;
}

const fields = [
  { name: 'filters', kind: 'int', label: 'Filters', help: 'Number of output channels (after the pointwise step).', required: true, default: null, suggested: 32, min: 1 },
  depthMultiplierField,
  ...convWindowFields,
  initializerField('depthwise_initializer', 'Depthwise initializer', 'glorot_uniform'),
  initializerField('pointwise_initializer', 'Pointwise initializer', 'glorot_uniform'),
  initializerField('bias_initializer', 'Bias initializer', 'zeros'),
] as const;

export const separableConv2d = defineLayer({
  className: 'SeparableConv2D',
  role: 'maps',
  namePrefix: 'separable_conv2d',
  palette: 'Convolution',
  summary: 'A depthwise then a 1×1 convolution: Conv2D-like output with fewer weights.',
  fields,
  infer(ctx, input) {
    const [h, w, c] = spatialInput(ctx, input);
    const [oh, ow] = windowed(ctx, h, w, 'kernel_size', true);
    const dm = ctx.int('depth_multiplier');
    const filters = ctx.int('filters');
    const [kh, kw] = ctx.pair('kernel_size');
    return { output: [oh, ow, filters], params: add(mul(kh, kw, c, dm), mul(c, dm, filters), biasCount(ctx, filters)), nonTrainable: 0 };
  },
  resolve: (r): SeparableConv2DConfig => ({
    ...resolveConvWindow(r),
    filters: r.int('filters'),
    depth_multiplier: r.int('depth_multiplier'),
    depthwise_initializer: r.initializer('depthwise_initializer'),
    pointwise_initializer: r.initializer('pointwise_initializer'),
    bias_initializer: r.initializer('bias_initializer'),
  }),
  caption: (c) => [String(c.filters ?? '?'), sizeText(c.kernel_size ?? '?'), ...windowCaption(fields, c), ...activationCaption(fields, c)].join(' '),
});
