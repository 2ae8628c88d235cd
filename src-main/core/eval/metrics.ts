/**
 * Classification metrics from predicted probabilities: pure arithmetic, no tfjs, so it is testable on a
 * hand-made confusion matrix and reusable by the UI's server side.
 */
import type { ClassMetrics, Evaluation } from '../../shared/contract';

/** Keras' categorical cross-entropy clips probabilities to [eps, 1 - eps] with eps = 1e-7 (backend.epsilon()). */
export const EPSILON = 1e-7;

/** Default cap on the misclassified list: enough for a gallery, small enough for evaluation.json and IPC. */
export const MISCLASSIFIED_CAP = 500;

/** Default number of least-confident correct predictions kept per class (the diagonal's gallery). */
export const CORRECT_PER_CLASS_CAP = 48;

/** Rows = truth, columns = predicted (as in the lesson's table). */
export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]!]![predicted[i]!]! += 1;
  return m;
}

/** 0/0 is defined as 0, like scikit-learn's zero_division=0. */
function safeDiv(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** Per-class precision, recall, F1 and support from a confusion matrix (rows truth, columns predicted). */
export function perClassMetrics(matrix: number[][]): ClassMetrics[] {
  const n = matrix.length;
  return matrix.map((row, k) => {
    const tp = row[k]!;
    const support = row.reduce((a, b) => a + b, 0);
    let predictedK = 0;
    for (let r = 0; r < n; r++) predictedK += matrix[r]![k]!;
    const precision = safeDiv(tp, predictedK);
    const recall = safeDiv(tp, support);
    return { precision, recall, f1: safeDiv(2 * precision * recall, precision + recall), support };
  });
}

/** Unweighted means over classes (scikit-learn's average='macro'). */
export function macroAverages(perClass: ClassMetrics[]): { precision: number; recall: number; f1: number } {
  const mean = (f: (c: ClassMetrics) => number) => safeDiv(perClass.reduce((a, c) => a + f(c), 0), perClass.length);
  return { precision: mean((c) => c.precision), recall: mean((c) => c.recall), f1: mean((c) => c.f1) };
}

/** Off-diagonal cells with a count > 0, largest first (ties: by truth, then predicted class). */
export function confusedPairs(matrix: number[][], limit = 10): { truth: number; predicted: number; count: number }[] {
  const pairs: { truth: number; predicted: number; count: number }[] = [];
  matrix.forEach((row, t) =>
    row.forEach((count, p) => {
      if (t !== p && count > 0) pairs.push({ truth: t, predicted: p, count });
    }),
  );
  pairs.sort((a, b) => b.count - a.count || a.truth - b.truth || a.predicted - b.predicted);
  return pairs.slice(0, limit);
}

/** Index of the largest value in row `i` of a flat [n × k] array (first one on ties, like argmax). */
function argmaxRow(probs: ArrayLike<number>, i: number, k: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let j = 0; j < k; j++) {
    const v = probs[i * k + j]!;
    if (v > bestValue) {
      bestValue = v;
      best = j;
    }
  }
  return best;
}

/** Options for `evaluateProbabilities`. */
export interface EvaluateOptions {
  classNames: string[];
  /** How many misclassified images to keep (most confident mistakes first). */
  misclassifiedCap?: number;
  /** How many correct predictions to keep per class (least confident first). */
  correctPerClassCap?: number;
  /** Maps a row of `labels`/`probs` back to the test-set index it came from (default: identity). */
  indices?: ArrayLike<number>;
}

/**
 * Everything in `Evaluation` from the true labels and the predicted class probabilities (flat, n × k).
 * testLoss is the mean categorical cross-entropy as Keras computes it (probabilities renormalised, clipped to
 * [1e-7, 1 - 1e-7]); testAccuracy is the fraction whose argmax equals the label.
 */
export function evaluateProbabilities(labels: ArrayLike<number>, probs: ArrayLike<number>, options: EvaluateOptions): Evaluation {
  const k = options.classNames.length;
  const n = labels.length;
  if (probs.length !== n * k) throw new RangeError(`expected ${n}×${k} probabilities, received ${probs.length}`);
  const predicted = new Int32Array(n);
  let lossSum = 0;
  let correct = 0;
  const wrong: Evaluation['misclassified'] = [];
  const correctCap = options.correctPerClassCap ?? CORRECT_PER_CLASS_CAP;
  const right: Evaluation['misclassified'][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (!(label >= 0 && label < k)) throw new RangeError(`label ${label} at row ${i} is outside 0..${k - 1}`);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += probs[i * k + j]!;
    const p = Math.min(Math.max(probs[i * k + label]! / (sum || 1), EPSILON), 1 - EPSILON);
    lossSum += -Math.log(p);
    const pred = argmaxRow(probs, i, k);
    predicted[i] = pred;
    if (pred === label) correct++;
    if (pred !== label || correctCap > 0) {
      const row: number[] = [];
      for (let j = 0; j < k; j++) row.push(probs[i * k + j]!);
      (pred === label ? right[label]! : wrong).push({ index: options.indices ? options.indices[i]! : i, truth: label, predicted: pred, probabilities: row });
    }
  }
  // The correct predictions nearest to being wrong (lowest probability on the true class) say most about a class.
  const leastConfidentCorrect = right.flatMap((list) =>
    list.sort((a, b) => a.probabilities[a.truth]! - b.probabilities[b.truth]! || a.index - b.index).slice(0, correctCap),
  );
  // Most confident mistakes first: those are the interesting ones to look at (and the cap keeps them).
  wrong.sort((a, b) => b.probabilities[b.predicted]! - a.probabilities[a.predicted]! || a.index - b.index);
  const matrix = confusionMatrix(labels, predicted, k);
  const perClass = perClassMetrics(matrix);
  return {
    testLoss: n === 0 ? 0 : lossSum / n,
    testAccuracy: safeDiv(correct, n),
    testCount: n,
    classNames: [...options.classNames],
    confusionMatrix: matrix,
    perClass,
    macro: macroAverages(perClass),
    confusedPairs: confusedPairs(matrix),
    misclassified: wrong.slice(0, options.misclassifiedCap ?? MISCLASSIFIED_CAP),
    leastConfidentCorrect,
    notes: [],
  };
}
