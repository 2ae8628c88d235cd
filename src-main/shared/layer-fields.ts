/**
 * The config fields of every supported layer class, with Keras' defaults and allowed values, as plain data —
 * derived from the per-layer definitions in `shared/layers/` (one module per layer class). One table serves the
 * renderer's layer form (no tfjs, no Node) and the core validator, so the form and the checks cannot drift.
 *
 * `name` and `trainable` are common to every layer and listed once in `COMMON_LAYER_FIELDS`.
 */
import type { FieldDescriptor, LayerClassName } from './spec';
import { LAYER_CLASS_NAMES } from './spec';
import { LAYER_INFO } from './layers/index';

export { COMMON_LAYER_FIELDS, INITIALIZERS, type InitializerName } from './layers/index';

const byClass = <T>(f: (c: LayerClassName) => T): Record<LayerClassName, T> =>
  Object.fromEntries(LAYER_CLASS_NAMES.map((c) => [c, f(c)])) as Record<LayerClassName, T>;

/** Keras' default layer-name prefix per class (Keras 3 `auto_name`: snake_case of the class name). */
export const DEFAULT_LAYER_NAME_PREFIX: Record<LayerClassName, string> = byClass((c) => LAYER_INFO[c].namePrefix);

/** Config fields per layer class (beyond `COMMON_LAYER_FIELDS`), in form order. */
export const LAYER_FIELDS: Record<LayerClassName, readonly FieldDescriptor[]> = byClass((c) => LAYER_INFO[c].fields);

/**
 * Fields Keras writes into a config that we accept without using (no effect here), so that a spec exported by
 * Keras does not drown in "unknown field" warnings. Values are still checked where it matters (data_format).
 */
export const ACCEPTED_KERAS_FIELDS: readonly string[] = ['dtype', 'data_format', 'batch_shape', 'batch_input_shape', 'sparse', 'ragged', 'seed', 'noise_shape', 'alpha', 'axis'];
