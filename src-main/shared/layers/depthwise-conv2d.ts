/** Keras `DepthwiseConv2D`: one kernel per input channel (times `depth_multiplier`), no mixing across channels. */
import type { ActivationName } from '../spec';
import {
  activationCaption,
  activationField,
  add,
  biasCount,
  defineLayer,
  depthMultiplierField,
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

export interface DepthwiseConv2DConfig {
  kernel_size: Pair;
  strides: Pair;
  padding: 'valid' | 'same';
  depth_multiplier: number;
  dilation_rate: Pair;
  activation: ActivationName;
  use_bias: boolean;
  depthwise_initializer: InitializerName;
  bias_initializer: InitializerName;
}

const fields = [
  kernelSizeField,
  stridesField,
  paddingField,
  depthMultiplierField,
  dilationField,
  activationField('linear'),
  useBiasField,
  initializerField('depthwise_initializer', 'Depthwise initializer', 'glorot_uniform'),
  initializerField('bias_initializer', 'Bias initializer', 'zeros'),
] as const;

export const depthwiseConv2d = defineLayer({
  className: 'DepthwiseConv2D',
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
    kernel_size: r.pair('kernel_size'),
    strides: r.pair('strides'),
    padding: r.str('padding', ['valid', 'same']),
    depth_multiplier: r.int('depth_multiplier'),
    dilation_rate: r.pair('dilation_rate'),
    activation: r.activation(),
    use_bias: r.bool('use_bias'),
    depthwise_initializer: r.initializer('depthwise_initializer'),
    bias_initializer: r.initializer('bias_initializer'),
  }),
  caption: (c) => [sizeText(c.kernel_size ?? '?'), ...(c.depth_multiplier !== undefined && c.depth_multiplier !== 1 ? [`×${String(c.depth_multiplier)}`] : []), ...windowCaption(fields, c), ...activationCaption(fields, c)].join(' '),
});
