/**
 * Validation, shape inference and parameter counting for a model spec, by our own arithmetic (Keras' formulas,
 * channels_last) rather than by building a tfjs model: it runs in microseconds, so the UI can summarise on every
 * keystroke, and it can report every problem at once instead of stopping at the first thrown tfjs error.
 *
 * Unknown dimensions: once a layer is wrong, what it outputs is partly unknown (`null` dims, or an unknown rank).
 * Later layers still check their own config and whatever they can know (a Dense after a broken conv still knows
 * its output is `units` wide), but every shape check skips unknown dims — so one mistake never cascades into a
 * list of bogus follow-on errors.
 */
import type { FieldDescriptor, FunctionalLayerSpec, LayerClassName, LayerSpec, SpecIssue, SpecSummary, SummaryRow } from '../../shared/spec';
import { SPEC_FORMAT_VERSION } from '../../shared/spec';
import { ACCEPTED_KERAS_FIELDS, COMMON_LAYER_FIELDS } from '../../shared/layer-fields';
import { kerasLayerNames } from '../../shared/layer-names';
import { describeShape, layerInfo, type Dim, type InferContext, type Inferred, type Shape } from '../../shared/layers/index';
import { MAX_JSON_DEPTH, nestingDepth, showJson } from '../json-limits';
import { activationRegistry, initializerRegistry, layerRegistry } from './registry';

export { describeShape } from '../../shared/layers/index';

/** Options for `summarizeSpec` / `analyzeSpec`. */
export interface SummarizeOptions {
  /** The training loss; the workbench trains with categorical cross-entropy (the lesson's). */
  loss?: 'categorical_crossentropy';
  /** When given, the output must be `(None, numClasses)` (an error otherwise). */
  numClasses?: number;
}

/** Everything the analysis learns; `summarizeSpec` trims it to the public `SpecSummary`. */
export interface Analysis {
  issues: SpecIssue[];
  /** One row per layer whose shape and params are fully known (layers before the first error). */
  rows: SummaryRow[];
  /** The layers as received (structurally checked), or null when the envelope itself is unusable. */
  layers: LayerSpec[] | null;
  /** The layer names used in messages: given names, else Keras-style auto names. */
  names: string[];
  /**
   * The errors that make the JSON not a well-formed spec at all (envelope, layer class, config object, field
   * types and ranges) — what `parseSpec` rejects. Shape and wiring errors are not among them.
   */
  structural: SpecIssue[];
  /**
   * Functional models whose wiring is sound (names known, no cycle, one input and output): the layers' order for
   * building (every layer after its inputs), each layer's inbound layer indices, and the input and output layer.
   */
  graph?: FunctionalGraph;
}

/** The wiring of a functional model, by index into its layer list. */
export interface FunctionalGraph {
  order: number[];
  inbound: number[][];
  input: number;
  output: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A received value for a message, cut short: an issue never echoes a 60 MB string back (twice). */
const json = (v: unknown): string => showJson(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function rangeText(d: FieldDescriptor): string {
  const lo = d.min === undefined ? null : d.minExclusive ? `> ${d.min}` : `≥ ${d.min}`;
  const hi = d.max === undefined ? null : d.maxExclusive ? `< ${d.max}` : `≤ ${d.max}`;
  if (lo && hi) return `in ${d.minExclusive ? '(' : '['}${d.min}, ${d.max}${d.maxExclusive ? ')' : ']'}`;
  return lo ?? hi ?? '';
}

function inRange(d: FieldDescriptor, v: number): boolean {
  if (d.min !== undefined && (d.minExclusive ? v <= d.min : v < d.min)) return false;
  if (d.max !== undefined && (d.maxExclusive ? v >= d.max : v > d.max)) return false;
  return true;
}

/**
 * Checks one config value against its descriptor. Returns null when fine, else why not (without the
 * "field = value" prefix, which the caller adds).
 */
function checkField(d: FieldDescriptor, v: unknown): string | null {
  // Keras writes None for "use the default behaviour" (pool strides = pool_size): accept an explicit null there.
  if (v === null && !d.required && d.default === null) return null;
  const range = rangeText(d);
  switch (d.kind) {
    case 'int':
      return isInt(v) && inRange(d, v) ? null : `must be an integer ${range}`.trim();
    case 'float':
      return typeof v === 'number' && Number.isFinite(v) && inRange(d, v) ? null : `must be a number ${range}`.trim();
    case 'bool':
      return typeof v === 'boolean' ? null : 'must be true or false';
    case 'string':
      return typeof v === 'string' ? null : 'must be a string';
    case 'enum': {
      if (d.name === 'activation') {
        try {
          activationRegistry.get(v);
          return null;
        } catch (err) {
          return (err as Error).message;
        }
      }
      if (d.values?.includes(v as string) && typeof v === 'string') return null;
      if (d.name.endsWith('_initializer')) {
        try {
          initializerRegistry.get(v);
        } catch (err) {
          return `${(err as Error).message}${isObject(v) ? ' (give the initializer by name; object configs are not supported)' : ''}`;
        }
      }
      return `must be one of ${(d.values ?? []).map((x) => `'${x}'`).join(', ')}`;
    }
    case 'pair': {
      const ok = (x: unknown) => isInt(x) && inRange(d, x);
      if (ok(v) || (Array.isArray(v) && v.length === 2 && v.every(ok))) return null;
      return `must be an integer ${range} or a pair [height, width] of them`;
    }
    case 'shape': {
      if (Array.isArray(v) && v.length > 0 && v.every((x) => isInt(x) && x >= 1)) return null;
      return 'must be a non-empty list of positive integers without the batch dimension, e.g. [28, 28, 1]';
    }
    case 'padding2d': {
      const ok = (x: unknown) => isInt(x) && x >= 0;
      const okPair = (x: unknown) => Array.isArray(x) && x.length === 2 && x.every(ok);
      if (ok(v) || okPair(v) || (Array.isArray(v) && v.length === 2 && v.every(okPair))) return null;
      return 'must be an integer ≥ 0, [rows, cols], or [[top, bottom], [left, right]]';
    }
  }
}

/** Keras' auto names (prefix, prefix_1, …) for unnamed layers, never colliding with a given name. */
export function assignNames(layers: readonly { class_name: unknown; config?: unknown }[]): string[] {
  return kerasLayerNames(layers.map((l) => ({ class_name: l.class_name, name: isObject(l.config) ? l.config.name : undefined })));
}

/** Per-layer reporting and typed access to the config with Keras defaults filled in. */
class LayerContext implements InferContext {
  /** Fields whose value was rejected: reads of them return null (unknown) to stop cascades. */
  readonly bad = new Set<string>();
  hasError = false;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly className: LayerClassName,
    readonly config: Record<string, unknown>,
    private readonly out: SpecIssue[],
    private readonly structural: SpecIssue[],
    public inputNames: readonly string[] = [],
  ) {}

  get where(): string {
    return `Layer ${this.index} '${this.name}' (${this.className})`;
  }

  error(field: string | null, received: unknown, why: string): void {
    this.hasError = true;
    if (field) this.bad.add(field);
    this.push('error', field, received, why);
  }

  /** An error in the value of a field itself (a structural error: `parseSpec` rejects it). */
  fieldError(field: string, received: unknown, why: string): void {
    this.error(field, received, why);
    this.structural.push(this.out[this.out.length - 1]);
  }

  warn(field: string | null, received: unknown, why: string): void {
    this.push('warning', field, received, why);
  }

  private push(severity: SpecIssue['severity'], field: string | null, received: unknown, why: string): void {
    const what = field === null ? '' : ` ${field}${received === undefined ? '' : ` = ${json(received)}`} —`;
    this.out.push({
      severity,
      layerIndex: this.index,
      layerName: this.name,
      field,
      received: received === undefined ? null : json(received),
      message: `${this.where}:${what} ${why}`,
    });
  }

  private value(field: string): unknown {
    if (this.bad.has(field)) return null;
    const v = this.config[field];
    if (v !== undefined) return v;
    return layerRegistry.get(this.className).fields.find((f) => f.name === field)?.default ?? null;
  }

  int(field: string): number | null {
    const v = this.value(field);
    return typeof v === 'number' ? v : null;
  }

  bool(field: string): boolean | null {
    const v = this.value(field);
    return typeof v === 'boolean' ? v : null;
  }

  str(field: string): string | null {
    const v = this.value(field);
    return typeof v === 'string' ? v : null;
  }

  pair(field: string): [Dim, Dim] {
    const v = this.value(field);
    if (typeof v === 'number') return [v, v];
    if (Array.isArray(v) && v.length === 2) return [v[0] as number, v[1] as number];
    return [null, null];
  }
}

/** Reads the InputLayer's shape from `shape`, `batch_shape` or Keras 2's `batch_input_shape`. */
function inputShape(ctx: LayerContext): Shape {
  const c = ctx.config;
  if (c.shape !== undefined) return ctx.bad.has('shape') ? null : (c.shape as number[]);
  for (const key of ['batch_shape', 'batch_input_shape']) {
    const v = c[key];
    if (v === undefined) continue;
    const dims = Array.isArray(v) ? v.slice(1) : null;
    if (!Array.isArray(v) || v.length < 2 || (v[0] !== null && !isInt(v[0])) || !dims?.every((x) => isInt(x) && x >= 1)) {
      ctx.fieldError(key, v, 'must be [null, d1, d2, …] with positive integer dims (the leading null is the batch)');
      return null;
    }
    return dims as number[];
  }
  ctx.error('shape', undefined, 'the input shape is missing: give shape [height, width, channels], e.g. [28, 28, 1]');
  return null;
}

/** Checks every config key of one layer against the field table; fills `ctx.bad` with rejected fields. */
function checkConfig(ctx: LayerContext): void {
  const fields = layerRegistry.get(ctx.className).fields;
  for (const [key, v] of Object.entries(ctx.config)) {
    if (key === 'name') continue; // checked with the duplicates
    const d = fields.find((f) => f.name === key) ?? COMMON_LAYER_FIELDS.find((f) => f.name === key);
    if (d) {
      const why = checkField(d, v);
      if (why) ctx.fieldError(key, v, why);
    } else if (key === 'data_format') {
      if (v !== 'channels_last') ctx.fieldError(key, v, "only 'channels_last' (NHWC) is supported");
    } else if (key === 'alpha' && ctx.className === 'LeakyReLU') {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) ctx.fieldError(key, v, 'must be a number ≥ 0');
      else if (ctx.config.negative_slope !== undefined) ctx.warn(key, v, 'ignored: negative_slope is also given and wins (alpha is the Keras 2 name)');
    } else if (!ACCEPTED_KERAS_FIELDS.includes(key)) {
      const known = [...fields, ...COMMON_LAYER_FIELDS].map((f) => f.name).join(', ');
      ctx.warn(key, v, `unknown config field for ${ctx.className}, ignored (known: ${known})`);
    }
  }
  for (const d of fields) {
    if (d.required && ctx.config[d.name] === undefined && !(ctx.className === 'InputLayer' && d.name === 'shape')) {
      ctx.error(d.name, undefined, `is required (e.g. ${json(d.suggested)})`);
    }
  }
}

/** Structural check of the Sequential envelope; returns the layer list or null. */
function checkEnvelope(spec: unknown, issues: SpecIssue[], kind: 'Sequential' | 'Functional' = 'Sequential'): unknown[] | null {
  const model = (field: string | null, received: unknown, message: string, severity: SpecIssue['severity'] = 'error') =>
    issues.push({ severity, layerIndex: null, layerName: null, field, received: received === undefined ? null : json(received), message });
  if (!isObject(spec)) {
    model(null, spec, `Model spec: expected a JSON object {format_version, class_name: 'Sequential', config: {name, layers}}; received ${json(spec)?.slice(0, 80)}`);
    return null;
  }
  // Checked before anything recursive touches it: a value thousands of levels deep overflows the stack.
  if (nestingDepth(spec) > MAX_JSON_DEPTH) {
    model(null, undefined, `Model spec: nested more than ${MAX_JSON_DEPTH} levels deep; a spec is a list of layers with flat configs`);
    return null;
  }
  const fv = spec.format_version;
  if (fv === undefined) model('format_version', undefined, `Model spec: format_version is missing (this workbench writes ${SPEC_FORMAT_VERSION})`);
  else if (!isInt(fv) || fv < 1) model('format_version', fv, `Model spec: format_version = ${json(fv)} must be a positive integer`);
  else if (fv > SPEC_FORMAT_VERSION) model('format_version', fv, `Model spec: format_version = ${fv} was written by a newer workbench (this one reads up to ${SPEC_FORMAT_VERSION})`);
  if (spec.class_name !== kind) {
    model('class_name', spec.class_name, `Model spec: class_name = ${json(spec.class_name)}: only 'Sequential' and 'Functional' models are supported`);
  }
  for (const key of Object.keys(spec)) {
    if (!['format_version', 'class_name', 'config', 'keras_version', 'backend'].includes(key)) model(key, spec[key], `Model spec: unknown top-level field '${key}', ignored`, 'warning');
  }
  const config = spec.config;
  if (!isObject(config)) {
    model('config', config, `Model spec: config must be an object {name, layers: [...]}; received ${json(config)}`);
    return null;
  }
  if (typeof config.name !== 'string' || config.name === '') model('config.name', config.name, `Model spec: config.name = ${json(config.name)} must be a non-empty string`);
  if (!Array.isArray(config.layers)) {
    model('config.layers', config.layers, `Model spec: config.layers must be a list of layers; received ${json(config.layers)}`);
    return null;
  }
  if (config.layers.length === 0) {
    model('config.layers', [], 'Model spec: the model has no layers; start with an InputLayer');
    return null;
  }
  return config.layers;
}

/** What the per-layer checks share while one spec is analysed. */
interface Pass {
  issues: SpecIssue[];
  structural: SpecIssue[];
  firstIndexOfName: Map<string, number>;
}

/** A layer entry that passed the structural checks: its class, config and reporting context. */
interface Entry {
  index: number;
  className: LayerClassName;
  config: Record<string, unknown>;
  ctx: LayerContext;
}

/**
 * The structural checks of one layer entry (an object, a known class, a config object), its name (unique), and
 * its config fields. Returns null, after reporting, when the entry is unusable.
 */
function checkEntry(raw: unknown, index: number, name: string, pass: Pass): Entry | null {
  const layerIssue = (field: string | null, received: unknown, message: string) => {
    const issue: SpecIssue = { severity: 'error', layerIndex: index, layerName: name, field, received: received === undefined ? null : json(received), message };
    pass.issues.push(issue);
    pass.structural.push(issue);
  };
  if (!isObject(raw)) {
    layerIssue(null, raw, `Layer ${index}: expected an object {class_name, config}; received ${json(raw)}`);
    return null;
  }
  if (!layerRegistry.has(raw.class_name)) {
    let why: string;
    try {
      layerRegistry.get(raw.class_name);
      why = '';
    } catch (err) {
      why = (err as Error).message;
    }
    layerIssue('class_name', raw.class_name, `Layer ${index} '${name}' (${typeof raw.class_name === 'string' ? raw.class_name : '?'}): ${why}`);
    return null;
  }
  const className = raw.class_name;
  if (raw.config !== undefined && !isObject(raw.config)) {
    layerIssue('config', raw.config, `Layer ${index} '${name}' (${className}): config must be an object; received ${json(raw.config)}`);
    return null;
  }
  const config = (raw.config ?? {}) as Record<string, unknown>;
  const ctx = new LayerContext(index, name, className, config, pass.issues, pass.structural);
  if (config.name !== undefined) {
    if (typeof config.name !== 'string' || config.name === '' || config.name.includes('/')) {
      ctx.fieldError('name', config.name, 'must be a non-empty string without "/"');
    } else if (pass.firstIndexOfName.has(config.name)) {
      ctx.error('name', config.name, `duplicate layer name: layer ${pass.firstIndexOfName.get(config.name)} already has it; names must be unique`);
    }
  }
  if (typeof config.name === 'string' && !pass.firstIndexOfName.has(config.name)) pass.firstIndexOfName.set(config.name, index);
  checkConfig(ctx);
  return { index, className, config, ctx };
}

/** A layer's output shape and parameters from its input shapes, with the empty-dimension check every layer gets. */
function inferEntry(e: Entry, inputs: readonly Shape[]): Inferred {
  let inferred: Inferred = e.className === 'InputLayer' ? { output: inputShape(e.ctx), params: 0, nonTrainable: 0 } : layerInfo(e.className).infer(e.ctx, inputs[0] ?? null, inputs);
  if (inferred.output !== null && inferred.output.some((d) => d !== null && d < 1)) {
    e.ctx.error(null, undefined, `produces nothing: its output ${describeShape(inferred.output)} has an empty dimension`);
    inferred = { ...inferred, output: inferred.output.map((d) => (d !== null && d < 1 ? null : d)) };
  }
  return inferred;
}

/** The summary row of a layer whose shape and parameters are fully known, else null. */
function rowOf(e: Entry, name: string, inferred: Inferred, connectedTo?: string[]): SummaryRow | null {
  const shape = inferred.output;
  if (shape === null || inferred.params === null || inferred.nonTrainable === null || !shape.every((d) => d !== null)) return null;
  const frozen = e.config.trainable === false;
  return {
    index: e.index,
    name,
    className: e.className,
    outputShape: [null, ...(shape as number[])],
    params: inferred.params,
    trainableParams: frozen ? 0 : inferred.params - inferred.nonTrainable,
    nonTrainableParams: frozen ? inferred.params : inferred.nonTrainable,
    ...(connectedTo ? { connectedTo } : {}),
  };
}

/**
 * Validates a spec and infers every layer's output shape and parameter count. Never throws: every problem is an
 * issue (errors and warnings), every layer that could be fully inferred is a row. A `class_name: 'Functional'`
 * spec is analysed as a graph (`analyzeFunctional`).
 */
export function analyzeSpec(spec: unknown, options: SummarizeOptions = {}): Analysis {
  if (isObject(spec) && spec.class_name === 'Functional') return analyzeFunctional(spec, options);
  const issues: SpecIssue[] = [];
  const rawLayers = checkEnvelope(spec, issues);
  if (rawLayers === null) return { issues, rows: [], layers: null, names: [], structural: issues.filter((i) => i.severity === 'error') };
  const pass: Pass = { issues, structural: issues.filter((i) => i.severity === 'error'), firstIndexOfName: new Map() };

  const names = assignNames(rawLayers.map((l) => (isObject(l) ? { class_name: l.class_name, config: l.config } : { class_name: undefined })));
  const layers: LayerSpec[] = [];
  const rows: SummaryRow[] = [];
  let shape: Shape = null;
  let structuralOk = true;
  let errorSeen = issues.some((i) => i.severity === 'error');

  rawLayers.forEach((raw, index) => {
    const name = names[index] ?? `layer_${index}`;
    const e = checkEntry(raw, index, name, pass);
    if (e === null) {
      errorSeen = true;
      structuralOk = false;
      shape = null;
      return;
    }
    layers.push({ class_name: e.className, config: e.config });
    if (index > 0) e.ctx.inputNames = [names[index - 1] ?? ''];
    if (e.className === 'InputLayer' && index !== 0) e.ctx.error(null, undefined, 'an InputLayer may only be the first layer');
    if (e.className !== 'InputLayer' && index === 0) {
      e.ctx.error(null, undefined, 'the model has no InputLayer: the first layer must be an InputLayer with shape [height, width, channels], e.g. [28, 28, 1]');
    }
    const inferred = inferEntry(e, [shape]);
    shape = inferred.output;
    if (e.ctx.hasError) errorSeen = true;
    const row = errorSeen ? null : rowOf(e, name, inferred);
    if (row) rows.push(row);
  });

  if (structuralOk && layers.length === rawLayers.length) {
    const index = layers.length - 1;
    checkOutput(layers[index]!, index, names[index] ?? '', shape, issues, options);
  }
  return { issues, rows, layers: structuralOk ? layers : null, names, structural: pass.structural };
}

const isTensorRef = (v: unknown): v is unknown[] => Array.isArray(v) && v.length >= 1 && v.length <= 4 && typeof v[0] === 'string';

/**
 * A Functional spec: the envelope, each layer as in a Sequential model plus its wiring (`inbound_nodes`), the one
 * input and one output, then shapes in an order where every layer follows its inputs. Wiring problems — an
 * unknown inbound name, a cycle, a layer whose result never reaches the output, a second input or output — are
 * errors naming the layer(s); like shape errors they are not structural, so an editor can still load the graph.
 */
function analyzeFunctional(spec: Record<string, unknown>, options: SummarizeOptions): Analysis {
  const issues: SpecIssue[] = [];
  const rawLayers = checkEnvelope(spec, issues, 'Functional');
  if (rawLayers === null) return { issues, rows: [], layers: null, names: [], structural: issues.filter((i) => i.severity === 'error') };
  const pass: Pass = { issues, structural: issues.filter((i) => i.severity === 'error'), firstIndexOfName: new Map() };
  const modelIssue = (field: string | null, received: unknown, message: string, structural = false) => {
    const issue: SpecIssue = { severity: 'error', layerIndex: null, layerName: null, field, received: received === undefined ? null : json(received), message };
    issues.push(issue);
    if (structural) pass.structural.push(issue);
  };

  // Keras writes each layer's name at the top of its entry (and again in its config): either names it.
  const topName = (l: unknown): unknown => (isObject(l) ? (l.name ?? (isObject(l.config) ? l.config.name : undefined)) : undefined);
  const names = assignNames(rawLayers.map((l) => (isObject(l) ? { class_name: l.class_name, config: { name: topName(l) } } : { class_name: undefined })));
  const entries: (Entry | null)[] = [];
  const layers: FunctionalLayerSpec[] = [];
  const inboundNames: string[][] = [];
  let structuralOk = true;

  rawLayers.forEach((raw, index) => {
    const name = names[index] ?? `layer_${index}`;
    if (isObject(raw) && isObject(raw.config) && raw.name !== undefined && raw.config.name !== undefined && raw.name !== raw.config.name) {
      modelIssue('name', raw.name, `Layer ${index} '${name}': its name ${json(raw.name)} and config.name ${json(raw.config.name)} differ; give one name`, true);
      structuralOk = false;
    }
    // The config's own name is the one checked for duplicates: take the entry's name when only that is given.
    const withName = isObject(raw) && typeof raw.name === 'string' && isObject(raw.config) && raw.config.name === undefined ? { ...raw, config: { ...raw.config, name: raw.name } } : isObject(raw) && typeof raw.name === 'string' && raw.config === undefined ? { ...raw, config: { name: raw.name } } : raw;
    const e = checkEntry(withName, index, name, pass);
    entries.push(e);
    const refs: string[] = [];
    inboundNames.push(refs);
    if (e === null) {
      structuralOk = false;
      return;
    }
    const nodes = (raw as Record<string, unknown>).inbound_nodes ?? [];
    if (!Array.isArray(nodes) || !nodes.every((n) => Array.isArray(n) && n.every(isTensorRef))) {
      e.ctx.fieldError('inbound_nodes', nodes, "must be tf.keras 2's list of calls, each a list of [layer_name, node_index, tensor_index, {}] references");
      structuralOk = false;
      return;
    }
    if (nodes.length > 1) e.ctx.error('inbound_nodes', undefined, `is called ${nodes.length} times; a layer shared between calls is not supported — give each call its own layer`);
    for (const ref of (nodes[0] ?? []) as unknown[][]) {
      refs.push(ref[0] as string);
      if ((ref[1] !== undefined && ref[1] !== 0) || (ref[2] !== undefined && ref[2] !== 0)) {
        e.ctx.error('inbound_nodes', ref, `takes output ${json(ref.slice(1, 3))} of '${String(ref[0])}'; only a layer's first call and single output ([name, 0, 0]) are supported`);
      }
    }
    e.ctx.inputNames = refs;
    layers.push({ name, class_name: e.className, config: e.config, inbound_nodes: nodes as FunctionalLayerSpec['inbound_nodes'] });
  });

  // Where each name points (the first layer holding it: a second one is already reported as a duplicate).
  const indexOf = new Map<string, number>();
  names.forEach((n, i) => {
    if (!indexOf.has(n) && entries[i]) indexOf.set(n, i);
  });
  const inbound: number[][] = inboundNames.map(() => []);
  // Each input of each layer by index, -1 where the name is unknown (its shape unknown, so no cascade of errors).
  const inputSlots: number[][] = inboundNames.map(() => []);
  let unresolved = false;
  entries.forEach((e, i) => {
    if (!e) return;
    for (const ref of inboundNames[i] ?? []) {
      const j = indexOf.get(ref);
      inputSlots[i]!.push(j === undefined || j === i ? -1 : j);
      if (j === undefined || j === i) unresolved = true;
      if (j === undefined) e.ctx.error('inbound_nodes', ref, `takes its input from '${ref}', which is not a layer of this model (known: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''})`);
      else if (j === i) e.ctx.error('inbound_nodes', ref, 'takes its own output as its input: a cycle; a graph network must flow from its input to its output without loops');
      else inbound[i]!.push(j);
    }
    // tfjs' executor frees a tensor by counting its consumers and loses count when one layer takes it twice.
    const twice = (inboundNames[i] ?? []).find((ref, k, all) => all.indexOf(ref) !== k);
    if (twice !== undefined) e.ctx.error('inbound_nodes', twice, `takes '${twice}' twice; tfjs cannot run a layer that takes the same tensor twice — multiply it by 2 with a Rescaling, or branch it through an Activation('linear') first`);
    if (e.className === 'InputLayer' && (inboundNames[i]?.length ?? 0) > 0) e.ctx.error('inbound_nodes', inboundNames[i], 'an InputLayer takes no inputs (its inbound_nodes must be empty)');
    if (e.className !== 'InputLayer' && (inboundNames[i]?.length ?? 0) === 0) e.ctx.error('inbound_nodes', undefined, 'takes no input: wire it to the layer(s) whose output it takes (inbound_nodes is empty)');
  });

  // One input and one output, each an existing layer (the input an InputLayer).
  const endpoint = (key: 'input_layers' | 'output_layers', what: string): number | null => {
    const refs = (spec.config as Record<string, unknown>)[key];
    if (!Array.isArray(refs) || !refs.every(isTensorRef)) {
      modelIssue(`config.${key}`, refs, `Model spec: config.${key} must be a list of [layer_name, 0, 0] references`, true);
      structuralOk = false;
      return null;
    }
    if (refs.length !== 1) {
      modelIssue(`config.${key}`, refs, `Model spec: the model has ${refs.length} ${what}s (${refs.map((r) => `'${String(r[0])}'`).join(', ') || 'none'}); only one ${what} is supported now`);
      return null;
    }
    const name = refs[0]![0] as string;
    const i = indexOf.get(name);
    if (i === undefined) {
      modelIssue(`config.${key}`, refs, `Model spec: the ${what} '${name}' (config.${key}) is not a layer of this model`);
      return null;
    }
    return i;
  };
  const input = endpoint('input_layers', 'input');
  const output = endpoint('output_layers', 'output');
  entries.forEach((e, i) => {
    if (e?.className !== 'InputLayer') return;
    if (input !== null && i !== input) e.ctx.error(null, undefined, `a second InputLayer (the model's input is '${names[input]}'); only one input is supported now`);
  });
  if (input !== null && entries[input]?.className !== 'InputLayer') {
    modelIssue('config.input_layers', names[input], `Model spec: the input '${names[input]}' is a ${entries[input]?.className ?? '?'}, not an InputLayer`);
  }

  // A topological order (Kahn's, stable in list order); whatever is left over lies on or after a cycle.
  const order: number[] = [];
  const pending = inbound.map((ins) => new Set(ins));
  const done = new Set<number>();
  for (let progress = true; progress; ) {
    progress = false;
    entries.forEach((e, i) => {
      if (!e || done.has(i) || [...pending[i]!].some((j) => !done.has(j) && entries[j] !== null)) return;
      done.add(i);
      order.push(i);
      progress = true;
    });
  }
  const cyclic = reportCycles(entries, inbound, done, names);

  // Layers whose result never reaches the output: walk back from the output through inbound wires.
  if (output !== null && !cyclic && !unresolved) {
    const reaches = new Set<number>([output]);
    for (const i of [...order].reverse()) if (reaches.has(i)) for (const j of inbound[i]!) reaches.add(j);
    entries.forEach((e, i) => {
      if (e && !reaches.has(i)) e.ctx.error(null, undefined, `does not reach the model's output '${names[output]}': nothing uses its result — wire it into a later layer or delete it`);
    });
  }

  // Shapes and rows in build order; a layer with an error, or after one, gets no row.
  const shapes: Shape[] = entries.map(() => null);
  const tainted = new Set<number>();
  const rows: SummaryRow[] = [];
  const modelError = issues.some((i) => i.severity === 'error' && i.layerIndex === null);
  for (const i of order) {
    const e = entries[i]!;
    const inferred = inferEntry(e, inputSlots[i]!.map((j) => (j < 0 ? null : (shapes[j] ?? null))));
    shapes[i] = inferred.output;
    if (e.ctx.hasError || modelError || inputSlots[i]!.some((j) => j < 0 || tainted.has(j))) tainted.add(i);
    const row = tainted.has(i) ? null : rowOf(e, names[i] ?? '', inferred, inbound[i]!.map((j) => names[j] ?? ''));
    if (row) rows.push(row);
  }

  const wiringOk = structuralOk && !cyclic && input !== null && output !== null && !issues.some((x) => x.severity === 'error' && x.field?.startsWith('config.'));
  if (wiringOk && output !== null) {
    const last = entries[output]!;
    checkOutput({ class_name: last.className, config: last.config }, output, names[output] ?? '', shapes[output] ?? null, issues, options);
  }
  return {
    issues,
    rows,
    layers: structuralOk ? layers : null,
    names,
    structural: pass.structural,
    ...(wiringOk && input !== null && output !== null ? { graph: { order, inbound, input, output } } : {}),
  };
}

/** Reports every cycle among the layers Kahn's order could not place, naming its layers; true if there was one. */
function reportCycles(entries: (Entry | null)[], inbound: number[][], placed: Set<number>, names: string[]): boolean {
  const left = entries.map((e, i) => (e && !placed.has(i) ? i : -1)).filter((i) => i >= 0);
  if (left.length === 0) return false;
  const reported = new Set<number>();
  const state = new Map<number, 'open' | 'closed'>();
  const stack: number[] = [];
  const visit = (i: number): void => {
    state.set(i, 'open');
    stack.push(i);
    for (const j of inbound[i] ?? []) {
      if (placed.has(j)) continue;
      if (state.get(j) === 'open') {
        // The inbound wires run backwards: reverse the stack slice so the cycle reads in the direction data flows.
        const cycle = stack.slice(stack.indexOf(j)).reverse();
        const path = [...cycle, cycle[0]!].map((k) => names[k]).join(' → ');
        for (const k of cycle) {
          if (reported.has(k)) continue;
          reported.add(k);
          entries[k]!.ctx.error('inbound_nodes', undefined, `is part of a cycle ${path}; a graph network must flow from its input to its output without loops`);
        }
      } else if (!state.has(j)) visit(j);
    }
    stack.pop();
    state.set(i, 'closed');
  };
  for (const i of left) if (!state.has(i)) visit(i);
  return true;
}

/** Model-level checks on the output layer: one value per class, softmax for categorical cross-entropy. */
function checkOutput(last: LayerSpec, index: number, name: string, shape: Shape, issues: SpecIssue[], options: SummarizeOptions): void {
  const where = `Layer ${index} '${name}' (${last.class_name})`;
  if (shape !== null && shape.length !== 1) {
    issues.push({
      severity: 'error',
      layerIndex: index,
      layerName: name,
      field: null,
      received: json([null, ...shape]),
      message: `${where}: the model's output ${describeShape(shape)} must be (None, classes) for categorical_crossentropy — end with Flatten and Dense(classes, softmax)`,
      incomplete: true,
    });
  } else if (shape !== null && options.numClasses !== undefined && shape[0] !== null && shape[0] !== options.numClasses) {
    issues.push({
      severity: 'error',
      layerIndex: index,
      layerName: name,
      field: last.class_name === 'Dense' ? 'units' : null,
      received: json(shape[0]),
      message: `${where}: the model outputs ${shape[0]} values per image but the dataset has ${options.numClasses} classes`,
    });
  }
  const activation = last.class_name === 'Dense' || last.class_name === 'Activation' ? (last.config.activation ?? 'linear') : null;
  // Before the model ends in one value per class it is unfinished: its last layer lacking softmax is part of that.
  const unfinished = issues.some((i) => i.incomplete === true);
  if (activation !== 'softmax' && (options.loss ?? 'categorical_crossentropy') === 'categorical_crossentropy') {
    issues.push({
      ...(unfinished ? { incomplete: true } : {}),
      severity: 'warning',
      layerIndex: index,
      layerName: name,
      field: activation === null ? null : 'activation',
      received: activation === null ? null : json(activation),
      message: `${where}: the last layer ${activation === null ? 'has no activation' : `uses activation '${activation}'`}, not softmax; categorical_crossentropy expects probabilities — use Dense(classes, activation 'softmax')`,
    });
  }
}

/**
 * Validates a spec and summarises it Keras-style. Never throws, whatever it is given: problems come back as
 * `issues`; `rows` covers the layers before the first error; totals sum those rows.
 */
export function summarizeSpec(spec: unknown, options: SummarizeOptions = {}): SpecSummary {
  const { issues, rows } = analyzeSpec(spec, options);
  const ok = !issues.some((i) => i.severity === 'error');
  const sum = (f: (r: SummaryRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  return {
    ok,
    issues,
    rows,
    totalParams: sum((r) => r.params),
    trainableParams: sum((r) => r.trainableParams),
    nonTrainableParams: sum((r) => r.nonTrainableParams),
  };
}
