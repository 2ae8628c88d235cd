/** Number and shape formatting as Keras' `model.summary()` prints them, so a lesson reader recognises them. */

/** `468586` → `"468,586"` (Keras groups thousands with commas whatever the locale). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Math.round(n).toLocaleString('en-US');
}

/** `[null, 28, 28, 1]` → `"(None, 28, 28, 1)"`. */
export function formatShape(shape: readonly (number | null)[]): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
}

/** Bytes of float32 weights, as Keras appends them to totals: `468586` → `"1.79 MB"`, `384` → `"1.50 KB"`. */
export function formatWeightBytes(params: number): string {
  const bytes = params * 4;
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(2)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(2)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}
