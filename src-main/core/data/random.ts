import { DataError } from './errors';

/** A function returning uniformly distributed numbers in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32: a tiny 32-bit seeded PRNG. Chosen over Math.random (unseedable) and over tfjs' seedrandom
 * (an indirect dependency we should not reach into) because its output is defined purely by 32-bit integer
 * arithmetic, so the same seed gives the same split and shuffles on every machine and JS engine.
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place, driven by `rng` (for per-epoch shuffles). Returns the same array. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(arr: T, rng: Rng): T {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = arr[i]!;
    arr[i] = arr[j]!;
    arr[j] = tmp;
  }
  return arr;
}

/**
 * The lesson's validation split: shuffle 0..count-1 with a seeded PRNG, then the first floor((1 - f)·count)
 * indices train and the rest validate (R: `idx <- sample.int(n); tr_idx <- idx[1:floor(0.9 n)]`).
 * Only ever applied to the training set, so the test set never informs training decisions.
 * Deterministic: the same (count, fraction, seed) gives the same split everywhere.
 */
export function splitIndices(
  count: number,
  validationFraction: number,
  seed: number,
): { train: Int32Array; validation: Int32Array } {
  if (!Number.isInteger(count) || count < 0) {
    throw new DataError(`splitIndices: count must be a non-negative integer, received ${count}`);
  }
  if (!Number.isFinite(validationFraction) || validationFraction < 0 || validationFraction >= 1) {
    throw new DataError(`validation_split must be in [0, 1), received ${validationFraction}`);
  }
  if (!Number.isFinite(seed)) throw new DataError(`seed must be a finite number, received ${seed}`);
  const perm = new Int32Array(count);
  for (let i = 0; i < count; i++) perm[i] = i;
  shuffleInPlace(perm, mulberry32(seed));
  // The epsilon keeps 0.9 × 60000 from landing on 53999.999… through float rounding.
  const nTrain = Math.min(count, Math.floor((1 - validationFraction) * count + 1e-9));
  return { train: perm.slice(0, nTrain), validation: perm.slice(nTrain) };
}
