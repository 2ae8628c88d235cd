/** Keras `DepthwiseConv2D`: one kernel per input channel (times `depth_multiplier`), no mixing across channels. */
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

export interface DepthwiseConv2DConfig extends ConvWindowConfig {
  depth_multiplier: number;
  depthwise_initializer: InitializerName;
  bias_initializer: InitializerName;
}

const fields = [
  depthMultiplierField,
  ...convWindowFields,
  initializerField('depthwise_initializer', 'Depthwise initializer', 'glorot_uniform'),
  initializerField('bias_initializer', 'Bias initializer', 'zeros'),
] as const;

export const depthwiseConv2d = defineLayer({
  className: 'DepthwiseConv2D',
  role: 'maps',
  namePrefix: 'depthwise_conv2d',
  palette: 'Convolution',
  summary: 'Filters each channel separately (MobileNet-style), far fewer weights than Conv2D.',
  fields,
  infer(ctx, input) {
    const [h, w, c] = spatialInput(ctx, input);
    const [oh, ow] = windowed(ctx, h, w, 'kernel_size', true);
    const dm = ctx.int('depth_multiplier');
    const [kh, kw] = ctx.pair('kernel_size');
    return { output: [oh, ow, mul(c, dm)], params: add(mul(kh, kw, c, dm), biasCount(ctx, mul(c, dm))), nonTrainable: 0 };
  },
  resolve: (r): DepthwiseConv2DConfig => ({
    ...resolveConvWindow(r),
    depth_multiplier: r.int('depth_multiplier'),
    depthwise_initializer: r.initializer('depthwise_initializer'),
    bias_initializer: r.initializer('bias_initializer'),
  }),
  caption: (c) => [sizeText(c.kernel_size ?? '?'), ...(c.depth_multiplier !== undefined && c.depth_multiplier !== 1 ? [`×${String(c.depth_multiplier)}`] : []), ...windowCaption(fields, c), ...activationCaption(fields, c)].join(' '),
});
