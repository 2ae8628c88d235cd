/**
 * Test helper: a case where the answer is known. 28×28 grey images of faint noise; class "square" holds one
 * bright 6×6 square somewhere, class "blank" none — so the square alone decides the class, and a faithful
 * class map for "square" must sit on it. A tiny CNN is trained on them at test time (seconds) and can be
 * written as a run folder for the CLI.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import type { ModelSpec } from '../../shared/spec';
import { mulberry32 } from '../data/random';
import { buildModel } from '../model/build';
import { saveModelAtomic } from '../runs/model-io';

export const SIZE = 28;
export const SQUARE = 6;
export const SQUARE_CLASSES = ['blank', 'square'];

const SPEC: ModelSpec = {
  format_version: 1,
  class_name: 'Sequential',
  config: {
    name: 'square_finder',
    layers: [
      { class_name: 'InputLayer', config: { name: 'image', shape: [SIZE, SIZE, 1] } },
      { class_name: 'Conv2D', config: { name: 'conv2d', filters: 8, kernel_size: [3, 3], padding: 'same', activation: 'relu' } },
      { class_name: 'MaxPooling2D', config: { name: 'max_pooling2d', pool_size: [2, 2] } },
      { class_name: 'Conv2D', config: { name: 'conv2d_1', filters: 16, kernel_size: [3, 3], padding: 'same', activation: 'relu' } },
      { class_name: 'MaxPooling2D', config: { name: 'max_pooling2d_1', pool_size: [2, 2] } },
      { class_name: 'Flatten', config: { name: 'flatten' } },
      { class_name: 'Dense', config: { name: 'features', units: 16, activation: 'relu' } },
      { class_name: 'Dense', config: { name: 'class_prob', units: 2, activation: 'softmax' } },
    ],
  },
};

/** One image (row-major 28×28 floats in [0, 1]) with a square whose top-left corner is (x, y), or none. */
export function squareImage(rng: () => number, square: { x: number; y: number } | null): Float32Array {
  const img = Float32Array.from({ length: SIZE * SIZE }, () => rng() * 0.25);
  if (square) {
    for (let dy = 0; dy < SQUARE; dy++) for (let dx = 0; dx < SQUARE; dx++) img[(square.y + dy) * SIZE + square.x + dx] = 0.9 + rng() * 0.1;
  }
  return img;
}

/** `count` images, half with a square at a random place; labels 1 = square. */
export function squareDataset(count: number, seed: number): { images: Float32Array; labels: number[]; squares: ({ x: number; y: number } | null)[] } {
  const rng = mulberry32(seed);
  const images = new Float32Array(count * SIZE * SIZE);
  const labels: number[] = [];
  const squares: ({ x: number; y: number } | null)[] = [];
  for (let i = 0; i < count; i++) {
    const sq = i % 2 === 1 ? { x: Math.floor(rng() * (SIZE - SQUARE + 1)), y: Math.floor(rng() * (SIZE - SQUARE + 1)) } : null;
    images.set(squareImage(rng, sq), i * SIZE * SIZE);
    labels.push(sq ? 1 : 0);
    squares.push(sq);
  }
  return { images, labels, squares };
}

/** The tiny CNN trained to tell squares from blanks (seeded weights, no shuffling: the same model each time). */
export async function trainSquareFinder(seed = 5): Promise<{ model: tf.LayersModel; accuracy: number }> {
  const model = buildModel(SPEC, seed);
  const data = squareDataset(600, seed);
  const x = tf.tensor4d(data.images, [600, SIZE, SIZE, 1]);
  const y = tf.oneHot(tf.tensor1d(data.labels, 'int32'), 2);
  model.compile({ optimizer: tf.train.adam(0.005), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  await model.fit(x, y, { epochs: 4, batchSize: 32, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
  const held = squareDataset(200, seed + 1);
  const probs = tf.tidy(() => (model.predict(tf.tensor4d(held.images, [200, SIZE, SIZE, 1])) as tf.Tensor).argMax(-1));
  const pred = Array.from(probs.dataSync());
  probs.dispose();
  const accuracy = pred.filter((p, i) => p === held.labels[i]).length / 200;
  return { model, accuracy };
}

function idx(magic: number, dims: number[], body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(body, 4 + 4 * dims.length);
  return out;
}

/** Writes a square dataset as the four IDX files plus classes.txt (a folder `loadDataset` reads). */
export function writeSquareIdx(dir: string, trainCount: number, testCount: number, seed: number): void {
  mkdirSync(dir, { recursive: true });
  const sets = [
    ['train', squareDataset(trainCount, seed)],
    ['t10k', squareDataset(testCount, seed + 100)],
  ] as const;
  for (const [prefix, set] of sets) {
    const count = set.labels.length;
    writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte`), idx(0x803, [count, SIZE, SIZE], Uint8Array.from(set.images, (v) => Math.round(v * 255))));
    writeFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte`), idx(0x801, [count], Uint8Array.from(set.labels)));
  }
  writeFileSync(path.join(dir, 'classes.txt'), SQUARE_CLASSES.join('\n') + '\n');
}

/**
 * Writes `model` as a minimal run folder (model/, run.json naming `datasetDir` as its dataset, evaluation.json
 * with the class names).
 */
export async function writeSquareRun(model: tf.LayersModel, runDir: string, datasetDir: string | null = null): Promise<void> {
  mkdirSync(runDir, { recursive: true });
  await saveModelAtomic(model, path.join(runDir, 'model'));
  writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ id: path.basename(runDir), datasetId: datasetDir, limits: { train: null, test: null } }));
  writeFileSync(path.join(runDir, 'evaluation.json'), JSON.stringify({ classNames: SQUARE_CLASSES }));
}

/** Encodes a 28×28 float image as a grayscale PNG file. */
export function writePng(file: string, img: Float32Array): void {
  const png = new PNG({ width: SIZE, height: SIZE });
  for (let p = 0; p < SIZE * SIZE; p++) {
    const v = Math.round(Math.min(1, Math.max(0, img[p]!)) * 255);
    png.data.set([v, v, v, 255], p * 4);
  }
  writeFileSync(file, PNG.sync.write(png));
}

/** Share of a map's mass inside [x0, x1) × [y0, y1), and the distance from its peak to the square (0 = on it). */
export function mapStats(values: number[], width: number, square: { x: number; y: number }, quadrant: { x0: number; y0: number; x1: number; y1: number }): { massInQuadrant: number; peakDistance: number } {
  let total = 0;
  let inside = 0;
  let peak = 0;
  values.forEach((v, p) => {
    total += v;
    const x = p % width;
    const y = Math.floor(p / width);
    if (x >= quadrant.x0 && x < quadrant.x1 && y >= quadrant.y0 && y < quadrant.y1) inside += v;
    if (v > values[peak]!) peak = p;
  });
  const px = peak % width;
  const py = Math.floor(peak / width);
  const dx = Math.max(square.x - px, 0, px - (square.x + SQUARE - 1));
  const dy = Math.max(square.y - py, 0, py - (square.y + SQUARE - 1));
  return { massInQuadrant: total > 0 ? inside / total : 0, peakDistance: Math.hypot(dx, dy) };
}
