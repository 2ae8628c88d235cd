/**
 * Batched inference over an ImageSet (inference mode: Dropout off, BatchNorm on its moving statistics),
 * and the test-set evaluation built on it.
 */
import * as tf from '@tensorflow/tfjs';
import type { Evaluation } from '../../shared/contract';
import type { AnyModelSpec, DtypePolicy } from '../../shared/spec';
import { gatherBatch } from '../data';
import type { ImageSet } from '../data';
import { evaluateProbabilities } from './metrics';
import { createPredictor } from './predictor';

/** Images per inference batch: bounds the activations' memory (the lesson CNN: ~50 MB per conv layer at 500). */
export const PREDICT_BATCH_SIZE = 500;

/**
 * Class probabilities for `indices` of `set` (all images in order when null), as a flat n × numClasses array,
 * through `createPredictor` (the native inference pass where it runs, else tfjs predict). Assembles the
 * images batch by batch so memory stays bounded whatever the set size. `dtypePolicy`: see `createPredictor`.
 */
export async function predictProbabilities(
  model: tf.LayersModel,
  set: ImageSet,
  indices: Int32Array | null,
  numClasses: number,
  batchSize = PREDICT_BATCH_SIZE,
  dtypePolicy: DtypePolicy = 'float32',
): Promise<Float32Array> {
  const n = indices ? indices.length : set.count;
  const out = new Float32Array(n * numClasses);
  const all = indices ?? Int32Array.from({ length: n }, (_, i) => i);
  const per = set.height * set.width * set.channels;
  const x = new Float32Array(Math.min(n, batchSize) * per);
  const labels = new Int32Array(Math.min(n, batchSize));
  const predictor = createPredictor(model, undefined, dtypePolicy);
  try {
    for (let start = 0; start < n; start += batchSize) {
      const idx = all.subarray(start, Math.min(n, start + batchSize));
      gatherBatch(set, idx, numClasses, x, labels);
      out.set(predictor.predict(x, idx.length), start * numClasses);
      // One macrotask turn per batch, as before (tfjs' data() awaited): a stop request or progress message gets in.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    predictor.dispose();
  }
  return out;
}

/** Labels of `indices` of `set` (all when null). */
export function labelsOf(set: ImageSet, indices: Int32Array | null): Uint8Array {
  if (!indices) return set.labels.subarray(0, set.count);
  const out = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = set.labels[indices[i]!]!;
  return out;
}

/** Mean cross-entropy and accuracy of `model` on a subset (the validation metrics). */
export async function lossAndAccuracy(
  model: tf.LayersModel,
  set: ImageSet,
  indices: Int32Array | null,
  classNames: string[],
  dtypePolicy: DtypePolicy = 'float32',
): Promise<{ loss: number; accuracy: number }> {
  const probs = await predictProbabilities(model, set, indices, classNames.length, PREDICT_BATCH_SIZE, dtypePolicy);
  const ev = evaluateProbabilities(labelsOf(set, indices), probs, { classNames, misclassifiedCap: 0, correctPerClassCap: 0 });
  return { loss: ev.testLoss, accuracy: ev.testAccuracy };
}

/** What the BatchNorm note needs to know about the training that produced the model. */
export interface TrainingContext {
  spec: AnyModelSpec;
  /** Optimizer steps (batches) taken in total. */
  steps: number;
  /** Training accuracy of the last epoch (running mean over its batches), if any epoch finished. */
  lastTrainAccuracy: number | null;
}

/** Below this many steps BatchNorm's moving statistics (momentum 0.99: 0.99^300 ≈ 5% of the start left) may not have settled. */
export const BATCHNORM_SETTLE_STEPS = 300;

/**
 * Explains, rather than hides, the near-chance inference a short run of a BatchNorm model gives: training
 * normalises with each batch's statistics, inference with moving averages that move only 1% per step from
 * (mean 0, variance 1). Keras behaves exactly the same.
 */
export function batchNormNotes(ev: Evaluation, ctx: TrainingContext): string[] {
  const bn = ctx.spec.config.layers.filter((l) => l.class_name === 'BatchNormalization');
  if (bn.length === 0 || ctx.lastTrainAccuracy === null) return [];
  const gap = ctx.lastTrainAccuracy - ev.testAccuracy;
  if (gap < 0.15 || ctx.steps >= 3 * BATCHNORM_SETTLE_STEPS) return [];
  const momentum = (bn[0]!.config.momentum as number | undefined) ?? 0.99;
  return [
    `Test accuracy (${ev.testAccuracy.toFixed(4)}) is far below the last training accuracy ` +
      `(${ctx.lastTrainAccuracy.toFixed(4)}). The model has ${bn.length} BatchNormalization layer(s) and this run took only ` +
      `${ctx.steps} optimizer steps: at inference BatchNorm uses moving statistics that move ${((1 - momentum) * 100).toFixed(0)}% ` +
      `per step from their start (mean 0, variance 1) and need a few hundred steps to settle, so inference can be near chance ` +
      `although training looks fine. Keras behaves the same. Train for more steps (more epochs or images) to fix it.`,
  ];
}

/** Predicts the whole test set and computes the full Evaluation, with the BatchNorm note when it applies. */
export async function evaluateModel(
  model: tf.LayersModel,
  test: ImageSet,
  classNames: string[],
  ctx?: TrainingContext,
): Promise<Evaluation> {
  const probs = await predictProbabilities(model, test, null, classNames.length);
  const ev = evaluateProbabilities(test.labels.subarray(0, test.count), probs, { classNames });
  if (ctx) ev.notes.push(...batchNormNotes(ev, ctx));
  return ev;
}
