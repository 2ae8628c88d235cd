/**
 * The memory budget: what training a model will need, estimated from its summary rows before anything is
 * allocated, and refused with the estimate when it is over budget. Without it a Dense layer of 100,000 units
 * (541 M parameters) passed validation, grew to 12.8 GB and died with "memory access out of bounds" after its
 * run folder was written, and a batch of 16,384 was OOM-killed with no reply.
 *
 * No tfjs here: the main process and the summary use it too.
 */
import os from 'node:os';
import type { MemoryEstimate, OptimizerName, SpecSummary } from '../../shared/spec';

/** 1536 → "1.5 KB" (1024 steps, at most one decimal). */
export function readableBytes(bytes: number): string {
  let size = bytes;
  for (const unit of ['B', 'KB', 'MB', 'GB', 'TB']) {
    if (size < 1024) return `${unit === 'B' ? size : size.toFixed(1)} ${unit}`;
    size /= 1024;
  }
  return `${size.toFixed(1)} PB`;
}

/** float32 everywhere. */
const BYTES = 4;
/**
 * Per value of every layer's output, per image: the output itself, its gradient in the backward pass, and one
 * more for what a layer keeps for it (pre-activation, Dropout mask, max-pool argmax, BatchNorm's normalised x).
 */
const ACTIVATION_COPIES = 3;
/** Share of physical memory a run may plan for by default (the data set, tfjs and the app need the rest). */
export const DEFAULT_BUDGET_SHARE = 0.5;

/** Optimizer slots per trainable weight (tfjs' and the fused step's rules). */
export function optimizerSlots(name: OptimizerName, momentum = 0): number {
  switch (name) {
    case 'adam':
    case 'adamax':
      return 2;
    case 'rmsprop':
      return momentum > 0 ? 2 : 1;
    case 'sgd':
      return momentum > 0 ? 1 : 0;
    case 'adagrad':
      return 1;
  }
}

/**
 * Parses a budget: bytes ("2000000000"), with a unit ("512M", "4G", "1.5GB"), or a share of physical memory
 * ("60%"). Throws RangeError naming `what` and the value.
 */
export function parseBudget(value: string, totalMemory = os.totalmem(), what = 'memory budget'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%|[kmgt]i?b?|b)?\s*$/i.exec(value);
  if (!m) throw new RangeError(`${what} '${value}': expected bytes, a size such as 512M or 4G, or a share such as 60%`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  if (unit === '%') {
    if (n <= 0 || n > 100) throw new RangeError(`${what} '${value}': a share must be in (0, 100]%`);
    return Math.floor((totalMemory * n) / 100);
  }
  const scale = { b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[unit[0] as 'b' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.floor(n * scale);
  if (bytes <= 0) throw new RangeError(`${what} '${value}' must be more than 0 bytes`);
  return bytes;
}

/** The budget: `override` (CLI flag), else CNN_WORKBENCH_MEMORY_BUDGET, else half the physical memory. */
export function memoryBudget(override?: string): number {
  const configured = override ?? process.env.CNN_WORKBENCH_MEMORY_BUDGET;
  if (configured !== undefined && configured !== '') return parseBudget(configured);
  return Math.floor(os.totalmem() * DEFAULT_BUDGET_SHARE);
}

/** Fixed and per-image bytes of training the summarised model (its rows: the layers' output shapes and counts). */
export function estimateMemory(summary: Pick<SpecSummary, 'rows' | 'totalParams' | 'trainableParams'>, slots = 2, budgetBytes = memoryBudget()): MemoryEstimate {
  // Weights, one gradient per trainable weight, the optimizer's slots.
  const fixedBytes = BYTES * (summary.totalParams + summary.trainableParams * (1 + slots));
  const values = summary.rows.reduce((n, r) => n + r.outputShape.reduce<number>((a, d) => a * (d ?? 1), 1), 0);
  return { fixedBytes, perImageBytes: BYTES * ACTIVATION_COPIES * values, budgetBytes };
}

/** Bytes to train at batch `batch`. */
export function trainingBytes(m: MemoryEstimate, batch: number): number {
  return m.fixedBytes + batch * m.perImageBytes;
}

/** "~1.2 GB to train at batch 128 (weights and optimizer 5.4 MB, activations 1.2 GB); budget 7.8 GB". */
export function describeMemory(m: MemoryEstimate, batch: number): string {
  return (
    `~${readableBytes(trainingBytes(m, batch))} to train at batch ${batch} (weights, gradients and optimizer ${readableBytes(m.fixedBytes)}, ` +
    `activations ${readableBytes(batch * m.perImageBytes)}); budget ${readableBytes(m.budgetBytes)}`
  );
}

/** The model is too large to train within the memory budget; the message gives the estimate. */
export class MemoryBudgetError extends Error {
  override name = 'MemoryBudgetError';
}

/** Throws MemoryBudgetError when training at `batch` would exceed the budget. */
export function checkMemory(m: MemoryEstimate, batch: number, modelName: string): void {
  if (trainingBytes(m, batch) <= m.budgetBytes) return;
  const fixedOver = m.fixedBytes > m.budgetBytes;
  throw new MemoryBudgetError(
    `model '${modelName}' needs ${describeMemory(m, batch)}: ` +
      (fixedOver
        ? 'its weights alone do not fit; use fewer units or filters'
        : `lower the batch size (at most ${Math.max(0, Math.floor((m.budgetBytes - m.fixedBytes) / m.perImageBytes))} fits) or the layer sizes`) +
      ' (the budget is half the physical memory unless CNN_WORKBENCH_MEMORY_BUDGET or --memory-budget says otherwise)',
  );
}
