/**
 * Time and health estimates for the training view: the time left for the whole run (the services report
 * only the current epoch's, as Keras' progress bar does), a rough duration before Train is pressed, and a
 * hint when validation accuracy sits at chance level.
 */
import type { BatchProgress, EpochResult } from '$shared/contract';
import { isDtypePolicy, type DtypePolicy, type SpecSummary } from '$shared/spec';

/**
 * Seconds left in the whole run: the current epoch's remainder plus the remaining epochs at the mean
 * duration of the finished ones (validation included), or at this epoch's pace before any has finished.
 * Early stopping may end the run sooner; this is the time if it does not.
 */
export function runEtaSeconds(p: BatchProgress, history: readonly EpochResult[]): number {
  const done = history.filter((e) => e.epoch < p.epoch);
  const perEpoch = done.length > 0 ? done.reduce((s, e) => s + e.durationSeconds, 0) / done.length : p.elapsedSeconds - elapsedBefore(p, history) + p.etaSeconds;
  return Math.max(0, p.etaSeconds + Math.max(0, p.epochs - p.epoch) * perEpoch);
}

/** Seconds spent in epochs before the current one (the progress' elapsed time counts from the run start). */
function elapsedBefore(p: BatchProgress, history: readonly EpochResult[]): number {
  return history.filter((e) => e.epoch < p.epoch).reduce((s, e) => s + e.durationSeconds, 0);
}

/**
 * A model's cost per image in multiply-adds, roughly: each layer's weights times the positions its output
 * has (a convolution applies its kernel at every output pixel; a Dense layer once). Used only to scale a
 * measured speed from one model to another.
 */
export function costPerImage(summary: SpecSummary | null): number | null {
  if (!summary || summary.rows.length === 0) return null;
  const cost = summary.rows.reduce((sum, r) => {
    const positions = r.outputShape.slice(1, -1).reduce<number>((n, d) => n * (d ?? 1), 1);
    return sum + r.params * positions;
  }, 0);
  return Math.max(1, cost);
}

/** A speed measured on some model: images per second at a cost per image. */
export interface MeasuredSpeed {
  imagesPerSec: number;
  cost: number;
  modelName: string;
  /** The run's dtype policy (absent in speeds stored before policies: float32). */
  dtypePolicy?: DtypePolicy;
}

/** The last speed measured under each dtype policy (a bfloat16 run is ~1.4× a float32 one: not interchangeable). */
export type SpeedsByPolicy = Partial<Record<DtypePolicy, MeasuredSpeed>>;

const isSpeed = (s: unknown): s is MeasuredSpeed => {
  const m = s as Partial<MeasuredSpeed> | null;
  return typeof m === 'object' && m !== null && typeof m.imagesPerSec === 'number' && m.imagesPerSec > 0 && typeof m.cost === 'number' && m.cost > 0;
};

/** Reads stored speeds: a speed per policy, or one speed as stored before policies were told apart. */
export function parseSpeeds(stored: unknown): SpeedsByPolicy {
  if (isSpeed(stored)) return { [stored.dtypePolicy ?? 'float32']: stored };
  if (typeof stored !== 'object' || stored === null) return {};
  const out: SpeedsByPolicy = {};
  for (const [policy, s] of Object.entries(stored)) {
    if (isDtypePolicy(policy) && isSpeed(s)) out[policy] = { ...s, dtypePolicy: policy };
  }
  return out;
}

/** The speed to estimate a run under `policy` from: its own when measured, else another policy's (the estimate says so). */
export function speedFor(speeds: SpeedsByPolicy, policy: DtypePolicy): MeasuredSpeed | null {
  return speeds[policy] ?? Object.values(speeds)[0] ?? null;
}

export interface RunEstimate {
  seconds: number;
  imagesPerEpoch: number;
  imagesPerSec: number;
}

/**
 * How long a run would take: training images per epoch (after the validation split) × epochs at the
 * measured speed scaled by the cost ratio. Null without a measurement or a cost (nothing to scale from).
 */
export function estimateRun(
  setup: { trainImages: number; validationSplit: number; epochs: number; cost: number | null },
  measured: MeasuredSpeed | null,
): RunEstimate | null {
  if (!measured || setup.cost === null || measured.imagesPerSec <= 0) return null;
  const imagesPerSec = (measured.imagesPerSec * measured.cost) / setup.cost;
  const imagesPerEpoch = Math.floor(setup.trainImages * (1 - setup.validationSplit));
  // Validation runs a forward pass only, about a third of a training step's work.
  const validation = (setup.trainImages - imagesPerEpoch) / 3;
  return { seconds: (setup.epochs * (imagesPerEpoch + validation)) / imagesPerSec, imagesPerEpoch, imagesPerSec };
}

/**
 * A hint when the last epoch validates at chance level (within 1.5× of 1/classes) while training
 * accuracy is clearly above it: the network learns, but its validation pass does not show it yet.
 */
export function chanceHint(history: readonly EpochResult[], classes: number, hasBatchNorm: boolean): string | null {
  const last = history.at(-1);
  if (!last || last.val_accuracy === null || classes < 2) return null;
  const chance = 1 / classes;
  if (last.val_accuracy > chance * 1.5 || last.accuracy < chance * 2) return null;
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  const why = hasBatchNorm
    ? "BatchNormalization validates with its moving statistics, which need a few hundred batches to settle (momentum 0.99): early epochs often validate at chance and recover. If it stays there, lower BatchNormalization's momentum (e.g. 0.9) or train on more images."
    : 'the validation images may differ from the training ones (check the dataset and the split), or the learning rate may be too high for the model to generalise yet.';
  return `Validation accuracy is at chance level (${pct(last.val_accuracy)}, chance is ${pct(chance)} for ${classes} classes) while training accuracy is ${pct(last.accuracy)}: ${why}`;
}
