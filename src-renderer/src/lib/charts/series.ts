/**
 * Plain-data helpers that turn training records into chart series. No chart.js and no runes here, so they
 * can be unit-tested in Node and reused by the live dashboard, a saved run and a comparison.
 */
import type { BatchProgress, EpochEvent, EpochResult } from '$shared/contract';

/** One point on a curve: x is in epochs (fractional for per-batch samples), y the metric. */
export interface Point {
  x: number;
  y: number;
}

/** A vertical marker on the curves for something that happened at an epoch end. */
export interface Marker {
  x: number;
  label: string;
  kind: EpochEvent['kind'];
}

/**
 * Exponential moving average with TensorBoard-style debiasing, so the first samples are not dragged towards
 * zero. `smoothing` is the weight of the past (0 = raw values, 0.9 = heavy smoothing).
 */
export function ema(points: readonly Point[], smoothing = 0.8): Point[] {
  if (!(smoothing >= 0 && smoothing < 1)) throw new RangeError(`smoothing must be in [0, 1), received ${smoothing}`);
  const out: Point[] = [];
  let last = 0;
  let n = 0;
  for (const p of points) {
    if (!Number.isFinite(p.y)) continue;
    n += 1;
    last = last * smoothing + (1 - smoothing) * p.y;
    const debias = 1 - smoothing ** n;
    out.push({ x: p.x, y: debias === 0 ? p.y : last / debias });
  }
  return out;
}

/** Position of a batch sample on the epoch axis: epoch 1, batch 50 of 100 sits at x = 0.5. */
export function batchX(progress: Pick<BatchProgress, 'epoch' | 'batch' | 'batchesPerEpoch'>): number {
  return progress.epoch - 1 + progress.batch / Math.max(1, progress.batchesPerEpoch);
}

/** The per-epoch metrics a curve can show. */
export type EpochMetric = 'loss' | 'accuracy' | 'val_loss' | 'val_accuracy' | 'learningRate';

/** One metric per epoch, placed at the epoch's end (x = epoch) so it lines up with the per-batch samples. */
export function epochSeries(history: readonly EpochResult[], metric: EpochMetric): Point[] {
  const out: Point[] = [];
  for (const e of history) {
    const y = e[metric];
    if (typeof y === 'number' && Number.isFinite(y)) out.push({ x: e.epoch, y });
  }
  return out;
}

/** The early-stop and LR-reduction events of a history, as markers; 'best' events are marked by point style instead. */
export function eventMarkers(history: readonly EpochResult[]): Marker[] {
  const out: Marker[] = [];
  for (const e of history) {
    for (const ev of e.events) {
      if (ev.kind === 'lr_reduced') {
        out.push({ x: e.epoch, kind: ev.kind, label: `LR ${formatLr(ev.from)} → ${formatLr(ev.to)}` });
      } else if (ev.kind === 'early_stop') {
        const restored = ev.restored ? `, weights of epoch ${ev.bestEpoch} restored` : '';
        out.push({ x: e.epoch, kind: ev.kind, label: `Early stop${restored}` });
      }
    }
  }
  return out;
}

/** Epochs at which the monitored metric reached a new best (for a star on that curve). */
export function bestEpochs(history: readonly EpochResult[]): { epoch: number; monitor: string }[] {
  return history.flatMap((e) =>
    e.events.flatMap((ev) => (ev.kind === 'best' ? [{ epoch: e.epoch, monitor: ev.monitor }] : [])),
  );
}

/** Learning rates read best in scientific notation: 0.001 → "1e-3", 0.0005 → "5e-4". */
export function formatLr(lr: number): string {
  if (!Number.isFinite(lr) || lr <= 0) return String(lr);
  const [mantissa, exponent] = lr.toExponential(2).split('e');
  return `${Number(mantissa)}e${Number(exponent)}`;
}

/** Enough per-batch samples for a smooth line over a long run, few enough to redraw ten times a second. */
export const MAX_BATCH_SAMPLES = 2000;

/** Halves a sample list that grew past `max` by keeping every other point; the newest is always kept. */
export function thin(points: Point[], max = MAX_BATCH_SAMPLES): Point[] {
  if (points.length <= max) return points;
  const last = points.length - 1;
  return points.filter((_, i) => i % 2 === last % 2);
}
