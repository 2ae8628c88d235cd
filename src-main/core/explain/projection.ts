/**
 * 2-D projections of feature vectors: PCA (seeded subspace iteration, so it is exact up to convergence and
 * the same every time) and UMAP (umap-js, driven by a seeded generator instead of Math.random).
 */
import * as tf from '@tensorflow/tfjs';
import { UMAP } from 'umap-js';
import { mulberry32 } from '../data/random';

/** Row-major n × d feature vectors. */
export interface Features {
  n: number;
  d: number;
  values: Float32Array;
}

/** Symmetric eigen-decomposition by cyclic Jacobi rotations (for the small k × k Rayleigh–Ritz matrix). */
function jacobiEigen(a: number[][]): { values: number[]; vectors: number[][] } {
  const k = a.length;
  const m = a.map((r) => r.slice());
  const v: number[][] = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += m[p]![q]! ** 2;
    if (off < 1e-20) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        if (Math.abs(m[p]![q]!) < 1e-300) continue;
        const theta = (m[q]![q]! - m[p]![p]!) / (2 * m[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cs = 1 / Math.sqrt(t * t + 1);
        const sn = t * cs;
        for (let r = 0; r < k; r++) {
          const mrp = m[r]![p]!;
          const mrq = m[r]![q]!;
          m[r]![p] = cs * mrp - sn * mrq;
          m[r]![q] = sn * mrp + cs * mrq;
        }
        for (let r = 0; r < k; r++) {
          const mpr = m[p]![r]!;
          const mqr = m[q]![r]!;
          m[p]![r] = cs * mpr - sn * mqr;
          m[q]![r] = sn * mpr + cs * mqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r]![p]!;
          const vrq = v[r]![q]!;
          v[r]![p] = cs * vrp - sn * vrq;
          v[r]![q] = sn * vrp + cs * vrq;
        }
      }
    }
  }
  return { values: m.map((r, i) => r[i]!), vectors: v };
}

/** Orthonormalises the columns of a d × k row-major matrix in place (modified Gram–Schmidt). */
function orthonormalise(m: Float32Array, d: number, k: number): void {
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let r = 0; r < d; r++) dot += m[r * k + i]! * m[r * k + j]!;
      for (let r = 0; r < d; r++) m[r * k + j]! -= dot * m[r * k + i]!;
    }
    let norm = 0;
    for (let r = 0; r < d; r++) norm += m[r * k + j]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < d; r++) m[r * k + j]! /= norm;
  }
}

/**
 * The data centred and projected on its top `k` principal components (n × k, row-major), components in order
 * of variance, each signed so that its largest-magnitude loading is positive (a fixed sign, so two runs agree).
 * Subspace iteration from a seeded start, then Rayleigh–Ritz to order the components within the subspace.
 */
export function pca(features: Features, k: number, seed = 1, iterations = 40): { scores: Float32Array; k: number } {
  const { n, d } = features;
  const kk = Math.min(k, d, n);
  if (kk < 1) throw new Error(`PCA needs at least one vector of at least one dimension (got ${n} × ${d})`);
  const rng = mulberry32(seed);
  const q = Float32Array.from({ length: d * kk }, () => rng() - 0.5);
  orthonormalise(q, d, kk);
  const xc = tf.tidy(() => {
    const x = tf.tensor2d(features.values, [n, d]);
    return x.sub(x.mean(0)) as tf.Tensor2D;
  });
  try {
    for (let i = 0; i < iterations; i++) {
      const z = tf.tidy(() => tf.matMul(xc, tf.matMul(xc, tf.tensor2d(q, [d, kk])), true, false)); // Xᵀ X Q
      q.set(z.dataSync());
      z.dispose();
      orthonormalise(q, d, kk);
    }
    const small = tf.tidy(() => {
      const y = tf.matMul(xc, tf.tensor2d(q, [d, kk]));
      return tf.matMul(y, y, true, false);
    });
    const { values, vectors } = jacobiEigen(small.arraySync() as number[][]);
    small.dispose();
    const order = values.map((val, i) => [val, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
    // comps = Q · V[:, order], then a fixed sign per component.
    const comps = new Float32Array(d * kk);
    for (let r = 0; r < d; r++) {
      for (let j = 0; j < kk; j++) {
        let s = 0;
        for (let t = 0; t < kk; t++) s += q[r * kk + t]! * vectors[t]![order[j]!]!;
        comps[r * kk + j] = s;
      }
    }
    for (let j = 0; j < kk; j++) {
      let best = 0;
      for (let r = 0; r < d; r++) if (Math.abs(comps[r * kk + j]!) > Math.abs(best)) best = comps[r * kk + j]!;
      if (best < 0) for (let r = 0; r < d; r++) comps[r * kk + j] = -comps[r * kk + j]!;
    }
    const scores = tf.tidy(() => tf.matMul(xc, tf.tensor2d(comps, [d, kk])));
    const out = Float32Array.from(scores.dataSync());
    scores.dispose();
    return { scores: out, k: kk };
  } finally {
    xc.dispose();
  }
}

/** UMAP settings. */
export interface UmapOptions {
  seed?: number;
  nNeighbors?: number;
  minDist?: number;
  /** Optimisation epochs (umap-js picks 200–500 by size when omitted). */
  nEpochs?: number;
}

/**
 * UMAP to 2-D (umap-js). The same data and seed give the same layout: umap-js draws every random number
 * (neighbour search, initialisation, negative sampling) from the `random` it is given.
 */
export function umap2d(features: Features, opts: UmapOptions = {}): { x: number[]; y: number[] } {
  const { n, d } = features;
  const rows: number[][] = Array.from({ length: n }, (_, i) => Array.from(features.values.subarray(i * d, (i + 1) * d)));
  const model = new UMAP({
    nComponents: 2,
    nNeighbors: Math.max(2, Math.min(opts.nNeighbors ?? 15, n - 1)),
    minDist: opts.minDist ?? 0.1,
    nEpochs: opts.nEpochs,
    random: mulberry32(opts.seed ?? 1),
  });
  const out = model.fit(rows);
  return { x: out.map((p) => p[0]!), y: out.map((p) => p[1]!) };
}
