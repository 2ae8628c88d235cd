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
import { layerCoreFor } from '../model/layers/index';
import { inboundLayers } from '../model/tf-graph';
import { attrInts, GraphBuilder, layoutAfter, OnnxExportError, weightsByName, type Layout } from './onnx-graph';

const { onnx } = onnxProto;

export { OnnxExportError, tfPads, transposeArray } from './onnx-graph';

/** The opset we target: 13 has every op we emit (Erf-based GELU instead of opset-20 Gelu, for older runtimes). */
export const ONNX_OPSET = 13;
/** Graph input and output names, recorded in preprocessing.json. */
export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'output';

/**
 * Converts a tfjs model (one input, one output; a chain of layers or a graph, whose nodes are wired by tensor name)
 * into a serialized ONNX ModelProto.
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
  const start = g.node('Transpose', [ONNX_INPUT_NAME], 'input_to_nchw', [attrInts('perm', [0, 3, 1, 2])]);
  // Each layer's output tensor and layout by layer name: a graph's layers find their inputs here, wired by name.
  const produced = new Map<string, { x: string; layout: Layout }>();
  for (const inputLayer of model.inputLayers) produced.set(inputLayer.name, { x: start, layout: { rank: 4, h: h0, w: w0, c: c0 } });

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'InputLayer') continue;
    const core = layerCoreFor(cls);
    if (!core) throw new OnnxExportError(`layer '${layer.name}' (${cls}) has no ONNX export`);
    const ins = inboundLayers(layer).map((l) => {
      const t = produced.get(l.name);
      if (!t) throw new OnnxExportError(`layer '${layer.name}' (${cls}) takes '${l.name}', which comes later in the model's layer order`);
      return t;
    });
    if (ins.length === 0) throw new OnnxExportError(`layer '${layer.name}' (${cls}) has no input`);
    const x = core.onnx({ g, x: ins[0]!.x, layout: ins[0]!.layout, xs: ins.map((t) => t.x), layouts: ins.map((t) => t.layout), layer, cfg: layer.getConfig() as Record<string, unknown>, weights: weightsByName(layer) });
    produced.set(layer.name, { x, layout: layoutAfter(layer) });
  }

  const out = produced.get(model.outputLayers[0]!.name);
  if (!out) throw new OnnxExportError(`the model's output layer '${model.outputLayers[0]!.name}' was not reached`);
  let x = out.x;
  const layout = out.layout;
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
