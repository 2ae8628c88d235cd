/**
 * The fused native step's vocabulary (native/trainer.cc): layer codes, activation codes, and the reading of tfjs
 * configs into numbers. A setting the step does not cover throws `FusedUnsupported`, whose message the run log quotes.
 */
import type * as tf from '@tensorflow/tfjs';
import type { TfConfig } from './kit';

export class FusedUnsupported extends Error {}

/** Layer codes: the first number of each layer's code list. */
export const FUSED = {
  CONV: 1,
  DENSE: 2,
  BATCH_NORM: 3,
  ACTIVATION: 4,
  MAX_POOL: 5,
  DROPOUT: 6,
  FLATTEN: 7,
  AVG_POOL: 8,
  GLOBAL_AVG_POOL: 9,
  GLOBAL_MAX_POOL: 10,
  ZERO_PAD: 11,
  SPATIAL_DROPOUT: 12,
  LEAKY_RELU: 13,
  GROUP_NORM: 14,
  RELU: 15,
  DEPTHWISE: 16,
  SEPARABLE: 17,
  ADD: 18,
  CONCATENATE: 19,
  MULTIPLY: 20,
  AVERAGE: 21,
  MAXIMUM: 22,
  SUBTRACT: 23,
} as const;

/** The merge layers' codes (graphs only: the layers they read go in the graph list beside the codes). */
const FUSED_MERGE: Readonly<Record<string, number>> = {
  Add: FUSED.ADD, Concatenate: FUSED.CONCATENATE, Multiply: FUSED.MULTIPLY, Average: FUSED.AVERAGE, Maximum: FUSED.MAXIMUM, Subtract: FUSED.SUBTRACT,
};

/** A merge layer's code list: [code]; Concatenate only on the channel axis (the native step joins channels). */
export function fusedMerge(layer: tf.layers.Layer, c: TfConfig): number[] {
  const code = FUSED_MERGE[layer.getClassName()];
  if (code === undefined) throw new FusedUnsupported(`${layer.getClassName()} layers`);
  if (code === FUSED.CONCATENATE && c.axis !== undefined && c.axis !== -1 && c.axis !== 3)
    throw new FusedUnsupported(`layer '${layer.name}': Concatenate on axis ${String(c.axis)} (the fused step joins channels, axis -1)`);
  return [code];
}

/**
 * DepthwiseConv2D [16, depthMultiplier, kh, kw, sh, sw, dh, dw, same, useBias, act] and SeparableConv2D [17, filters,
 * …the same]. tfjs-layers' DepthwiseConv2D runs without its dilation_rate (it passes null): matching Keras would
 * disagree with the same model's tfjs outputs, so a dilated one stays on tfjs.
 */
export function fusedDepthwise(layer: tf.layers.Layer, c: TfConfig, last: boolean): number[] {
  const [kh, kw] = fusedPair(c.kernelSize);
  const [sh, sw] = fusedPair(c.strides);
  const [dh, dw] = fusedPair(c.dilationRate ?? 1);
  const depthwise = layer.getClassName() === 'DepthwiseConv2D';
  if (depthwise && (dh !== 1 || dw !== 1))
    throw new FusedUnsupported(`layer '${layer.name}': DepthwiseConv2D with dilation_rate ${JSON.stringify(c.dilationRate)} (tfjs ignores it)`);
  const act = fusedActivation(layer, c, last);
  if (act === FUSED_ACTIVATION.softmax) throw new FusedUnsupported(`layer '${layer.name}': softmax on a convolution`);
  const geometry = [Number(c.depthMultiplier ?? 1), kh, kw, sh, sw, dh, dw, c.padding === 'same' ? 1 : 0, c.useBias === false ? 0 : 1, act];
  return depthwise ? [FUSED.DEPTHWISE, ...geometry] : [FUSED.SEPARABLE, Number(c.filters), ...geometry];
}

export const FUSED_ACTIVATION: Readonly<Record<string, number>> = { linear: 0, relu: 1, softmax: 2, elu: 3, selu: 4, gelu: 5, swish: 6, sigmoid: 7, tanh: 8 };

export function fusedPair(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
  throw new FusedUnsupported(`unexpected size ${JSON.stringify(v)}`);
}

/** The activation code of a layer's `activation`; softmax only on the last layer (the loss is fused with it). */
export function fusedActivation(layer: tf.layers.Layer, c: TfConfig, last: boolean): number {
  const name = String(c.activation ?? 'linear');
  const code = FUSED_ACTIVATION[name];
  if (code === undefined) throw new FusedUnsupported(`layer '${layer.name}': activation '${name}'`);
  if (code === FUSED_ACTIVATION.softmax && !last) throw new FusedUnsupported(`layer '${layer.name}': softmax before the last layer`);
  return code;
}
