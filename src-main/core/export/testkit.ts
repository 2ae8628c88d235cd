/**
 * Test helper: a real, tiny trained run folder (Fashion-MNIST, a few hundred images, one epoch) laid out as
 * the run store writes it, for the export and predict tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { LESSON_HYPERPARAMETERS } from '../../shared/spec';
import { FASHION_MNIST_CLASSES } from '../data/classes';
import { loadDataset } from '../data/load';
import { toTensors } from '../data/tensors';
import type { ImageSet } from '../data/types';
import { saveModelToDir } from './model-io';

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
 * statistics matter), with Keras-style names.
 */
export function smallCnn(): tf.Sequential {
  const m = tf.sequential({ name: 'small_cnn' });
  m.add(tf.layers.inputLayer({ inputShape: [28, 28, 1], name: 'image' }));
  m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'conv2d', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  // A low momentum lets the moving statistics settle within one short epoch, so inference is meaningful.
  m.add(tf.layers.batchNormalization({ momentum: 0.5, name: 'batch_normalization' }));
  m.add(tf.layers.activation({ activation: 'relu', name: 'activation' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'max_pooling2d' }));
  m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', name: 'conv2d_1', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'max_pooling2d_1' }));
  m.add(tf.layers.dropout({ rate: 0.25, name: 'dropout' }));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'class_prob', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  return m;
}

/** Trains `smallCnn` on the first `trainCount` Fashion-MNIST images for one epoch and writes a run folder. */
export async function trainedRun(trainCount = 600, testCount = 200): Promise<TrainedRun> {
  const ds = await loadDataset('fashion-mnist', { limitTrain: trainCount, limitTest: testCount, download: false });
  const model = smallCnn();
  model.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const { x, y } = toTensors(ds.train, null, 10);
  try {
    await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
  } finally {
    x.dispose();
    y.dispose();
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'cnnwb-export-'));
  const runDir = path.join(root, 'run-test');
  await saveModelToDir(model, path.join(runDir, 'model'));
  await fs.writeFile(path.join(runDir, 'run.json'), JSON.stringify({ id: 'run-test', datasetId: 'fashion-mnist' }));
  await fs.writeFile(path.join(runDir, 'hyperparameters.json'), JSON.stringify({ ...LESSON_HYPERPARAMETERS, epochs: 1, batch_size: 32 }));
  await fs.writeFile(path.join(runDir, 'evaluation.json'), JSON.stringify({ classNames: FASHION_MNIST_CLASSES }));
  return {
    runDir,
    root,
    test: ds.test,
    model,
    cleanup: () => {
      model.dispose();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
