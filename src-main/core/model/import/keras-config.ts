/**
 * Converting a model config as Keras writes it into the workbench's spec: Keras 3's `model.to_json()` (layers with
 * `module`/`registered_name`/`build_config`, dtype policies and initializers as serialized objects, functional calls
 * as `{args: [__keras_tensor__ …], kwargs}`), tf.keras 2's (list-form `inbound_nodes`, `batch_input_shape`,
 * `{class_name, config}` initializers) and TF.js' `modelTopology` (tf.keras 2's shape, as tfjs-layers writes it).
 *
 * Only the layer fields the workbench has are kept; Keras' bookkeeping (dtype float32, channels_last, null
 * regularizers and constraints, seeds) is dropped silently; a setting that changes training but not the network's
 * function (a weight regularizer, a constraint, an initializer the workbench lacks) is dropped with a warning; one
 * that changes what the network computes (channels_first, grouped convolutions, a BatchNormalization over another
 * axis, a layer class the workbench lacks, a shared layer, a second input) refuses the model with one message
 * naming the layer, its class and what to do.
 */
import {
  LAYER_CLASS_NAMES,
  SPEC_FORMAT_VERSION,
  type AnyModelSpec,
  type FunctionalLayerSpec,
  type FunctionalModelSpec,
  type InboundRef,
  type LayerClassName,
  type LayerSpec,
  type ModelSpec,
  type TensorRef,
} from '../../../shared/spec';
import { INITIALIZERS, LAYER_FIELDS } from '../../../shared/layer-fields';
import { MAX_JSON_DEPTH, nestingDepth, showJson } from '../../json-limits';

/** A model file that cannot be opened: the message names the file, the layer and class, and what to do. */
export class ModelImportError extends Error {
  override name = 'ModelImportError';
}

/** Which writer the config came from, as far as its shape tells. */
export type KerasDialect = 'keras3' | 'tf.keras2' | 'tfjs';

export interface ConvertedModel {
  spec: AnyModelSpec;
  dialect: KerasDialect;
  /** What was dropped or replaced on the way (each names the layer); the spec still computes the same function. */
  warnings: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const KNOWN = new Set<string>(LAYER_CLASS_NAMES);
const isKnownClass = (c: string): c is LayerClassName => KNOWN.has(c);

/** Keras' class names for the initializers the workbench has (tf.keras 2, Keras 3 and tfjs spell them so). */
const INITIALIZER_BY_CLASS: Record<string, (typeof INITIALIZERS)[number]> = {
  GlorotUniform: 'glorot_uniform',
  GlorotNormal: 'glorot_normal',
  HeUniform: 'he_uniform',
  HeNormal: 'he_normal',
  LecunUniform: 'lecun_uniform',
  LeCunUniform: 'lecun_uniform',
  LecunNormal: 'lecun_normal',
  LeCunNormal: 'lecun_normal',
  RandomNormal: 'random_normal',
  RandomUniform: 'random_uniform',
  TruncatedNormal: 'truncated_normal',
  Zeros: 'zeros',
  Ones: 'ones',
};

/** VarianceScaling as the named initializers are defined (tfjs writes glorot_uniform this way). */
function varianceScalingName(c: Json): (typeof INITIALIZERS)[number] | null {
  const uniform = c.distribution === 'uniform';
  const normal = c.distribution === 'normal' || c.distribution === 'truncated_normal' || c.distribution === 'untruncated_normal';
  if (c.scale === 1 && c.mode === 'fan_avg') return uniform ? 'glorot_uniform' : normal ? 'glorot_normal' : null;
  if (c.scale === 2 && c.mode === 'fan_in') return uniform ? 'he_uniform' : normal ? 'he_normal' : null;
  if (c.scale === 1 && c.mode === 'fan_in') return uniform ? 'lecun_uniform' : normal ? 'lecun_normal' : null;
  return null;
}

/** The class name of a serialized Keras object (`"zeros"`, `{class_name: "Zeros", config}`), or null. */
const objectClass = (v: unknown): string | null => (typeof v === 'string' ? v : isObject(v) && typeof v.class_name === 'string' ? v.class_name : null);

/** Reads an initializer in any of Keras' forms; null when the workbench has no such initializer. */
function initializerName(v: unknown): (typeof INITIALIZERS)[number] | null {
  if (typeof v === 'string') {
    const snake = v.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
    return (INITIALIZERS as readonly string[]).includes(snake) ? (snake as (typeof INITIALIZERS)[number]) : (INITIALIZER_BY_CLASS[v] ?? null);
  }
  const cls = objectClass(v);
  if (cls === null) return null;
  if (cls === 'VarianceScaling' && isObject(v) && isObject(v.config)) return varianceScalingName(v.config);
  return INITIALIZER_BY_CLASS[cls] ?? null;
}

/** Keras 3 writes the float dtype as a DTypePolicy object; tf.keras 2 and tfjs as a string. */
function dtypeName(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isObject(v) && isObject(v.config) && typeof v.config.name === 'string') return v.config.name;
  return null;
}

/** A layer entry as read, before its fields are converted. */
interface RawLayer {
  index: number;
  className: string;
  name: string;
  config: Json;
  entry: Json;
}

/** Converts one file's config; `source` names the file in every message. */
export class KerasConfigConverter {
  readonly warnings: string[] = [];

  constructor(private readonly source: string) {}

  fail(message: string): never {
    throw new ModelImportError(`${this.source}: ${message}`);
  }

  private where(l: RawLayer): string {
    return `layer '${l.name}' (${l.className})`;
  }

  /** The workbench's config for one Keras layer: its known fields converted, the rest judged. */
  convertFields(l: RawLayer): Json {
    if (!isKnownClass(l.className)) this.refuseClass(l);
    const className = l.className as LayerClassName;
    const fields = LAYER_FIELDS[className];
    const known = new Set(fields.map((f) => f.name));
    const out: Json = { name: l.name };
    if (l.config.trainable === false) out.trainable = false;
    for (const [key, value] of Object.entries(l.config)) {
      if (key === 'name' || key === 'trainable') continue;
      if (className === 'InputLayer' && ['batch_shape', 'batch_input_shape', 'shape', 'input_shape'].includes(key)) continue;
      if (known.has(key)) {
        if (key.endsWith('_initializer')) out[key] = this.initializer(l, key, value, fields.find((f) => f.name === key)?.default);
        // An activation serialized as an object ({class_name: "function", config: "relu"}) names it in its config.
        else if (key === 'activation' && isObject(value) && typeof value.config === 'string') out[key] = value.config;
        else out[key] = value;
        continue;
      }
      this.extraField(l, key, value, out);
    }
    if (className === 'InputLayer') out.shape = this.inputShape(l);
    return out;
  }

  /** A Keras field the workbench's layer does not have: dropped silently, with a warning, or refused. */
  private extraField(l: RawLayer, key: string, value: unknown, out: Json): void {
    const at = this.where(l);
    if (key === 'dtype') {
      const d = dtypeName(value);
      if (d !== null && d !== 'float32') this.warnings.push(`${at}: dtype '${d}' ignored; the workbench computes in float32`);
      return;
    }
    if (key === 'data_format') {
      if (value !== null && value !== 'channels_last') {
        this.fail(`${at}: data_format ${showJson(value)} is not supported; the workbench computes channels_last (NHWC) — export the model with data_format='channels_last'`);
      }
      return;
    }
    if (key === 'alpha' && l.className === 'LeakyReLU') {
      // tf.keras 2's name for Keras 3's negative_slope.
      if (out.negative_slope === undefined && l.config.negative_slope === undefined) out.negative_slope = value;
      return;
    }
    if (key === 'groups' && value !== 1 && value !== null) {
      this.fail(`${at}: groups = ${showJson(value)} (a grouped convolution) is not supported — use groups=1, or a DepthwiseConv2D when groups equals the input channels`);
    }
    if (key === 'axis' && l.className === 'BatchNormalization') {
      const axes = Array.isArray(value) ? value : [value];
      if (!(axes.length === 1 && (axes[0] === -1 || axes[0] === 3))) {
        this.fail(`${at}: axis = ${showJson(value)} is not supported; the workbench normalizes the last (channel) axis — export with axis=-1`);
      }
      return;
    }
    if (key === 'renorm' && value === true) this.fail(`${at}: batch renormalization (renorm=True) is not supported — export with renorm=False`);
    if (/_regularizer$|_constraint$/.test(key)) {
      if (value !== null) this.warnings.push(`${at}: ${key} ${objectClass(value) ?? showJson(value)} ignored; the workbench trains without weight penalties or constraints (the network computes the same)`);
      return;
    }
    if (key.endsWith('_initializer')) {
      const cls = objectClass(value);
      // BatchNormalization's own initializers: Keras' defaults are the only ones the workbench uses.
      const dflt = /^(beta|moving_mean)_/.test(key) ? 'zeros' : /^(gamma|moving_variance)_/.test(key) ? 'ones' : null;
      if (value !== null && initializerName(value) !== dflt) this.warnings.push(`${at}: ${key} ${cls ?? showJson(value)} ignored (the workbench starts it at ${dflt ?? "Keras' default"})`);
      return;
    }
    // Bookkeeping every Keras layer writes; null / false / channel-last defaults mean "nothing special".
    if (value === null || value === false || ['seed', 'groups', 'synchronized', 'axis', 'renorm_momentum', 'momentum'].includes(key)) return;
    this.warnings.push(`${at}: config field ${key} = ${showJson(value)} ignored (the workbench's ${l.className} has no such setting)`);
  }

  private initializer(l: RawLayer, key: string, value: unknown, dflt: unknown): unknown {
    const name = initializerName(value);
    if (name !== null) {
      const cfg = isObject(value) && isObject(value.config) ? value.config : {};
      const off =
        (name === 'random_normal' || name === 'truncated_normal') && ((cfg.stddev ?? 0.05) !== 0.05 || (cfg.mean ?? 0) !== 0)
          ? `stddev ${String(cfg.stddev)}`
          : name === 'random_uniform' && ((cfg.minval ?? -0.05) !== -0.05 || (cfg.maxval ?? 0.05) !== 0.05)
            ? `range [${String(cfg.minval)}, ${String(cfg.maxval)}]`
            : null;
      if (off !== null) this.warnings.push(`${this.where(l)}: ${key} ${objectClass(value) ?? name} with ${off} starts at Keras' default scale instead`);
      return name;
    }
    this.warnings.push(`${this.where(l)}: ${key} ${objectClass(value) ?? showJson(value)} is not one the workbench has; ${String(dflt)} instead (only the starting weights differ)`);
    return dflt;
  }

  /** The InputLayer's image shape without the batch dimension, every dimension fixed. */
  inputShape(l: RawLayer): number[] {
    const c = l.config;
    const batch = c.batch_shape ?? c.batch_input_shape;
    const dims = Array.isArray(batch) ? batch.slice(1) : Array.isArray(c.shape) ? c.shape : Array.isArray(c.input_shape) ? c.input_shape : null;
    if (dims === null) this.fail(`${this.where(l)}: no input shape (batch_shape, batch_input_shape or shape) in its config`);
    if (!dims.every((d) => isInt(d) && d >= 1)) {
      this.fail(`${this.where(l)}: input shape ${showJson(dims)} has an unknown size; the workbench needs fixed image sizes — export with Input(shape=(height, width, channels))`);
    }
    return dims as number[];
  }

  refuseClass(l: RawLayer): never {
    const at = this.where(l);
    if (l.className === 'Lambda' || l.className === 'TFOpLambda' || l.className === 'SlicingOpLambda') {
      this.fail(`${at}: a Lambda layer holds Python code, which cannot be opened — replace it with a built-in layer (Activation, Rescaling, …) and export again`);
    }
    if (['Sequential', 'Functional', 'Model'].includes(l.className)) {
      this.fail(`${at}: a model nested inside the model is not supported — export it with the inner model's layers inlined (one flat model)`);
    }
    const has = LAYER_CLASS_NAMES.filter((c) => c !== 'InputLayer').join(', ');
    this.fail(`${at}: the workbench has no ${l.className} layer — replace it with one it has (${has}), or export the model without it`);
  }

  /** The layer entries of a Sequential or Functional config, with their class names and configs checked. */
  readLayers(config: Json): RawLayer[] {
    if (!Array.isArray(config.layers) || config.layers.length === 0) this.fail('config.layers must be a non-empty list of layers');
    return config.layers.map((entry: unknown, index): RawLayer => {
      if (!isObject(entry) || typeof entry.class_name !== 'string') this.fail(`layer ${index}: expected {class_name, config}; received ${showJson(entry)}`);
      const cfg = entry.config;
      if (!isObject(cfg)) this.fail(`layer ${index} (${entry.class_name}): config must be an object; received ${showJson(cfg)}`);
      const name = typeof entry.name === 'string' ? entry.name : typeof cfg.name === 'string' ? cfg.name : `layer_${index}`;
      return { index, className: entry.class_name, name, config: cfg, entry };
    });
  }
}

/** Where the model's own config sits: `to_json()`, a `.keras` `config.json`, or TF.js' `modelTopology`. */
function modelEnvelope(json: Json): { model: Json; dialect: KerasDialect } {
  if (isObject(json.modelTopology)) {
    const topology = json.modelTopology;
    // A Keras .h5 converted by tensorflowjs_converter nests it under model_config; tfjs-layers' own save does not.
    return { model: isObject(topology.model_config) ? topology.model_config : topology, dialect: 'tfjs' };
  }
  if (isObject(json.model_config)) return { model: json.model_config, dialect: 'tf.keras2' };
  const version = typeof json.keras_version === 'string' ? json.keras_version : '';
  const keras3 = 'module' in json || 'registered_name' in json || version.startsWith('3');
  return { model: json, dialect: version.startsWith('tfjs') ? 'tfjs' : keras3 ? 'keras3' : 'tf.keras2' };
}

/**
 * Converts a Keras / tf.keras / TF.js model config (already parsed from JSON) into a workbench spec.
 * Throws `ModelImportError` naming `source` and the first layer that cannot be opened, with what to do.
 */
export function convertKerasConfig(json: unknown, source: string): ConvertedModel {
  const cv: KerasConfigConverter = new KerasConfigConverter(source);
  if (!isObject(json)) cv.fail(`not a Keras model config: expected a JSON object with class_name and config; received ${showJson(json)}`);
  if (nestingDepth(json) > MAX_JSON_DEPTH) cv.fail(`nested more than ${MAX_JSON_DEPTH} levels deep; not a Keras model config`);
  const { model, dialect } = modelEnvelope(json);
  const className = model.class_name;
  if (!isObject(model.config)) cv.fail(`not a Keras model config: class_name ${showJson(className)} without a config object`);
  const name = typeof model.config.name === 'string' && model.config.name !== '' ? model.config.name : 'imported';
  let spec: AnyModelSpec;
  if (className === 'Sequential') spec = sequential(cv, model.config, name);
  else if (className === 'Functional' || className === 'Model') spec = functional(cv, model.config, name);
  else cv.fail(`class_name ${showJson(className)}: only Sequential and Functional models can be opened (a subclassed model has no config to read — rebuild it with the functional API and export again)`);
  return { spec, dialect, warnings: cv.warnings };
}

function sequential(cv: KerasConfigConverter, config: Json, name: string): ModelSpec {
  const raw = cv.readLayers(config);
  const layers: LayerSpec[] = [];
  const first = raw[0]!;
  if (first.className !== 'InputLayer') {
    // tfjs and tf.keras 2 without an Input put the shape on the first layer; Keras 3 keeps it in build_input_shape.
    const batch = first.config.batch_input_shape ?? first.config.batch_shape ?? config.build_input_shape ?? (isObject(first.entry.build_config) ? first.entry.build_config.input_shape : undefined);
    if (!Array.isArray(batch)) cv.fail(`the Sequential model has no InputLayer and its first layer '${first.name}' (${first.className}) gives no batch_input_shape — export a model built with keras.Input(shape=…)`);
    const input: RawLayer = { index: -1, className: 'InputLayer', name: `${first.name}_input`, config: { batch_shape: batch }, entry: {} };
    layers.push({ class_name: 'InputLayer', config: cv.convertFields(input) });
  }
  for (const l of raw) {
    if (l.className === 'InputLayer' && l.index > 0) cv.fail(`layer '${l.name}' (InputLayer): a second input inside a Sequential model — the workbench takes one input`);
    const cfg = { ...l.config };
    if (l.className !== 'InputLayer') {
      delete cfg.batch_input_shape;
      delete cfg.batch_shape;
    }
    layers.push({ class_name: l.className as LayerClassName, config: cv.convertFields({ ...l, config: cfg }) });
  }
  return { format_version: SPEC_FORMAT_VERSION, class_name: 'Sequential', config: { name, layers } };
}

/** `[name, node, tensor]` from a tf.keras 2 / Keras 3 tensor reference, or null when it is not one. */
function tensorRef(v: unknown): TensorRef | null {
  if (Array.isArray(v) && typeof v[0] === 'string' && isInt(v[1]) && isInt(v[2])) return [v[0], v[1], v[2]];
  return null;
}

/** `input_layers` / `output_layers` in both shapes Keras writes: `["name", 0, 0]` and `[["name", 0, 0], …]`. */
function tensorRefs(cv: KerasConfigConverter, v: unknown, field: string): TensorRef[] {
  const single = tensorRef(v);
  if (single) return [single];
  const refs = Array.isArray(v) ? v.map(tensorRef) : [null];
  if (refs.length === 0 || refs.some((r) => r === null)) cv.fail(`config.${field} = ${showJson(v)} is not a list of [layer_name, node_index, tensor_index]`);
  return refs as TensorRef[];
}

/** Every `__keras_tensor__` inside a Keras 3 call's arguments, in order. */
function kerasTensors(v: unknown, out: TensorRef[], other: unknown[]): void {
  if (Array.isArray(v)) {
    for (const x of v) kerasTensors(x, out, other);
  } else if (isObject(v) && v.class_name === '__keras_tensor__' && isObject(v.config)) {
    const ref = tensorRef(v.config.keras_history);
    if (ref) out.push(ref);
    else other.push(v);
  } else {
    other.push(v);
  }
}

/** The tensors one call of a layer takes, from either dialect's node. */
function callInputs(cv: KerasConfigConverter, l: RawLayer, node: unknown): TensorRef[] {
  const refs: TensorRef[] = [];
  const other: unknown[] = [];
  if (isObject(node) && Array.isArray(node.args)) {
    // Keras 3: {args: [tensor] | [[tensor, tensor]], kwargs: {...}}.
    kerasTensors(node.args, refs, other);
    const kwTensors: TensorRef[] = [];
    kerasTensors(Object.values(isObject(node.kwargs) ? node.kwargs : {}), kwTensors, []);
    if (kwTensors.length > 0) cv.fail(`layer '${l.name}' (${l.className}): takes a tensor as a keyword argument (a mask or a second input), which is not supported — export it without that argument`);
  } else if (Array.isArray(node)) {
    // tf.keras 2 / tfjs: [[name, node, tensor, kwargs], …].
    for (const r of node) {
      const ref = tensorRef(r);
      if (ref) refs.push(ref);
      else other.push(r);
    }
  } else {
    cv.fail(`layer '${l.name}' (${l.className}): inbound_nodes entry ${showJson(node)} is neither Keras 3's {args, kwargs} nor tf.keras 2's list`);
  }
  if (other.length > 0) cv.fail(`layer '${l.name}' (${l.className}): a call with a non-tensor argument ${showJson(other[0])} is not supported — export it without it`);
  if (refs.length === 0) cv.fail(`layer '${l.name}' (${l.className}): its call takes no tensor`);
  return refs;
}

function functional(cv: KerasConfigConverter, config: Json, name: string): FunctionalModelSpec {
  const raw = cv.readLayers(config);
  const names = new Set<string>();
  for (const l of raw) {
    if (names.has(l.name)) cv.fail(`layer name '${l.name}' is used twice; names must be unique`);
    names.add(l.name);
  }
  const inputs = tensorRefs(cv, config.input_layers, 'input_layers');
  const outputs = tensorRefs(cv, config.output_layers, 'output_layers');
  if (inputs.length !== 1) cv.fail(`the model has ${inputs.length} inputs (${inputs.map((r) => r[0]).join(', ')}); the workbench takes one input — export a model with a single image input`);
  if (outputs.length !== 1) cv.fail(`the model has ${outputs.length} outputs (${outputs.map((r) => r[0]).join(', ')}); the workbench trains one output — export a model with a single classifier output`);
  const layers: FunctionalLayerSpec[] = raw.map((l) => {
    const nodes = Array.isArray(l.entry.inbound_nodes) ? l.entry.inbound_nodes : [];
    if (nodes.length > 1) {
      cv.fail(`layer '${l.name}' (${l.className}) is called ${nodes.length} times (a shared layer); the workbench calls each layer once — export it with a separate layer per call`);
    }
    let inbound: InboundRef[][] = [];
    if (l.className !== 'InputLayer') {
      if (nodes.length === 0) cv.fail(`layer '${l.name}' (${l.className}) is never called (no inbound_nodes) — remove it or export the model after calling it`);
      const refs = callInputs(cv, l, nodes[0]);
      for (const [from, node, tensor] of refs) {
        if (!names.has(from)) cv.fail(`layer '${l.name}' (${l.className}): takes the output of '${from}', which is not a layer of the model`);
        if (node !== 0 || tensor !== 0) {
          cv.fail(`layer '${l.name}' (${l.className}): takes output ${tensor} of call ${node} of '${from}'; the workbench calls each layer once with one output — export it with a separate layer per call`);
        }
      }
      inbound = [refs.map(([from, node, tensor]): InboundRef => [from, node, tensor, {}])];
    }
    return { class_name: l.className as LayerClassName, name: l.name, config: cv.convertFields(l), inbound_nodes: inbound };
  });
  for (const [ref, field] of [[inputs[0]!, 'input_layers'], [outputs[0]!, 'output_layers']] as const) {
    if (!names.has(ref[0])) cv.fail(`config.${field} names '${ref[0]}', which is not a layer of the model`);
  }
  return { format_version: SPEC_FORMAT_VERSION, class_name: 'Functional', config: { name, layers, input_layers: inputs, output_layers: outputs } };
}
