/**
 * Running parameter totals for the editor: the core's totals when the whole model is valid, else the sum
 * of the layers it could summarise (the valid prefix), so an unfinished model still shows what it has.
 */
import type { SpecSummary } from '$shared/spec';

export interface RunningTotals {
  params: number;
  trainable: number;
  nonTrainable: number;
  /** Layers counted (the summary's rows). */
  layers: number;
  /** True when every layer of the model is counted. */
  complete: boolean;
}

export function runningTotals(summary: SpecSummary | null, layerCount: number): RunningTotals | null {
  if (!summary || layerCount === 0) return null;
  if (summary.ok) {
    return { params: summary.totalParams, trainable: summary.trainableParams, nonTrainable: summary.nonTrainableParams, layers: layerCount, complete: true };
  }
  const rows = summary.rows;
  const sum = (f: (r: (typeof rows)[number]) => number): number => rows.reduce((n, r) => n + f(r), 0);
  return {
    params: sum((r) => r.params),
    trainable: sum((r) => r.trainableParams),
    nonTrainable: sum((r) => r.nonTrainableParams),
    layers: rows.length,
    complete: rows.length === layerCount,
  };
}
