/**
 * Augmentation is really applied while training (issue 14): a set generated here whose two classes differ only
 * in orientation — a brightness ramp rising to the left or to the right, with random level, slope and noise. A
 * left–right mirror turns one class into the other, so with RandomFlip('horizontal') in front the training images
 * of both classes come from one distribution and the model cannot beat chance; without it the task is easy. Both
 * runs go through `runTraining` — the fused native step behind the native augmentation pass — and are judged on
 * the held-out test set, which is never augmented.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { LESSON_HYPERPARAMETERS, SPEC_FORMAT_VERSION, type LayerSpec, type ModelSpec } from '../../shared/spec';
import { mulberry32, type Dataset, type ImageSet } from '../data';
import { runTraining } from './train';

const SIZE = 16;
/** The flip run must score at least this much lower on the test set than the plain one. */
const MARGIN = 0.3;

/** `count` images: class 0 brighter on the left, class 1 on the right (ramps of random level and slope, plus noise). */
function orientationSet(count: number, seed: number): ImageSet {
  const rng = mulberry32(seed);
  const images = new Uint8Array(count * SIZE * SIZE);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const cls = i % 2;
    labels[i] = cls;
    const base = 20 + 60 * rng();
    const slope = (80 + 80 * rng()) / SIZE;
    for (let r = 0; r < SIZE; r++) {
      for (let c = 0; c < SIZE; c++) {
        const along = cls === 1 ? c : SIZE - 1 - c;
        images[(i * SIZE + r) * SIZE + c] = Math.max(0, Math.min(255, Math.round(base + slope * along + 30 * (rng() - 0.5))));
      }
    }
  }
  return { images, labels, count, height: SIZE, width: SIZE, channels: 1 };
}

const dataset: Dataset = {
  info: {
    id: 'orientation',
    name: 'orientation (generated)',
    format: 'idx',
    location: '(generated in the test)',
    trainCount: 600,
    testCount: 200,
    imageShape: [SIZE, SIZE, 1],
    classNames: ['left', 'right'],
    fingerprint: 'generated-orientation-v1',
  },
  train: orientationSet(600, 1),
  test: orientationSet(200, 2),
};

const model = (augment: LayerSpec[]): ModelSpec => ({
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  config: {
    name: 'orientation',
    layers: [
      { class_name: 'InputLayer', config: { shape: [SIZE, SIZE, 1] } },
      ...augment,
      { class_name: 'Conv2D', config: { filters: 4, kernel_size: 3, activation: 'relu' } },
      { class_name: 'MaxPooling2D', config: { pool_size: 2 } },
      { class_name: 'Flatten', config: {} },
      { class_name: 'Dense', config: { units: 2, activation: 'softmax' } },
    ],
  },
});

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'augmentation-applied-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function testAccuracy(augment: LayerSpec[]): Promise<{ accuracy: number; logs: string[] }> {
  const logs: string[] = [];
  const result = await runTraining(
    {
      spec: model(augment),
      hyperparameters: {
        ...structuredClone(LESSON_HYPERPARAMETERS),
        optimizer: { class_name: 'adam', config: { learning_rate: 1e-2 } },
        batch_size: 32,
        epochs: 4,
        early_stopping: null,
        reduce_lr_on_plateau: null,
      },
      dataset,
      runsDir: tmp,
    },
    { onLog: (l) => logs.push(l) },
  );
  return { accuracy: result.evaluation.testAccuracy, logs };
}

it(`RandomFlip('horizontal') makes an orientation-only set unlearnable: its test accuracy is ≥ ${MARGIN} below the plain run's (fused step)`, async () => {
  const plain = await testAccuracy([]);
  const flipped = await testAccuracy([{ class_name: 'RandomFlip', config: { mode: 'horizontal' } }]);
  console.log(`test accuracy: plain ${plain.accuracy}, RandomFlip ${flipped.accuracy}`);
  assert.ok(
    flipped.logs.some((l) => /^Training step: fused native.*native augmentation pass \(RandomFlip\)/.test(l)),
    `the flip run should train with the fused step behind the augmentation pass: ${flipped.logs.join(' | ')}`,
  );
  assert.ok(plain.accuracy >= 0.95, `without augmentation orientation is easy to learn: test accuracy ${plain.accuracy}`);
  assert.ok(flipped.accuracy <= 0.65, `with RandomFlip the orientation is noise: test accuracy ${flipped.accuracy}`);
  assert.ok(plain.accuracy - flipped.accuracy >= MARGIN, `plain ${plain.accuracy} vs flipped ${flipped.accuracy}`);
});
