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

/** Bytes as "12.3 MB" (1024 steps, one decimal). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let size = bytes / 1024;
  let u = 0;
  while (size >= 1024 && u < units.length - 1) {
    size /= 1024;
    u++;
  }
  return `${size.toFixed(1)} ${units[u]}`;
}

/**
 * The summary's memory line for the batch size the hyperparameters ask for: what training needs (weights,
 * gradients and optimizer slots, plus the batch's activations), against the budget the services refuse above.
 */
export function memoryLine(m: { fixedBytes: number; perImageBytes: number; budgetBytes: number }, batch: number): { text: string; over: boolean } {
  const total = m.fixedBytes + batch * m.perImageBytes;
  const over = total > m.budgetBytes;
  return { text: `~${formatBytes(total)} to train at batch ${batch} (budget ${formatBytes(m.budgetBytes)})${over ? ': too large, training would be refused' : ''}`, over };
}
