/**
 * What the fused-step tests share (fused.test.ts for chains, fused-graph.test.ts for graphs): a seeded 12×12 batch
 * for 5 classes, running on tfjs' pure-JS cpu backend (the reference), and the comparison of several fused steps
 * with tfjs' trainOnBatch — losses, accuracies and every weight after the steps.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../shared/contract';
import type { OptimizerSpec } from '../../shared/spec';
import { disagreement, seededArray } from '../backend/testing';
import { mulberry32 } from '../data/random';
import { createOptimizer, setLearningRate } from '../model';
import { createFusedTrainer, type FusedStepResult } from './fused';

/** Relative tolerance of the fused step against tfjs. */
export const TOL = 1e-4;

/** `n` non-negative 12×12×`channels` images with labels cycling through 5 classes, the same for the same seed. */
export function batch(n: number, seed: number, channels = 2): { x: Float32Array; labels: Int32Array } {
  const x = seededArray(n * 12 * 12 * channels, seed).map((v) => Math.abs(v));
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 5);
  return { x, labels };
}

/**
 * `fn()` with Math.random replaced by mulberry32 (core/data/random.ts), so tfjs' initializers, which seed themselves
 * from Math.random when given no seed, draw the same weights every run. Unseeded, 4 runs in 40 drew a residual
 * network where Adam turned a rounding difference into a 4.6e-5 gap on a Dense kernel (allowed: 2.4e-5).
 */
export function withSeededRandom<T>(seed: number, fn: () => T): T {
  const saved = Math.random;
  Math.random = mulberry32(seed);
  try {
    return fn();
  } finally {
    Math.random = saved;
  }
}

/** Runs `fn` on tfjs' cpu backend, then returns to the active one. */
export async function onCpu(fn: () => Promise<void> | void): Promise<void> {
  const active = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    await fn();
  } finally {
    await tf.setBackend(active);
  }
}

/**
 * `steps` fused steps against tfjs' trainOnBatch on two copies of `make()` (same initial weights): a short last batch
 * as at an epoch's end, a learning rate changed between steps as ReduceLROnPlateau does; then every weight. Must run
 * on the cpu backend (`onCpu`). `what` prefixes the failure messages.
 */
export async function compareFusedWithTfjs(make: () => tf.LayersModel, optimizer: OptimizerSpec, steps: number, backend: BackendInfo, what = ''): Promise<void> {
  assert.equal(tf.getBackend(), 'cpu');
  const label = what ? `${what}: ` : '';
  const ref = withSeededRandom(7, make);
  ref.compile({ optimizer: createOptimizer(optimizer), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const fusedModel = make();
  fusedModel.setWeights(ref.getWeights());
  const plan = createFusedTrainer(fusedModel, optimizer, 5, 16, backend);
  assert.ok(plan.ok, plan.ok ? '' : `${label}${plan.reason}`);
  const channels = ref.inputs[0]!.shape[3]!;
  for (let s = 0; s < steps; s++) {
    const n = s === steps - 1 ? 9 : 16; // a short last batch, as at an epoch's end
    const { x, labels } = batch(n, 11 + s, channels);
    const lr = s === 1 ? 3e-3 : 1e-2; // the learning rate may change between steps (ReduceLROnPlateau)
    setLearningRate(ref.optimizer, lr);
    const xs = tf.tensor4d(x, [n, 12, 12, channels]);
    const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 5).toFloat();
    const [refLoss, refAcc] = (await ref.trainOnBatch(xs, ys)) as number[];
    tf.dispose([xs, ys]);
    const got: FusedStepResult = plan.trainer.step(x, labels, n, lr);
    assert.ok(got.finite);
    assert.ok(Math.abs(got.loss - refLoss!) <= TOL * Math.abs(refLoss!), `${label}step ${s}: loss ${got.loss} vs tfjs ${refLoss}`);
    assert.equal(Math.fround(got.accuracy), refAcc, `${label}step ${s}: accuracy (tfjs reports float32)`);
  }
  plan.trainer.pushToModel();
  const a = fusedModel.getWeights();
  const b = ref.getWeights();
  assert.equal(a.length, b.length);
  a.forEach((w, i) => {
    const bad = disagreement(w.dataSync() as Float32Array, b[i]!.dataSync() as Float32Array, TOL, 1e-6);
    assert.equal(bad, null, `${label}weight ${i} (${fusedModel.weights[i]!.name}): ${bad}`);
  });
  plan.trainer.dispose();
  assert.throws(() => plan.trainer.step(batch(1, 0).x, batch(1, 0).labels, 1, 1e-3), /this trainer was disposed/);
  ref.dispose();
  fusedModel.dispose();
}
