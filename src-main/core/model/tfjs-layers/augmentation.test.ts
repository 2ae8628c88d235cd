// The augmentation layers: identity at inference, seeded while training, Keras' geometry, and — the test that
// they are really applied — RandomFlip makes a left/right problem unlearnable.
import assert from 'node:assert/strict';
import test, { before } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend/index';
import { SPEC_FORMAT_VERSION, type LayerSpec, type ModelSpec } from '../../../shared/spec';
import { buildModel } from '../build';
import { RandomBrightness, RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from './augmentation';

before(async () => {
  await initBackend();
});

/** A [n, h, w, 1] batch whose pixel values tell position apart (a ramp), in [0, 1]. */
const ramp = (n: number, h: number, w: number): tf.Tensor4D => tf.tidy(() => tf.range(0, n * h * w).reshape([n, h, w, 1]).div(n * h * w) as tf.Tensor4D);
const apply = (layer: tf.layers.Layer, x: tf.Tensor, training: boolean): tf.Tensor => layer.apply(x, { training }) as tf.Tensor;

test('every augmentation layer is the identity at inference and changes images while training', () => {
  const x = ramp(4, 8, 8);
  const layers = [
    new RandomFlip({ seed: 1 }),
    new RandomRotation({ factor: 0.2, seed: 1 }),
    new RandomTranslation({ heightFactor: 0.3, widthFactor: 0.3, seed: 1 }),
    new RandomZoom({ heightFactor: 0.3, seed: 1 }),
    new RandomContrast({ factor: 0.5, seed: 1 }),
    new RandomBrightness({ factor: 0.3, seed: 1 }),
  ];
  for (const layer of layers) {
    const inference = apply(layer, x, false);
    assert.deepEqual(inference.arraySync(), x.arraySync(), `${layer.getClassName()} at inference`);
    const trained = apply(layer, x, true);
    assert.deepEqual(trained.shape, x.shape);
    assert.ok(tf.max(tf.abs(tf.sub(trained, x))).dataSync()[0]! > 1e-3, `${layer.getClassName()} changed nothing while training`);
    const [lo, hi] = [tf.min(trained).dataSync()[0]!, tf.max(trained).dataSync()[0]!];
    assert.ok(lo >= -1e-6 && hi <= 1 + 1e-6, `${layer.getClassName()} leaves [0, 1]: ${lo}..${hi}`);
  }
});

test('the same seed draws the same augmentation; another seed another', () => {
  const x = ramp(6, 8, 8);
  const run = (seed: number) => apply(new RandomRotation({ factor: 0.25, seed }), x, true).arraySync();
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

test("RandomFlip('horizontal') only mirrors left–right, image by image", () => {
  const x = ramp(16, 3, 5);
  const y = apply(new RandomFlip({ mode: 'horizontal', seed: 3 }), x, true);
  const mirrored = tf.reverse(x, 2);
  let flips = 0;
  for (let i = 0; i < 16; i++) {
    const yi = JSON.stringify(y.slice(i, 1).arraySync());
    const same = yi === JSON.stringify(x.slice(i, 1).arraySync());
    const flipped = yi === JSON.stringify(mirrored.slice(i, 1).arraySync());
    assert.ok(same || flipped, `image ${i} is neither itself nor its mirror`);
    if (flipped) flips++;
  }
  assert.ok(flips > 2 && flips < 14, `flipped ${flips} of 16: not about half`);
});

test("RandomTranslation moves the content by whole pixels with 'constant' fill (Keras' matrix)", () => {
  // A single bright pixel moves; the total brightness stays unless it leaves the image.
  const img = tf.buffer([1, 9, 9, 1]);
  img.set(1, 0, 4, 4, 0);
  const x = img.toTensor();
  const y = apply(new RandomTranslation({ heightFactor: 0.3, widthFactor: 0.3, fillMode: 'constant', interpolation: 'nearest', seed: 5 }), x, true);
  const flat = y.dataSync();
  const at = flat.findIndex((v) => v === 1);
  assert.ok(at >= 0 && at !== 40, `the pixel should move (found at ${at})`);
  assert.equal(Array.from(flat).reduce((a, b) => a + b, 0), 1);
});

/** Two classes told apart only by orientation: the bright half is the left (0) or the right (1). */
function leftRight(n: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const data = new Float32Array(n * 8 * 8);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    labels.push(cls);
    for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) data[i * 64 + r * 8 + c] = (cls === 0 ? c < 4 : c >= 4) ? 0.9 : 0.1;
  }
  return { x: tf.tensor4d(data, [n, 8, 8, 1]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 2) as tf.Tensor2D };
}

const classifier = (augment: LayerSpec[]): ModelSpec => ({
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  config: {
    name: 'orientation',
    layers: [
      { class_name: 'InputLayer', config: { shape: [8, 8, 1] } },
      ...augment,
      { class_name: 'Flatten', config: {} },
      { class_name: 'Dense', config: { units: 2, activation: 'softmax' } },
    ],
  },
});

async function trainedAccuracy(spec: ModelSpec): Promise<number> {
  const { x, y } = leftRight(64);
  const model = buildModel(spec, 42);
  model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  await model.fit(x, y, { epochs: 30, batchSize: 16, shuffle: false, verbose: 0 });
  const acc = (model.evaluate(x, y) as tf.Scalar[])[1]!.dataSync()[0]!;
  model.dispose();
  return acc;
}

test('RandomFlip is really applied while training: it makes a left-vs-right problem unlearnable', async () => {
  const plain = await trainedAccuracy(classifier([]));
  const flipped = await trainedAccuracy(classifier([{ class_name: 'RandomFlip', config: { mode: 'horizontal' } }]));
  assert.ok(plain > 0.95, `without augmentation the classes are easy: ${plain}`);
  assert.ok(flipped < 0.8, `with RandomFlip the orientation is noise: ${flipped}`);
});

test('geometric augmentation gives the same images on the cpu backend as on the default one (tfjs cpu Transform batch bug worked around)', async () => {
  const x = ramp(3, 6, 5);
  const run = () => apply(new RandomRotation({ factor: 0.2, seed: 11, fillMode: 'constant' }), tf.tensor(x.dataSync(), x.shape), true).dataSync();
  const previous = tf.getBackend();
  const here = Float32Array.from(run());
  await tf.setBackend('cpu');
  const cpu = Float32Array.from(run());
  await tf.setBackend(previous);
  let worst = 0;
  for (let i = 0; i < here.length; i++) worst = Math.max(worst, Math.abs(here[i]! - cpu[i]!));
  assert.ok(worst < 1e-5, `max |diff| ${worst}`);
});

test("'reflect' fill is Keras' (d c b a | a b c d | d c b a) on every backend (tfjs' wasm kernel gets it wrong)", async () => {
  class Shift extends RandomTranslation {
    protected override matrix(): number[] {
      return [1, 0, -2, 0, 1, -1, 0, 0]; // content moves 2 right and 1 down
    }
  }
  const x = tf.range(0, 20).reshape([1, 4, 5, 1]);
  // Output pixel (x, y) reads input (x − 2, y − 1), reflected about the edges: −1 → 0, −2 → 1.
  const expected = [
    [1, 0, 0, 1, 2],
    [1, 0, 0, 1, 2],
    [6, 5, 5, 6, 7],
    [11, 10, 10, 11, 12],
  ];
  const previous = tf.getBackend();
  for (const backend of [previous, 'cpu']) {
    await tf.setBackend(backend);
    const y = apply(new Shift({ heightFactor: 0, widthFactor: 0, fillMode: 'reflect', interpolation: 'nearest' }), tf.tensor(x.dataSync(), x.shape), true);
    assert.deepEqual(y.squeeze().arraySync(), expected, backend);
  }
  await tf.setBackend(previous);
});
