/**
 * Pure edits of a model spec: each takes a spec and returns a new one, never mutating its input, so the
 * undo history can keep the old object as its snapshot.
 */
import { SPEC_FORMAT_VERSION } from '$shared/spec';
import type { AnyModelSpec, LayerConfig, LayerSpec, ModelSpec } from '$shared/spec';
import { kerasLayerNames } from '$shared/layer-names';

/** A deep copy that is also safe on Svelte `$state` proxies (structuredClone rejects those). */
export function cloneSpec<T extends AnyModelSpec>(spec: T): T {
  return JSON.parse(JSON.stringify(spec)) as T;
}

/** A spec with no layers: where "New" starts. */
export function emptySpec(name = 'model'): ModelSpec {
  return { format_version: SPEC_FORMAT_VERSION, class_name: 'Sequential', config: { name, layers: [] } };
}

function withLayers(spec: ModelSpec, layers: LayerSpec[]): ModelSpec {
  return { ...spec, config: { ...spec.config, layers } };
}

function checkIndex(spec: ModelSpec, index: number): void {
  const n = spec.config.layers.length;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new RangeError(`Layer index must be a whole number in [0, ${n - 1}], received ${index}`);
  }
}

/**
 * Insert `layer` so that it ends up at `index` (clamped to the stack; `index` = length appends).
 * @returns the new spec and where the layer landed
 */
export function insertLayer(spec: ModelSpec, layer: LayerSpec, index: number): { spec: ModelSpec; index: number } {
  const layers = spec.config.layers.slice();
  const at = Math.max(0, Math.min(layers.length, Math.trunc(index)));
  layers.splice(at, 0, { class_name: layer.class_name, config: { ...layer.config } });
  return { spec: withLayers(spec, layers), index: at };
}

/** Remove the layer at `index`. */
export function removeLayer(spec: ModelSpec, index: number): ModelSpec {
  checkIndex(spec, index);
  const layers = spec.config.layers.slice();
  layers.splice(index, 1);
  return withLayers(spec, layers);
}

/**
 * Copy the layer at `index` right after itself. A copied `name` would clash (Keras rejects duplicate names),
 * so the copy gets the next free `name_N`.
 */
export function duplicateLayer(spec: ModelSpec, index: number): { spec: ModelSpec; index: number } {
  checkIndex(spec, index);
  const source = spec.config.layers[index];
  const config: LayerConfig = JSON.parse(JSON.stringify(source.config)) as LayerConfig;
  if (typeof config.name === 'string' && config.name !== '') config.name = freeName(spec, config.name);
  return insertLayer(spec, { class_name: source.class_name, config }, index + 1);
}

/** The first of `base_1`, `base_2`, … not used by any layer (Keras' own suffix scheme). */
export function freeName(spec: ModelSpec, base: string): string {
  const taken = new Set(spec.config.layers.map((l) => l.config.name).filter((n): n is string => typeof n === 'string'));
  const stem = base.replace(/_\d+$/, '');
  for (let i = 1; ; i++) {
    const candidate = `${stem}_${i}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * Move the layer at `from` so that it ends up at index `to` (both in the current stack).
 * @returns the new spec (the same object when nothing moves)
 */
export function moveLayer(spec: ModelSpec, from: number, to: number): ModelSpec {
  checkIndex(spec, from);
  checkIndex(spec, to);
  if (from === to) return spec;
  const layers = spec.config.layers.slice();
  const [layer] = layers.splice(from, 1);
  layers.splice(to, 0, layer);
  return withLayers(spec, layers);
}

/**
 * Set one config field of one layer; `undefined` removes it so the Keras default applies (the spec then
 * says exactly what the user chose, nothing more).
 */
export function setLayerField(spec: ModelSpec, index: number, field: string, value: unknown): ModelSpec {
  checkIndex(spec, index);
  const layers = spec.config.layers.slice();
  const config: LayerConfig = { ...layers[index].config };
  if (value === undefined) delete config[field];
  else config[field] = value;
  layers[index] = { class_name: layers[index].class_name, config };
  return withLayers(spec, layers);
}

/** Rename the model itself (the Sequential's `name`). */
export function setModelName<T extends AnyModelSpec>(spec: T, name: string): T {
  return { ...spec, config: { ...spec.config, name } };
}

/**
 * The name every layer will have: its own `name`, or Keras' auto name (`conv2d`, `conv2d_1`, …, skipping
 * names given explicitly). The core's `assignNames` uses the same shared rule, so the stack can name layers the
 * core did not reach (those after an error) exactly as the core will once the error is fixed.
 * @param ignoreNameAt treat this layer as unnamed: what would Keras call it if its name were cleared?
 */
export function autoNames(spec: AnyModelSpec, ignoreNameAt: number | null = null): string[] {
  return kerasLayerNames(spec.config.layers.map((l, i) => ({ class_name: l.class_name, name: i === ignoreNameAt ? null : l.config.name })));
}
