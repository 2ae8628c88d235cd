/**
 * tfjs LayersModel → ONNX (opset 13), built by walking the layers and copying their trained weights.
 *
 * Layout: the graph takes the app's NHWC input `[N, H, W, C]` and transposes it to NCHW once, because ONNX
 * Conv/Pool/BatchNormalization are NCHW-only. Keras' Flatten flattens NHWC order, so before a Flatten the
 * tensor is transposed back to NHWC; that keeps the following Dense kernel usable exactly as trained.
 * 'same' padding is written as explicit pads computed with TensorFlow's rule (the odd pixel goes at the end),
 * from the static shapes the model knows, rather than auto_pad, so there is no ambiguity for any runtime.
 */
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** The opset we target: 13 has every op we emit (Erf-based GELU instead of opset-20 Gelu, for older runtimes). */
export const ONNX_OPSET = 13;
/** Graph input and output names, recorded in preprocessing.json. */
export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'output';

/** A layer (or a layer setting) that has no ONNX translation here; the message names the layer. */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

type Layout = { rank: 4; c: number; h: number; w: number } | { rank: 2; c: number };

/** Accumulates nodes and initializers with unique names. */
class GraphBuilder {
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

const attrInt = (name: string, i: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const attrFloat = (name: string, f: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });
const attrInts = (name: string, ints: number[]): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });

/** A tfjs layer config value as a [h, w] pair (tfjs stores most 2-D settings as arrays, sometimes as one number). */
function pair(value: unknown, what: string, layer: string): [number, number] {
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
function weightsByName(layer: tf.layers.Layer): Map<string, tf.Tensor> {
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

function tensorData(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

/** Emits an activation by its Keras/tfjs name; `linear` emits nothing. */
function activation(g: GraphBuilder, x: string, name: string, layer: string): string {
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

function need4d(layout: Layout, layer: tf.layers.Layer): Extract<Layout, { rank: 4 }> {
  if (layout.rank !== 4) {
    throw new OnnxExportError(`layer '${layer.name}' (${layer.getClassName()}) needs an image-shaped input [H, W, C] but receives a flat vector of ${layout.c}`);
  }
  return layout;
}

/** Layout after a layer, from tfjs' own static output shape (so pads and pooling sizes always agree with tfjs). */
function layoutAfter(layer: tf.layers.Layer): Layout {
  const shape = layer.outputShape as (number | null)[];
  if (shape.length === 4) return { rank: 4, h: shape[1]!, w: shape[2]!, c: shape[3]! };
  if (shape.length === 2) return { rank: 2, c: shape[1]! };
  throw new OnnxExportError(`layer '${layer.name}' outputs shape ${JSON.stringify(shape)}; only [N, H, W, C] and [N, C] are exportable`);
}

/**
 * Converts a tfjs Sequential-style model (one input, a chain of layers) into a serialized ONNX ModelProto.
 * Throws OnnxExportError naming the first layer that cannot be expressed.
 */
export function modelToOnnx(model: tf.LayersModel, meta: { producerVersion?: string; docString?: string } = {}): Uint8Array {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new OnnxExportError(`only single-input, single-output models are exportable; this one has ${model.inputs.length} inputs and ${model.outputs.length} outputs`);
  }
  const inShape = model.inputs[0]!.shape;
  if (inShape.length !== 4 || inShape.slice(1).some((d) => d === null)) {
    throw new OnnxExportError(`the model input must be [N, H, W, C] with fixed H, W, C; it is ${JSON.stringify(inShape)}`);
  }
  const [, h0, w0, c0] = inShape as [null, number, number, number];
  const g = new GraphBuilder();
  g.unique(ONNX_INPUT_NAME);
  let x = g.node('Transpose', [ONNX_INPUT_NAME], 'input_to_nchw', [attrInts('perm', [0, 3, 1, 2])]);
  let layout: Layout = { rank: 4, h: h0, w: w0, c: c0 };

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    const name = layer.name;
    const weights = weightsByName(layer);
    switch (cls) {
      case 'InputLayer':
      case 'Dropout':
      case 'SpatialDropout2D':
        // Dropout is the identity at inference.
        break;
      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'SeparableConv2D': {
        const inL = need4d(layout, layer);
        const kernelSize = pair(cfg.kernelSize, 'kernel_size', name);
        const strides = pair(cfg.strides ?? 1, 'strides', name);
        const dilation = pair(cfg.dilationRate ?? 1, 'dilation_rate', name);
        const padding = String(cfg.padding);
        if (padding !== 'same' && padding !== 'valid') {
          throw new OnnxExportError(`layer '${name}': padding '${padding}' has no ONNX export (use 'same' or 'valid')`);
        }
        const pads = tfPads(padding, [inL.h, inL.w], kernelSize, strides, dilation);
        const convAttrs = [attrInts('kernel_shape', kernelSize), attrInts('strides', strides), attrInts('dilations', dilation), attrInts('pads', pads)];
        const bias = weights.get('bias');
        if (cls === 'Conv2D') {
          const k = weights.get('kernel')!;
          const kData = transposeArray(tensorData(k), k.shape, [3, 2, 0, 1]); // HWIO → OIHW
          const inputs = [x, g.floatTensor(`${name}/kernel`, kData, [k.shape[3]!, k.shape[2]!, k.shape[0]!, k.shape[1]!])];
          if (bias) inputs.push(g.floatTensor(`${name}/bias`, tensorData(bias), bias.shape));
          x = g.node('Conv', inputs, name, convAttrs);
        } else {
          // Depthwise kernel [kh, kw, C, M] → ONNX grouped conv weight [C·M, 1, kh, kw]; TF orders output channel c·M + m.
          const dk = weights.get('depthwise_kernel')!;
          const [kh, kw, cin, mult] = dk.shape as [number, number, number, number];
          const dData = transposeArray(tensorData(dk), dk.shape, [2, 3, 0, 1]);
          const dwInputs = [x, g.floatTensor(`${name}/depthwise_kernel`, dData, [cin * mult, 1, kh, kw])];
          if (cls === 'DepthwiseConv2D' && bias) dwInputs.push(g.floatTensor(`${name}/bias`, tensorData(bias), bias.shape));
          x = g.node('Conv', dwInputs, name, [...convAttrs, attrInt('group', cin)]);
          if (cls === 'SeparableConv2D') {
            const pk = weights.get('pointwise_kernel')!;
            const pData = transposeArray(tensorData(pk), pk.shape, [3, 2, 0, 1]);
            const pwInputs = [x, g.floatTensor(`${name}/pointwise_kernel`, pData, [pk.shape[3]!, pk.shape[2]!, 1, 1])];
            if (bias) pwInputs.push(g.floatTensor(`${name}/bias`, tensorData(bias), bias.shape));
            x = g.node('Conv', pwInputs, name, [attrInts('kernel_shape', [1, 1])]);
          }
        }
        x = activation(g, x, String(cfg.activation ?? 'linear'), name);
        break;
      }
      case 'BatchNormalization': {
        const axis = Number(cfg.axis ?? -1);
        const rank = layout.rank;
        if (!(axis === -1 || axis === rank - 1)) {
          throw new OnnxExportError(`layer '${name}': BatchNormalization on axis ${axis} is not exportable; only the channel axis (-1) is`);
        }
        const c = layout.c;
        const mean = weights.get('moving_mean')!;
        const variance = weights.get('moving_variance')!;
        const gamma = weights.get('gamma');
        const beta = weights.get('beta');
        x = g.node(
          'BatchNormalization',
          [
            x,
            g.floatTensor(`${name}/gamma`, gamma ? tensorData(gamma) : new Float32Array(c).fill(1), [c]),
            g.floatTensor(`${name}/beta`, beta ? tensorData(beta) : new Float32Array(c), [c]),
            g.floatTensor(`${name}/moving_mean`, tensorData(mean), [c]),
            g.floatTensor(`${name}/moving_variance`, tensorData(variance), [c]),
          ],
          name,
          [attrFloat('epsilon', Number(cfg.epsilon ?? 1e-3))],
        );
        break;
      }
      case 'Activation':
        x = activation(g, x, String(cfg.activation), name);
        break;
      case 'LeakyReLU':
        x = g.node('LeakyRelu', [x], name, [attrFloat('alpha', Number(cfg.alpha ?? 0.3))]);
        break;
      case 'ELU':
        x = g.node('Elu', [x], name, [attrFloat('alpha', Number(cfg.alpha ?? 1))]);
        break;
      case 'ReLU':
        if (cfg.maxValue != null) throw new OnnxExportError(`layer '${name}': ReLU with max_value ${String(cfg.maxValue)} is not exportable`);
        x = g.node('Relu', [x], name);
        break;
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const inL = need4d(layout, layer);
        const pool = pair(cfg.poolSize, 'pool_size', name);
        const strides = pair(cfg.strides ?? cfg.poolSize, 'strides', name);
        const padding = String(cfg.padding ?? 'valid');
        const pads = tfPads(padding, [inL.h, inL.w], pool, strides, [1, 1]);
        // count_include_pad=0 (the default) matches TF's 'same' average pooling, which ignores the padding.
        x = g.node(cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x], name, [attrInts('kernel_shape', pool), attrInts('strides', strides), attrInts('pads', pads)]);
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        need4d(layout, layer);
        const pooled = g.node(cls === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], name);
        x = g.node('Flatten', [pooled], name, [attrInt('axis', 1)]);
        break;
      }
      case 'ZeroPadding2D': {
        need4d(layout, layer);
        const p = cfg.padding as unknown;
        let tb: [number, number];
        let lr: [number, number];
        if (Array.isArray(p) && p.length === 2 && Array.isArray(p[0])) {
          tb = pair(p[0], 'padding', name);
          lr = pair(p[1], 'padding', name);
        } else {
          const [ph, pw] = pair(p, 'padding', name);
          tb = [ph, ph];
          lr = [pw, pw];
        }
        const pads = g.int64Tensor(`${name}/pads`, [0, 0, tb[0], lr[0], 0, 0, tb[1], lr[1]]);
        x = g.node('Pad', [x, pads], name);
        break;
      }
      case 'Flatten': {
        if (layout.rank === 4) x = g.node('Transpose', [x], `${name}/to_nhwc`, [attrInts('perm', [0, 2, 3, 1])]);
        x = g.node('Flatten', [x], name, [attrInt('axis', 1)]);
        break;
      }
      case 'Dense': {
        if (layout.rank !== 2) {
          throw new OnnxExportError(`layer '${name}' (Dense) receives an image-shaped tensor; add a Flatten or global pooling layer before it to export to ONNX`);
        }
        const k = weights.get('kernel')!;
        const bias = weights.get('bias');
        const kName = g.floatTensor(`${name}/kernel`, tensorData(k), k.shape);
        x = bias ? g.node('Gemm', [x, kName, g.floatTensor(`${name}/bias`, tensorData(bias), bias.shape)], name) : g.node('MatMul', [x, kName], name);
        x = activation(g, x, String(cfg.activation ?? 'linear'), name);
        break;
      }
      default:
        throw new OnnxExportError(`layer '${name}' (${cls}) has no ONNX export`);
    }
    if (cls !== 'InputLayer') layout = layoutAfter(layer);
  }

  // The app's output convention: NHWC if the model ends on an image-shaped tensor.
  if (layout.rank === 4) x = g.node('Transpose', [x], 'output_to_nhwc', [attrInts('perm', [0, 2, 3, 1])]);
  g.nodes.push({ opType: 'Identity', input: [x], output: [ONNX_OUTPUT_NAME], name: 'output' });

  const outDims = layout.rank === 4 ? [layout.h, layout.w, layout.c] : [layout.c];
  const valueInfo = (name: string, dims: number[]): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, ...dims.map((d) => ({ dimValue: d }))] } } },
  });
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'cnn-workbench',
    producerVersion: meta.producerVersion ?? '',
    docString: meta.docString ?? '',
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(ONNX_INPUT_NAME, [h0, w0, c0])],
      output: [valueInfo(ONNX_OUTPUT_NAME, outDims)],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}
