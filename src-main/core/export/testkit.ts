/**
 * Test helper: a real, tiny trained run folder (Fashion-MNIST, a few hundred images, one epoch) written by the
 * app's own training loop, for the export and predict tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { LESSON_HYPERPARAMETERS, type Hyperparameters, type ModelSpec } from '../../shared/spec';
import { loadDataset } from '../data/load';
import type { ImageSet } from '../data/types';
import { buildModel } from '../model/build';
import { runTraining } from '../train/train';
import { loadRunModel } from '../runs/model-io';

/** A trained run folder and the test images it was checked on. */
export interface TrainedRun {
  runDir: string;
  root: string;
  test: ImageSet;
  model: tf.LayersModel;
  cleanup(): void;
}

/**
 * A small conv net exercising BatchNorm, Conv, pooling, Flatten and Dense (so NHWC/Flatten order and BN
 * statistics matter). A low BatchNorm momentum lets the moving statistics settle within one short epoch,
 * so the in-app predictions are meaningful.
 */
export const SMALL_SPEC: ModelSpec = {
  format_version: 1,
  class_name: 'Sequential',
  config: {
    name: 'small_bn_cnn',
    layers: [
      { class_name: 'InputLayer', config: { name: 'image', shape: [28, 28, 1] } },
      { class_name: 'Conv2D', config: { name: 'conv2d', filters: 8, kernel_size: [3, 3], padding: 'same' } },
      { class_name: 'BatchNormalization', config: { name: 'batch_normalization', momentum: 0.5 } },
      { class_name: 'Activation', config: { name: 'activation', activation: 'relu' } },
      { class_name: 'MaxPooling2D', config: { name: 'max_pooling2d', pool_size: [2, 2] } },
      { class_name: 'Conv2D', config: { name: 'conv2d_1', filters: 16, kernel_size: [3, 3], activation: 'relu' } },
      { class_name: 'MaxPooling2D', config: { name: 'max_pooling2d_1', pool_size: [2, 2] } },
      { class_name: 'Dropout', config: { name: 'dropout', rate: 0.25 } },
      { class_name: 'Flatten', config: { name: 'flatten' } },
      { class_name: 'Dense', config: { name: 'class_prob', units: 10, activation: 'softmax' } },
    ],
  },
};

/** `SMALL_SPEC` built by the model core, with seeded initial weights. */
export function smallCnn(seed = 123): tf.LayersModel {
  return buildModel(SMALL_SPEC, seed);
}

/**
 * Trains `SMALL_SPEC` with the app's own `runTraining` on the first `trainCount` Fashion-MNIST images for one
 * epoch, so the run folder is exactly what the app writes; `model` is the run's saved model, loaded back.
 */
export async function trainedRun(trainCount = 600, testCount = 200): Promise<TrainedRun> {
  const dataset = await loadDataset('fashion-mnist', { limitTrain: trainCount, limitTest: testCount, download: false });
  const root = mkdtempSync(path.join(os.tmpdir(), 'cnnwb-export-'));
  const hyperparameters: Hyperparameters = {
    ...LESSON_HYPERPARAMETERS,
    optimizer: { class_name: 'adam', config: { learning_rate: 3e-3 } },
    epochs: 1,
    batch_size: 32,
  };
  const finished = await runTraining({ spec: SMALL_SPEC, hyperparameters, dataset, runsDir: root });
  const runDir = path.join(root, finished.runId);
  const model = await loadRunModel(runDir);
  return {
    runDir,
    root,
    test: dataset.test,
    model,
    cleanup: () => {
      model.dispose();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
