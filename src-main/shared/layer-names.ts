/**
 * Keras' auto-naming rule, shared by the core (which names layers as it checks a spec) and the renderer
 * (which names layers the core has not reached, e.g. those after an error), so both always agree.
 * Pure and tfjs-free: it depends only on the prefix table beside it.
 */
import { DEFAULT_LAYER_NAME_PREFIX } from './layer-fields';

/** One layer as far as naming goes: its class and the name it was given, if any. */
export interface NamedLayer {
  class_name: unknown;
  /** The layer's `config.name`; anything but a non-empty string counts as unnamed. */
  name: unknown;
}

/**
 * The name every layer will have: its own non-empty `name`, or Keras' auto name (prefix, prefix_1, …, by
 * class, `layer` for an unknown class), never colliding with a name given explicitly anywhere in the list.
 */
export function kerasLayerNames(layers: readonly NamedLayer[]): string[] {
  const explicit = layers.map((l) => (typeof l.name === 'string' && l.name !== '' ? l.name : null));
  const given = new Set(explicit.filter((n): n is string => n !== null));
  const counters = new Map<string, number>();
  return layers.map((l, i) => {
    const own = explicit[i];
    if (own !== null && own !== undefined) return own;
    const prefix =
      typeof l.class_name === 'string' && Object.prototype.hasOwnProperty.call(DEFAULT_LAYER_NAME_PREFIX, l.class_name)
        ? DEFAULT_LAYER_NAME_PREFIX[l.class_name as keyof typeof DEFAULT_LAYER_NAME_PREFIX]
        : 'layer';
    for (;;) {
      const k = counters.get(prefix) ?? 0;
      counters.set(prefix, k + 1);
      const candidate = k === 0 ? prefix : `${prefix}_${k}`;
      if (!given.has(candidate)) {
        given.add(candidate);
        return candidate;
      }
    }
  });
}
