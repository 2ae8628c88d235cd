/**
 * The pieces an ONNX translation is made of, shared by every layer's `onnx` part (core/model/layers) and by the
 * model walk in onnx.ts: a graph builder with unique names, attribute helpers, TensorFlow's padding rule, and
 * weight access by Keras name.
 */
import type * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** A layer (or a layer setting) that has no ONNX translation here; the message names the layer. */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

export type Layout = { rank: 4; c: number; h: number; w: number } | { rank: 2; c: number };

/** Accumulates nodes and initializers with unique names. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private used = new Set<string>();

  unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./-]/g, '_');
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  node(op: string, inputs: string[], base: string, attrs: AttributeProto[] = []): string {
    const out = this.unique(`${base}/${op}`);
    this.nodes.push({ opType: op, input: inputs, output: [out], name: out, attribute: attrs });
    return out;
  }

  floatTensor(base: string, data: Float32Array, dims: number[]): string {
    const name = this.unique(base);
    const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }

  int64Tensor(base: string, values: number[]): string {
    const name = this.unique(base);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: new Uint8Array(data.buffer),
    });
    return name;
  }
}

export const attrInt = (name: string, i: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
export const attrFloat = (name: string, f: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });
export const attrInts = (name: string, ints: number[]): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });

/** A tfjs layer config value as a [h, w] pair (tfjs stores most 2-D settings as arrays, sometimes as one number). */
export function pair(value: unknown, what: string, layer: string): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return [value[0] as number, value[1] as number];
  throw new OnnxExportError(`layer '${layer}': ${what} ${JSON.stringify(value)} is not a number or a pair of numbers`);
}

/**
 * Explicit ONNX pads [top, left, bottom, right] for TensorFlow's 'same'/'valid' padding on an input of
 * `size`, so that ONNX produces exactly TensorFlow's output size and alignment.
 */
export function tfPads(padding: string, size: [number, number], kernel: [number, number], strides: [number, number], dilation: [number, number]): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const out = Math.ceil(size[i]! / strides[i]!);
    const effective = (kernel[i]! - 1) * dilation[i]! + 1;
    const total = Math.max((out - 1) * strides[i]! + effective - size[i]!, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [begin[0]!, begin[1]!, end[0]!, end[1]!];
}

/** Weights of a layer by their Keras name suffix (kernel, bias, gamma, …). */
export function weightsByName(layer: tf.layers.Layer): Map<string, tf.Tensor> {
  const map = new Map<string, tf.Tensor>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const short = w.name.split('/').pop()!.replace(/_\d+$/, '');
    map.set(short, values[i]!);
  });
  return map;
}

/** Transposes a row-major array of `shape` by `perm` (numpy.transpose semantics). */
export function transposeArray(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i]!;
  }
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += idx[d]! * inStrides[perm[d]!]!;
    out[o] = data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

export function tensorData(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

/** Emits an activation by its Keras/tfjs name; `linear` emits nothing. */
export function onnxActivation(g: GraphBuilder, x: string, name: string, layer: string): string {
  switch (name) {
    case 'linear':
      return x;
    case 'relu':
      return g.node('Relu', [x], layer);
    case 'elu':
      return g.node('Elu', [x], layer, [attrFloat('alpha', 1)]);
    case 'selu':
      // ONNX's default alpha/gamma are Keras' SELU constants.
      return g.node('Selu', [x], layer);
    case 'sigmoid':
      return g.node('Sigmoid', [x], layer);
    case 'tanh':
      return g.node('Tanh', [x], layer);
    case 'softmax':
      // The channel axis is 1 both for [N, C] and for our NCHW tensors, which is Keras' axis -1 in NHWC.
      return g.node('Softmax', [x], layer, [attrInt('axis', 1)]);
    case 'swish': {
      const sig = g.node('Sigmoid', [x], layer);
      return g.node('Mul', [x, sig], layer);
    }
    case 'gelu': {
      // Exact (erf) GELU, as tfjs' 'gelu' and Keras' default approximate=False compute it: x·½·(1+erf(x/√2)).
      const sqrt2 = g.floatTensor(`${layer}/sqrt2`, Float32Array.of(Math.SQRT2), []);
      const one = g.floatTensor(`${layer}/one`, Float32Array.of(1), []);
      const half = g.floatTensor(`${layer}/half`, Float32Array.of(0.5), []);
      const erf = g.node('Erf', [g.node('Div', [x, sqrt2], layer)], layer);
      const cdf = g.node('Mul', [g.node('Add', [erf, one], layer), half], layer);
      return g.node('Mul', [x, cdf], layer);
    }
    default:
      throw new OnnxExportError(`layer '${layer}': activation '${name}' has no ONNX export (supported: relu, elu, selu, gelu, swish, sigmoid, tanh, softmax, linear)`);
  }
}

export function need4d(layout: Layout, layer: tf.layers.Layer): Extract<Layout, { rank: 4 }> {
  if (layout.rank !== 4) {
    throw new OnnxExportError(`layer '${layer.name}' (${layer.getClassName()}) needs an image-shaped input [H, W, C] but receives a flat vector of ${layout.c}`);
  }
  return layout;
}

/** Layout after a layer, from tfjs' own static output shape (so pads and pooling sizes always agree with tfjs). */
export function layoutAfter(layer: tf.layers.Layer): Layout {
  const shape = layer.outputShape as (number | null)[];
  if (shape.length === 4) return { rank: 4, h: shape[1]!, w: shape[2]!, c: shape[3]! };
  if (shape.length === 2) return { rank: 2, c: shape[1]! };
  throw new OnnxExportError(`layer '${layer.name}' outputs shape ${JSON.stringify(shape)}; only [N, H, W, C] and [N, C] are exportable`);
}


/** What a layer's ONNX translation receives: the graph so far, its input tensor and layout, and the trained layer. */
export interface OnnxStep {
  g: GraphBuilder;
  /** The name of the layer's input tensor (NCHW for images, [N, C] for vectors); a merge's first input. */
  x: string;
  layout: Layout;
  /** Every input tensor, in order (one for all but the merge layers) and their layouts. */
  xs: readonly string[];
  layouts: readonly Layout[];
  layer: tf.layers.Layer;
  /** The tfjs layer's config (camelCase, as `getConfig()` returns it). */
  cfg: Readonly<Record<string, unknown>>;
  /** The layer's weights by Keras name (kernel, bias, gamma, …). */
  weights: ReadonlyMap<string, tf.Tensor>;
}
