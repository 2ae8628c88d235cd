/**
 * Helpers for comparing a backend against tfjs' reference `cpu` backend in tests: seeded data, running the
 * same computation on two backends, and a relative-error measure.
 */
import * as tf from '@tensorflow/tfjs';

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32), so both backends see the same inputs. */
export function seededArray(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/**
 * Runs `fn` with `backend` active and returns its tensors' values, disposing everything it made.
 * Math.random is replaced by a seeded generator meanwhile, so Dropout masks are identical across backends.
 */
export async function runOn(backend: string, fn: () => tf.Tensor[], seed = 7): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialise`);
  const realRandom = Math.random;
  const rand = seededArray(1 << 16, seed);
  let i = 0;
  Math.random = () => (rand[i++ % rand.length] + 1) / 2;
  try {
    const outs = tf.tidy(fn);
    const values = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    return values.map((v) => Float32Array.from(v));
  } finally {
    Math.random = realRandom;
  }
}

/**
 * Normwise relative difference: max|a − b| / max(|b|, tiny). The measure behind "agrees with cpu within 1e-4":
 * elementwise ratios are meaningless for entries that are near zero after float32 cancellation.
 */
export function relDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) return Infinity;
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/**
 * Whether `a` agrees with the reference `b`: max|a − b| ≤ rtol · max|b| + atol. `atol` covers gradients that
 * are zero in exact arithmetic (e.g. a bias followed by BatchNorm) and come out as float32 noise near 1e-8.
 * Returns a message naming the worst element when they disagree, else null.
 */
export function disagreement(a: Float32Array, b: Float32Array, rtol: number, atol = 0): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  let worst = -1;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= diff)) {
      diff = d;
      worst = i;
    }
    scale = Math.max(scale, Math.abs(b[i]));
  }
  if (diff <= rtol * scale + atol) return null;
  return `max |diff| ${diff} at [${worst}] (${a[worst]} vs ${b[worst]}) > ${rtol} × max|ref| ${scale} + ${atol}`;
}
