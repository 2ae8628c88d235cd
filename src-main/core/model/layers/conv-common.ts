/** What the three convolution layers share in Keras arguments and ONNX (one Conv node, grouped for depthwise). */
import { Int, ints, type Arg } from '../../export/keras-args';
import { attrInt, attrInts, need4d, onnxActivation, OnnxExportError, pair, tensorData, tfPads, transposeArray, type OnnxStep } from '../../export/onnx-graph';
import type { ConvWindowConfig } from '../../../shared/layers/kit';
import type { BuildContext, TfConfig } from './kit';

/** tfjs' arguments for a convolution's window, activation and bias. */
export const tfConvWindow = (c: ConvWindowConfig, ctx: BuildContext) => ({
  ...ctx.base,
  kernelSize: c.kernel_size,
  strides: c.strides,
  padding: c.padding,
  dilationRate: c.dilation_rate,
  activation: ctx.act(c.activation),
  useBias: c.use_bias,
});

/** kernel_size, strides, padding, dilation_rate. */
export function convArgs(c: TfConfig, name: string): [string, Arg][] {
  return [
    ['kernel_size', ints(c.kernelSize, 'kernel_size', name)],
    ['strides', ints(c.strides ?? 1, 'strides', name)],
    ['padding', String(c.padding)],
    ['dilation_rate', ints(c.dilationRate ?? 1, 'dilation_rate', name)],
  ];
}
export const activationArgs = (c: TfConfig): [string, Arg][] => [['activation', String(c.activation ?? 'linear')]];
export const useBiasArgs = (c: TfConfig): [string, Arg][] => [['use_bias', c.useBias !== false]];
export const depthMultiplierArgs = (c: TfConfig): [string, Arg][] => [['depth_multiplier', new Int(Number(c.depthMultiplier ?? 1))]];

/**
 * Conv2D, DepthwiseConv2D and SeparableConv2D as ONNX Conv nodes (NCHW). A depthwise kernel [kh, kw, C, M]
 * becomes a grouped conv weight [C·M, 1, kh, kw] (TF orders output channel c·M + m); the separable layer adds a
 * 1×1 pointwise Conv.
 */
export function convOnnx(step: OnnxStep, kind: 'conv' | 'depthwise' | 'separable'): string {
  const { g, layer, cfg, weights } = step;
  const name = layer.name;
  const inL = need4d(step.layout, layer);
  const kernelSize = pair(cfg.kernelSize, 'kernel_size', name);
  const strides = pair(cfg.strides ?? 1, 'strides', name);
  const dilation = pair(cfg.dilationRate ?? 1, 'dilation_rate', name);
  const padding = String(cfg.padding);
  if (padding !== 'same' && padding !== 'valid') throw new OnnxExportError(`layer '${name}': padding '${padding}' has no ONNX export (use 'same' or 'valid')`);
  const pads = tfPads(padding, [inL.h, inL.w], kernelSize, strides, dilation);
  const convAttrs = [attrInts('kernel_shape', kernelSize), attrInts('strides', strides), attrInts('dilations', dilation), attrInts('pads', pads)];
  const bias = weights.get('bias');
  let x: string;
  if (kind === 'conv') {
    const k = weights.get('kernel')!;
    const kData = transposeArray(tensorData(k), k.shape, [3, 2, 0, 1]); // HWIO → OIHW
    const inputs = [step.x, g.floatTensor(`${name}/kernel`, kData, [k.shape[3]!, k.shape[2]!, k.shape[0]!, k.shape[1]!])];
    if (bias) inputs.push(g.floatTensor(`${name}/bias`, tensorData(bias), bias.shape));
    x = g.node('Conv', inputs, name, convAttrs);
  } else {
    const dk = weights.get('depthwise_kernel')!;
    const [kh, kw, cin, mult] = dk.shape as [number, number, number, number];
    const dData = transposeArray(tensorData(dk), dk.shape, [2, 3, 0, 1]);
    const dwInputs = [step.x, g.floatTensor(`${name}/depthwise_kernel`, dData, [cin * mult, 1, kh, kw])];
    if (kind === 'depthwise' && bias) dwInputs.push(g.floatTensor(`${name}/bias`, tensorData(bias), bias.shape));
    x = g.node('Conv', dwInputs, name, [...convAttrs, attrInt('group', cin)]);
    if (kind === 'separable') {
      const pk = weights.get('pointwise_kernel')!;
      const pData = transposeArray(tensorData(pk), pk.shape, [3, 2, 0, 1]);
      const pwInputs = [x, g.floatTensor(`${name}/pointwise_kernel`, pData, [pk.shape[3]!, pk.shape[2]!, 1, 1])];
      if (bias) pwInputs.push(g.floatTensor(`${name}/bias`, tensorData(bias), bias.shape));
      x = g.node('Conv', pwInputs, name, [attrInts('kernel_shape', [1, 1])]);
    }
  }
  return onnxActivation(g, x, String(cfg.activation ?? 'linear'), name);
}
