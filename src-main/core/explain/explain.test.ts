import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index';
import { mulberry32 } from '../data/random';
import { classScore, exciteFilters, firstConvKernels, gradCam, inputGradient, layerActivations, pca, saliencyMap, umap2d } from './index';
import { SIZE, SQUARE_CLASSES, mapStats, squareImage, trainSquareFinder } from './testkit';

let model: tf.LayersModel;
let accuracy: number;

before(async () => {
  await initBackend();
  ({ model, accuracy } = await trainSquareFinder());
});

after(() => model?.dispose());

/** The square in the top-right quadrant, away from its borders. */
const SQ = { x: 18, y: 4 };
const TOP_RIGHT = { x0: SIZE / 2, y0: 0, x1: SIZE, y1: SIZE / 2 };

test('the square finder learns its task (otherwise the map checks below prove nothing)', () => {
  assert.ok(accuracy >= 0.95, `held-out accuracy ${accuracy}`);
});

test('Grad-CAM for "square" puts ≥ 60% of its mass in the square\'s quadrant and peaks within 3 px of it', () => {
  for (const seed of [11, 12, 13]) {
    const img = squareImage(mulberry32(seed), SQ);
    const map = gradCam(model, img, 1, SQUARE_CLASSES);
    assert.equal(map.layer, 'conv2d_1');
    assert.equal(map.values.length, SIZE * SIZE);
    assert.ok(map.values.every((v) => v >= 0 && Number.isFinite(v)));
    const { massInQuadrant, peakDistance } = mapStats(map.values, SIZE, SQ, TOP_RIGHT);
    assert.ok(massInQuadrant >= 0.6, `seed ${seed}: ${(massInQuadrant * 100).toFixed(1)}% of the mass in the quadrant`);
    assert.ok(peakDistance <= 3, `seed ${seed}: peak ${peakDistance.toFixed(2)} px from the square`);
  }
});

test('the saliency map for "square" also concentrates on the square', () => {
  const img = squareImage(mulberry32(21), { x: 4, y: 17 });
  const map = saliencyMap(model, img, 1, SQUARE_CLASSES);
  const { massInQuadrant, peakDistance } = mapStats(map.values, SIZE, { x: 4, y: 17 }, { x0: 0, y0: SIZE / 2, x1: SIZE / 2, y1: SIZE });
  assert.ok(massInQuadrant >= 0.5, `${(massInQuadrant * 100).toFixed(1)}% in the quadrant`);
  assert.ok(peakDistance <= 3, `peak ${peakDistance} px away`);
});

test('saliency gradients agree with central finite differences of the class score', () => {
  const img = squareImage(mulberry32(31), SQ);
  const g = inputGradient(model, img, 1);
  // The pixels where the gradient is largest (on and around the square), plus a few background ones.
  const order = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!));
  const pixels = [...order.slice(0, 8), 0, 100, 400, 783];
  const eps = 1e-2;
  const scale = Math.abs(g[order[0]!]!);
  for (const p of pixels) {
    const up = img.slice();
    const down = img.slice();
    up[p]! += eps;
    down[p]! -= eps;
    const fd = (classScore(model, up, 1) - classScore(model, down, 1)) / (2 * eps);
    assert.ok(Math.abs(fd - g[p]!) <= 0.05 * Math.abs(g[p]!) + 0.02 * scale, `pixel ${p}: gradient ${g[p]} vs finite difference ${fd}`);
  }
});

test('activations: every shown layer with its shape; Dense as vectors; probabilities sum to 1', () => {
  const img = squareImage(mulberry32(41), SQ);
  const a = layerActivations(model, img, SQUARE_CLASSES);
  assert.deepEqual(
    a.layers.map((l) => [l.name, l.shape]),
    [
      ['conv2d', [28, 28, 8]],
      ['max_pooling2d', [14, 14, 8]],
      ['conv2d_1', [14, 14, 16]],
      ['max_pooling2d_1', [7, 7, 16]],
      ['features', [16]],
      ['class_prob', [2]],
    ],
  );
  for (const l of a.layers) assert.equal(l.values.length, l.shape.reduce((x, y) => x * y, 1));
  assert.ok(Math.abs(a.probabilities.reduce((x, y) => x + y, 0) - 1) < 1e-5);
  assert.equal(a.top[0]!.className, 'square');
  assert.deepEqual(a.layers.at(-1)!.values, a.probabilities);
});

test('first-layer kernels are the Conv2D weights, one 3×3 image per filter', () => {
  const { layer, filters } = firstConvKernels(model);
  assert.equal(layer, 'conv2d');
  assert.equal(filters.length, 8);
  const w = model.getLayer('conv2d').getWeights()[0]!.arraySync() as number[][][][];
  assert.equal(filters[3]!.values[1 * 3 + 2], w[1]![2]![0]![3]);
});

test('gradient ascent raises the filter it targets and is reproducible with a seed', () => {
  const a = exciteFilters(model, 'conv2d_1', [0, 5], { seed: 3, steps: 10 });
  const b = exciteFilters(model, 'conv2d_1', [0, 5], { seed: 3, steps: 10 });
  assert.deepEqual(a, b);
  const meanAct = (img: number[], f: number): number =>
    tf.tidy(() => {
      const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer('conv2d_1').output as tf.SymbolicTensor });
      return (sub.predict(tf.tensor4d(img, [1, SIZE, SIZE, 1])) as tf.Tensor).slice([0, 0, 0, f], [1, 14, 14, 1]).mean().dataSync()[0]!;
    });
  const grey = new Array<number>(SIZE * SIZE).fill(0.5);
  for (const fi of a) {
    assert.ok(fi.values.every((v) => v >= 0 && v <= 1));
    assert.ok(meanAct(fi.values, fi.filter) > meanAct(grey, fi.filter), `filter ${fi.filter}: not above a grey image`);
  }
  assert.throws(() => exciteFilters(model, 'conv2d_1', [16]), /has 16 filters \(0–15\); there is no filter 16/);
  assert.throws(() => exciteFilters(model, 'nope', [0]), /no layer named "nope"/);
});

test('PCA: recovers a known principal axis, and the same seed gives the same projection', () => {
  const rng = mulberry32(9);
  const n = 400;
  const d = 5;
  const values = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const t = (rng() - 0.5) * 10; // large variance along (1, 1, 0, 0, 0)/√2
    const s = (rng() - 0.5) * 3; // smaller along e3
    values.set([t / Math.SQRT2 + (rng() - 0.5) * 0.1, t / Math.SQRT2 + (rng() - 0.5) * 0.1, s, (rng() - 0.5) * 0.1, (rng() - 0.5) * 0.1], i * d);
  }
  const a = pca({ n, d, values }, 2, 1);
  const b = pca({ n, d, values }, 2, 1);
  assert.deepEqual(a.scores, b.scores);
  // The first score is (x0 + x1)/√2 up to the centring and a sign; check correlation with it.
  const first = Array.from({ length: n }, (_, i) => a.scores[i * 2]!);
  const truth = Array.from({ length: n }, (_, i) => (values[i * d]! + values[i * d + 1]!) / Math.SQRT2);
  const corr = correlation(first, truth);
  assert.ok(Math.abs(corr) > 0.999, `correlation ${corr}`);
  const second = Array.from({ length: n }, (_, i) => a.scores[i * 2 + 1]!);
  assert.ok(Math.abs(correlation(second, Array.from({ length: n }, (_, i) => values[i * d + 2]!))) > 0.99);
});

test('UMAP: the same seed gives the same layout, another seed a different one; clusters stay apart', () => {
  const rng = mulberry32(4);
  const n = 120;
  const d = 6;
  const values = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) values[i * d + j] = (i < n / 2 ? 0 : 8) + rng();
  const a = umap2d({ n, d, values }, { seed: 7, nEpochs: 100 });
  const b = umap2d({ n, d, values }, { seed: 7, nEpochs: 100 });
  const c = umap2d({ n, d, values }, { seed: 8, nEpochs: 100 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const centre = (from: number, to: number) => [mean(a.x.slice(from, to)), mean(a.y.slice(from, to))] as const;
  const [ax, ay] = centre(0, n / 2);
  const [bx, by] = centre(n / 2, n);
  const spread = Math.max(...a.x) - Math.min(...a.x) + Math.max(...a.y) - Math.min(...a.y);
  assert.ok(Math.hypot(ax - bx, ay - by) > spread / 6, 'the two clusters overlap in the layout');
});

function mean(v: number[]): number {
  return v.reduce((x, y) => x + y, 0) / v.length;
}

function correlation(a: number[], b: number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

