/**
 * What the dataset view says about a dataset beyond its raw numbers: its colour mode, whether its classes are
 * out of balance (and which), and how many images each of train / validation / test gets for the settings in
 * the form — computed the way the trainer splits (core/data/random.ts `splitIndices`).
 */

/** Largest / smallest class count above which a set is called imbalanced (as Lobe and Teachable Machine warn). */
export const IMBALANCE_RATIO = 1.5;

export function colourMode(channels: number): string {
  if (channels === 1) return 'grayscale';
  if (channels === 3) return 'RGB';
  return `${channels} channels`;
}

export interface Imbalance {
  /** Largest / smallest count; Infinity when a class has no image. */
  ratio: number;
  largest: { name: string; count: number };
  smallest: { name: string; count: number };
  flagged: boolean;
}

/** The most and least frequent classes (first in class order on ties); null with fewer than two classes. */
export function imbalance(counts: readonly number[], names: readonly string[], threshold = IMBALANCE_RATIO): Imbalance | null {
  if (counts.length < 2) return null;
  let hi = 0;
  let lo = 0;
  counts.forEach((c, i) => {
    if (c > counts[hi]!) hi = i;
    if (c < counts[lo]!) lo = i;
  });
  const ratio = counts[lo] === 0 ? (counts[hi] === 0 ? 1 : Infinity) : counts[hi]! / counts[lo]!;
  return {
    ratio,
    largest: { name: names[hi] ?? `class ${hi}`, count: counts[hi]! },
    smallest: { name: names[lo] ?? `class ${lo}`, count: counts[lo]! },
    flagged: ratio > threshold,
  };
}

export interface SplitSizes {
  train: number;
  validation: number;
  test: number;
}

/**
 * Images per part for a dataset of `trainCount` / `testCount` images with the form's validation split and
 * image limits (null = all). An unusable split (not in [0, 1)) leaves the validation part at 0.
 */
export function splitSizes(trainCount: number, testCount: number, validationSplit: number, limitTrain: number | null, limitTest: number | null): SplitSizes {
  const used = limitTrain === null ? trainCount : Math.min(trainCount, limitTrain);
  const v = Number.isFinite(validationSplit) && validationSplit >= 0 && validationSplit < 1 ? validationSplit : 0;
  // The trainer's rounding, epsilon included (0.9 × 60000 must not land on 53999.999…).
  const train = Math.min(used, Math.floor((1 - v) * used + 1e-9));
  return { train, validation: used - train, test: limitTest === null ? testCount : Math.min(testCount, limitTest) };
}
