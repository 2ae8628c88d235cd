/**
 * Parsing a spec from JSON and filling Keras' defaults: the two transformations every consumer (CLI, trainer,
 * exporter, UI) applies before doing anything else with a spec.
 */
import type { AnyModelSpec, FunctionalLayerSpec, FunctionalModelSpec, LayerSpec, ModelSpec } from '../../shared/spec';
import { SpecError } from './errors';
import { layerRegistry } from './registry';
import { analyzeSpec, assignNames } from './validate';

/**
 * Checks that `json` is a well-formed spec — the Sequential or Functional envelope, known layer classes, config
 * objects, every config field's type and range, and (Functional) well-formed `inbound_nodes` — and returns a deep
 * copy. Throws `SpecError` listing every such problem. Shape and wiring problems (a pool larger than its input, a
 * Dense on a 4-D input, a cycle, an unknown inbound name) are not checked here — use `summarizeSpec`, or
 * `buildModel`, which refuses them — so an editor can still load a half-finished model.
 */
export function parseSpec(json: unknown): AnyModelSpec {
  const analysis = analyzeSpec(json);
  if (analysis.structural.length > 0 || analysis.layers === null) {
    throw new SpecError(analysis.structural.length > 0 ? analysis.structural : analysis.issues, 'Not a valid model spec');
  }
  const src = json as AnyModelSpec;
  if (src.class_name === 'Functional') {
    return {
      format_version: src.format_version,
      class_name: 'Functional',
      config: {
        name: src.config.name,
        // analyzeSpec's layers carry each entry's name (taken from config.name when the entry had none).
        layers: (analysis.layers as FunctionalLayerSpec[]).map((l) => structuredClone({ name: l.name, class_name: l.class_name, config: l.config, inbound_nodes: l.inbound_nodes })),
        input_layers: structuredClone(src.config.input_layers),
        output_layers: structuredClone(src.config.output_layers),
      },
    };
  }
  return {
    format_version: src.format_version,
    class_name: 'Sequential',
    config: {
      name: src.config.name,
      layers: src.config.layers.map((l) => structuredClone({ class_name: l.class_name, config: l.config ?? {} })),
    },
  };
}

const asPair = (v: unknown): unknown => (typeof v === 'number' ? [v, v] : v);

/**
 * A copy of `spec` with every omitted config field set to Keras' default and every layer named (Keras-style
 * auto names: conv2d, conv2d_1, …, never colliding with given names). Pair fields are written as [h, w] and
 * padding as Keras' `get_config` would (pool strides = pool_size; ZeroPadding2D [[t, b], [l, r]]); LeakyReLU's
 * Keras 2 `alpha` becomes `negative_slope`. Field values are not validated here.
 */
export function withDefaults(spec: ModelSpec): ModelSpec;
export function withDefaults(spec: FunctionalModelSpec): FunctionalModelSpec;
export function withDefaults(spec: AnyModelSpec): AnyModelSpec;
export function withDefaults(spec: AnyModelSpec): AnyModelSpec {
  if (spec.class_name === 'Functional') {
    const layers = spec.config.layers.map((l) => ({ ...filledLayer({ class_name: l.class_name, config: { ...l.config, name: l.name } }, l.name), name: l.name, inbound_nodes: structuredClone(l.inbound_nodes) }));
    return { format_version: spec.format_version, class_name: 'Functional', config: { ...structuredClone(spec.config), layers } };
  }
  const names = assignNames(spec.config.layers);
  const layers = spec.config.layers.map((layer, i) => filledLayer(layer, names[i]));
  return { format_version: spec.format_version, class_name: 'Sequential', config: { name: spec.config.name, layers } };
}

/** One layer with its defaults filled in and its name set. */
function filledLayer(layer: LayerSpec, name: string | undefined): LayerSpec {
  const config: Record<string, unknown> = structuredClone(layer.config ?? {});
  config.name = name;
  if (config.trainable === undefined) config.trainable = true;
  if (!layerRegistry.has(layer.class_name)) return { class_name: layer.class_name, config };
  if (layer.class_name === 'LeakyReLU' && config.negative_slope === undefined && config.alpha !== undefined) {
    config.negative_slope = config.alpha;
  }
  if (layer.class_name === 'LeakyReLU') delete config.alpha;
  if (layer.class_name === 'InputLayer' && config.shape === undefined) {
    const batch = config.batch_shape ?? config.batch_input_shape;
    if (Array.isArray(batch)) config.shape = batch.slice(1);
  }
  for (const d of layerRegistry.get(layer.class_name).fields) {
    if (config[d.name] === undefined && !d.required) config[d.name] = structuredClone(d.default);
    if (d.kind === 'pair') config[d.name] = asPair(config[d.name]);
  }
  if ((layer.class_name === 'MaxPooling2D' || layer.class_name === 'AveragePooling2D') && config.strides === null) {
    config.strides = structuredClone(config.pool_size);
  }
  if (layer.class_name === 'ZeroPadding2D') {
    const p = config.padding;
    if (typeof p === 'number') config.padding = [[p, p], [p, p]];
    else if (Array.isArray(p) && typeof p[0] === 'number') config.padding = [[p[0], p[0]], [p[1], p[1]]];
  }
  return { class_name: layer.class_name, config };
}
