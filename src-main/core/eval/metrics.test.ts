import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { confusedPairs, confusionMatrix, evaluateProbabilities, macroAverages, perClassMetrics } from './metrics';

// A 4-class matrix worked out by hand (rows truth, columns predicted):
//   t0 [5,1,0,0]  t1 [2,3,1,0]  t2 [0,0,0,0] (no support, predicted once)  t3 [1,0,0,0] (never predicted)
const MATRIX = [
  [5, 1, 0, 0],
  [2, 3, 1, 0],
  [0, 0, 0, 0],
  [1, 0, 0, 0],
];

/** Rows that produce MATRIX: each (t,p) cell gives `count` rows with 0.7 on p and 0.1 elsewhere. */
function rowsFor(matrix: number[][]) {
  const labels: number[] = [];
  const probs: number[] = [];
  matrix.forEach((row, t) =>
    row.forEach((count, p) => {
      for (let i = 0; i < count; i++) {
        labels.push(t);
        for (let j = 0; j < row.length; j++) probs.push(j === p ? 0.7 : 0.1);
      }
    }),
  );
  return { labels, probs };
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

describe('classification metrics on a hand-computed matrix', () => {
  it('per-class precision, recall, F1, support with 0/0 = 0', () => {
    const pc = perClassMetrics(MATRIX);
    close(pc[0]!.precision, 5 / 8, 'P0');
    close(pc[0]!.recall, 5 / 6, 'R0');
    close(pc[0]!.f1, 5 / 7, 'F1_0');
    close(pc[1]!.precision, 3 / 4, 'P1');
    close(pc[1]!.recall, 1 / 2, 'R1');
    close(pc[1]!.f1, 3 / 5, 'F1_1');
    assert.deepEqual(pc[2], { precision: 0, recall: 0, f1: 0, support: 0 }); // predicted once, wrongly; recall 0/0
    assert.deepEqual(pc[3], { precision: 0, recall: 0, f1: 0, support: 1 }); // never predicted: precision 0/0
    assert.deepEqual(
      pc.map((c) => c.support),
      [6, 6, 0, 1],
    );
  });

  it('macro averages are unweighted means over all classes', () => {
    const m = macroAverages(perClassMetrics(MATRIX));
    close(m.precision, 11 / 32, 'macro P');
    close(m.recall, 1 / 3, 'macro R');
    close(m.f1, 23 / 70, 'macro F1');
  });

  it('most confused pairs: off-diagonal, largest first, ties by truth then predicted', () => {
    assert.deepEqual(confusedPairs(MATRIX), [
      { truth: 1, predicted: 0, count: 2 },
      { truth: 0, predicted: 1, count: 1 },
      { truth: 1, predicted: 2, count: 1 },
      { truth: 3, predicted: 0, count: 1 },
    ]);
  });

  it('evaluateProbabilities rebuilds the matrix, accuracy and Keras cross-entropy', () => {
    const { labels, probs } = rowsFor(MATRIX);
    const ev = evaluateProbabilities(labels, probs, { classNames: ['a', 'b', 'c', 'd'] });
    assert.deepEqual(ev.confusionMatrix, MATRIX);
    assert.equal(ev.testCount, 13);
    close(ev.testAccuracy, 8 / 13, 'accuracy');
    // 0.7 + 3×0.1 is not exactly 1 in floating point and Keras renormalises: agree to 1e-9.
    assert.ok(Math.abs(ev.testLoss - (8 * -Math.log(0.7) + 5 * -Math.log(0.1)) / 13) < 1e-9, `loss ${ev.testLoss}`);
    assert.equal(ev.misclassified.length, 5);
    assert.ok(ev.misclassified.every((m) => m.truth !== m.predicted && m.probabilities.length === 4));
  });

  it('misclassified: most confident first, capped, mapped back to test indices', () => {
    const labels = [0, 0, 1, 1];
    const probs = [0.4, 0.6, 0.9, 0.1, 0.95, 0.05, 0.2, 0.8]; // rows 0 and 2 are wrong (0.6 and 0.95 sure)
    const ev = evaluateProbabilities(labels, probs, { classNames: ['x', 'y'], indices: [10, 11, 12, 13], misclassifiedCap: 1 });
    assert.deepEqual(ev.misclassified, [{ index: 12, truth: 1, predicted: 0, probabilities: [0.95, 0.05] }]);
  });

  it('least-confident correct predictions: per class, lowest probability on the true class first, capped', () => {
    const labels = [0, 0, 0, 1, 1, 1];
    // Correct: rows 0 (0.9), 1 (0.55), 2 (0.7) of class 0; rows 4 (0.6), 5 (0.99) of class 1; row 3 is wrong.
    const probs = [0.9, 0.1, 0.55, 0.45, 0.7, 0.3, 0.8, 0.2, 0.4, 0.6, 0.01, 0.99];
    const ev = evaluateProbabilities(labels, probs, { classNames: ['x', 'y'], indices: [20, 21, 22, 23, 24, 25], correctPerClassCap: 2 });
    assert.deepEqual(
      ev.leastConfidentCorrect!.map((m) => [m.index, m.truth, m.predicted]),
      [[21, 0, 0], [22, 0, 0], [24, 1, 1], [25, 1, 1]],
    );
    assert.deepEqual(ev.misclassified.map((m) => m.index), [23]);
    assert.deepEqual(evaluateProbabilities(labels, probs, { classNames: ['x', 'y'], correctPerClassCap: 0 }).leastConfidentCorrect, []);
  });

  it('clips probabilities like Keras so a confident mistake costs -log(1e-7), not Infinity', () => {
    const ev = evaluateProbabilities([1], [1, 0], { classNames: ['x', 'y'] });
    close(ev.testLoss, -Math.log(1e-7), 'clipped loss');
  });

  it('rejects labels outside the classes and mismatched sizes, naming the value', () => {
    assert.throws(() => evaluateProbabilities([5], [0.5, 0.5], { classNames: ['x', 'y'] }), /label 5/);
    assert.throws(() => evaluateProbabilities([0, 1], [0.5, 0.5], { classNames: ['x', 'y'] }), /2×2/);
  });

  it('confusionMatrix counts truth by row', () => {
    assert.deepEqual(confusionMatrix([0, 0, 1], [1, 0, 1], 2), [
      [1, 1],
      [0, 1],
    ]);
  });
});
