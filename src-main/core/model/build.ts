/**
 * Builds the tfjs model for a validated spec. Validation happens first (by our own arithmetic, see
 * validate.ts), so tfjs is only ever asked to build something that is known to be well-formed; should tfjs still
 * refuse, its error is wrapped in a SpecError naming the layer — never a raw stack trace.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyModelSpec, FunctionalModelSpec, LayerClassName, ModelSpec, SpecIssue } from '../../shared/spec';
import { LAYER_INFO, type LayerConfigOf } from '../../shared/layers/index';
import { configReader } from './config-reader';
import { SpecError } from './errors';
import { LAYER_CORE } from './layers/index';
import { activationRegistry, initializerRegistry } from './registry';
import { withDefaults } from './spec';
import { analyzeSpec, type FunctionalGraph } from './validate';

/**
 * The seed for weight slot `slot` of layer `index`: a 31-bit mix of the run seed, so that every layer and
 * every weight of a layer draws a different but reproducible stream.
 */
export function layerSeed(seed: number, index: number, slot: number): number {
  let h = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35) ^ Math.imul(slot + 1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) & 0x7fffffff;
}

/** The tfjs layer for one layer of a validated spec with defaults filled in: its definition's typed config, built by its core half. */
function makeLayer<K extends LayerClassName>(className: K, config: Record<string, unknown>, index: number, seed: number): tf.layers.Layer {
  // TypeScript cannot correlate LAYER_INFO[K] with LAYER_CORE[K] for a generic K; both are keyed by the same K.
  const typed = LAYER_INFO[className].resolve(configReader(className, config)) as LayerConfigOf<K>;
  const base = { name: String(config.name), trainable: config.trainable !== false };
  return LAYER_CORE[className].build(typed, {
    base,
    init: (initializer, slot) => initializerRegistry.get(initializer)(layerSeed(seed, index, slot)),
    act: (name) => activationRegistry.get(name).tfjs,
    seed: (slot) => layerSeed(seed, index, slot),
  });
}

/** The SpecError for a layer tfjs refused to build (or to apply), naming it. */
function tfjsRefused(index: number, name: string, className: string, err: unknown): SpecError {
  const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  const issue: SpecIssue = { severity: 'error', layerIndex: index, layerName: name, field: null, received: null, message: `Layer ${index} '${name}' (${className}): tfjs could not build it: ${reason}` };
  return new SpecError([issue], 'Cannot build the model');
}

/**
 * Builds the tfjs model for `spec`, with seeded initial weights: the same spec and seed give the same weights, bit
 * for bit. A Sequential spec becomes a `tf.Sequential`, a Functional one a `tf.model` wired as its graph. Throws
 * `SpecError` listing every problem when the spec is invalid (warnings alone do not stop it), and for a seed that is
 * not a finite integer.
 */
export function buildModel(spec: ModelSpec, seed: number): tf.Sequential;
export function buildModel(spec: AnyModelSpec, seed: number): tf.LayersModel;
export function buildModel(spec: AnyModelSpec, seed: number): tf.LayersModel {
  if (!Number.isSafeInteger(seed)) {
    throw new SpecError(
      [{ severity: 'error', layerIndex: null, layerName: null, field: 'seed', received: JSON.stringify(seed) ?? String(seed), message: `seed = ${String(seed)} must be an integer` }],
      'Cannot build the model',
    );
  }
  const analysis = analyzeSpec(spec);
  if (analysis.issues.some((i) => i.severity === 'error')) throw new SpecError(analysis.issues);
  if (spec.class_name === 'Functional') {
    if (!analysis.graph) throw new SpecError(analysis.issues, 'Cannot build the model');
    return buildGraph(spec, analysis.graph, seed);
  }
  const full = withDefaults(spec);
  const model = tf.sequential({ name: full.config.name });
  full.config.layers.forEach((layer, index) => {
    try {
      model.add(makeLayer(layer.class_name, layer.config, index, seed));
    } catch (err) {
      model.dispose();
      throw tfjsRefused(index, String(layer.config.name), layer.class_name, err);
    }
  });
  return model;
}

/**
 * A functional spec as `tf.model`: each layer applied to its inbound layers' symbolic outputs, in the validator's
 * order (every layer after its inputs). Seeds follow the layer's index in the spec, as for Sequential models.
 */
function buildGraph(spec: FunctionalModelSpec, graph: FunctionalGraph, seed: number): tf.LayersModel {
  const full = withDefaults(spec);
  const outputs = new Map<number, tf.SymbolicTensor>();
  for (const index of graph.order) {
    const layer = full.config.layers[index]!;
    try {
      if (layer.class_name === 'InputLayer') {
        const shape = layer.config.shape as number[];
        outputs.set(index, tf.input({ shape, name: layer.name }));
        continue;
      }
      const ins = graph.inbound[index]!.map((j) => outputs.get(j)!);
      const tfLayer = makeLayer(layer.class_name, layer.config, index, seed);
      outputs.set(index, tfLayer.apply(ins.length === 1 ? ins[0]! : ins) as tf.SymbolicTensor);
    } catch (err) {
      throw tfjsRefused(index, layer.name, layer.class_name, err);
    }
  }
  return tf.model({ inputs: outputs.get(graph.input)!, outputs: outputs.get(graph.output)!, name: full.config.name });
}
