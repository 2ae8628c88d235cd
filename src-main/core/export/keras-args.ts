/**
 * Keras constructor arguments as the generated Python and R scripts write them: literals, and integers kept
 * apart from floats (R needs `3L` for some keras3 arguments). Shared by every layer's `kerasArgs` part
 * (core/model/layers) and the script writers in keras-code.ts.
 */

/** A literal in a generated script: arrays are Python tuples / R vectors (or lists when nested). */
export type Lit = number | string | boolean | null | Lit[];
/** A number the scripts must see as an integer (R needs `3L` for some keras3 arguments). */
export class Int {
  constructor(readonly value: number) {}
}
export type Arg = Lit | Int | Int[] | Int[][];

/** A layer with no Keras translation here; the message names the layer. */
export class KerasExportError extends Error {
  override name = 'KerasExportError';
}

export const ints = (v: unknown, what: string, layer: string): Int[] => {
  const arr = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(arr) || !arr.every((n) => typeof n === 'number' && Number.isInteger(n))) {
    throw new KerasExportError(`layer '${layer}': ${what} ${JSON.stringify(v)} is not an integer or a pair of integers`);
  }
  return arr.map((n: number) => new Int(n));
};


