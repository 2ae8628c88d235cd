/**
 * The inference graph an export carries: the trained model without Keras' training-only random augmentation
 * layers (RandomFlip, RandomRotation, …), which are the identity at inference. Keras' own exports do the same, and
 * a plain TF.js or ONNX runtime has no such layers to load. Rescaling stays: it changes the pixels at inference.
 *
 * The layers are taken out of the model's topology (Sequential or Functional; a removed layer's readers read its
 * input instead) and the trained weights are copied over by layer name, so nothing is retrained or re-derived.
 */
import * as tf from '@tensorflow/tfjs';
import { RandomLayer } from '../model/tfjs-layers/augmentation';

/** A layer the export left out, for verification.json and preprocessing.json. */
export interface LeftOutLayer {
  name: string;
  className: string;
}

export interface InferenceGraph {
  model: tf.LayersModel;
  leftOut: LeftOutLayer[];
  /** True when `model` is a new model the caller must dispose (false: it is the trained model itself). */
  owned: boolean;
}

type Json = Record<string, unknown>;
/** A tfjs layer entry in a saved topology: `inbound_nodes` is tf.keras 2's list form for functional models. */
interface TopologyLayer {
  class_name: string;
  name?: string;
  config: Json;
  inbound_nodes?: unknown[][][];
}

/** One sentence saying what was left out and why, or '' when nothing was. */
export function leftOutNote(leftOut: readonly LeftOutLayer[]): string {
  if (leftOut.length === 0) return '';
  const list = leftOut.map((l) => `${l.name} (${l.className})`).join(', ');
  return `training-only augmentation left out of the inference graph, as in Keras (the identity at inference): ${list}`;
}

/** The model an export should carry; the trained model itself when it has no training-only layers. */
export async function inferenceGraph(model: tf.LayersModel): Promise<InferenceGraph> {
  const leftOut = model.layers.filter((l) => l instanceof RandomLayer).map((l) => ({ name: l.name, className: l.getClassName() }));
  if (leftOut.length === 0) return { model, leftOut, owned: false };
  const topology = model.toJSON(null, false) as Json;
  const config = topology['config'] as Json;
  const layers = config['layers'] as TopologyLayer[];
  const removed = new Set(leftOut.map((l) => l.name));
  const kept = topology['class_name'] === 'Sequential' ? withoutSequential(layers, removed) : withoutFunctional(config, layers, removed);
  const stripped = await tf.models.modelFromJSON({ modelTopology: { ...topology, config: { ...config, layers: kept } } as tf.io.ModelJSON['modelTopology'] });
  for (const layer of stripped.layers) {
    const weights = model.getLayer(layer.name).getWeights();
    if (weights.length > 0) layer.setWeights(weights);
  }
  return { model: stripped, leftOut, owned: true };
}

/** Sequential: drop the entries; the input shape a dropped first layer carried moves to the next one. */
function withoutSequential(layers: readonly TopologyLayer[], removed: ReadonlySet<string>): TopologyLayer[] {
  const kept: TopologyLayer[] = [];
  let carried: unknown;
  for (const layer of layers) {
    const name = String(layer.config['name']);
    if (removed.has(name)) {
      carried ??= layer.config['batch_input_shape'];
      continue;
    }
    if (carried !== undefined && kept.length === 0 && layer.class_name !== 'InputLayer' && layer.config['batch_input_shape'] === undefined) {
      kept.push({ ...layer, config: { ...layer.config, batch_input_shape: carried } });
    } else {
      kept.push(layer);
    }
    carried = undefined;
  }
  return kept;
}

/** Functional: drop the entries and let every reader of a dropped layer read what that layer read. */
function withoutFunctional(config: Json, layers: readonly TopologyLayer[], removed: ReadonlySet<string>): TopologyLayer[] {
  const sourceOf = new Map<string, unknown[]>();
  for (const layer of layers) {
    if (removed.has(String(layer.name))) sourceOf.set(String(layer.name), layer.inbound_nodes?.[0]?.[0] ?? []);
  }
  // A removed layer may read another removed one: follow the chain to a kept layer.
  const resolve = (ref: unknown[]): unknown[] => {
    let r = ref;
    for (let guard = 0; removed.has(String(r[0])) && guard <= removed.size; guard++) {
      const next = sourceOf.get(String(r[0]))!;
      r = [next[0], next[1], next[2], r[3] ?? {}];
    }
    return r;
  };
  const outputs = config['output_layers'] as unknown[][];
  config['output_layers'] = outputs.map((o) => resolve(o).slice(0, 3));
  return layers
    .filter((l) => !removed.has(String(l.name)))
    .map((l) => ({ ...l, inbound_nodes: (l.inbound_nodes ?? []).map((node) => node.map(resolve)) }));
}
