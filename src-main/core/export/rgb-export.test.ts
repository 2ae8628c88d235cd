/**
 * Every export format takes colour: a run trained by the app's own loop on an RGB image folder (three
 * channels) exports to TF.js (identical predictions), ONNX (verified under ONNX Runtime), Keras and R (scripts
 * with a 3-channel input, checked as for grayscale), each verified on the same folder, read again as the run
 * read it; preprocessing.json says rgb and the size.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { LESSON_HYPERPARAMETERS, type ModelSpec } from '../../shared/spec';
import { initBackend } from '../backend';
import { writeColourFolders } from '../data/image-testkit';
import { loadDataset } from '../data/load';
import { cleanup, tempDir } from '../data/testkit';
import { runTraining } from '../train/train';
import { exportModel } from './index';

const SPEC: ModelSpec = {
  format_version: 1,
  class_name: 'Sequential',
  config: {
    name: 'rgb_cnn',
    layers: [
      { class_name: 'InputLayer', config: { name: 'image', shape: [12, 12, 3] } },
      { class_name: 'Conv2D', config: { name: 'conv2d', filters: 6, kernel_size: [3, 3], padding: 'same' } },
      { class_name: 'BatchNormalization', config: { name: 'batch_normalization', momentum: 0.5 } },
      { class_name: 'Activation', config: { name: 'activation', activation: 'relu' } },
      { class_name: 'MaxPooling2D', config: { name: 'max_pooling2d', pool_size: [2, 2] } },
      { class_name: 'Flatten', config: { name: 'flatten' } },
      { class_name: 'Dense', config: { name: 'class_prob', units: 3, activation: 'softmax' } },
    ],
  },
};

let root: string;
let runDir: string;

before(async () => {
  root = tempDir('cnnwb-rgb-export-');
  process.env.CNN_WORKBENCH_HOME = path.join(root, 'home');
  await initBackend();
  const data = path.join(root, 'colours');
  writeColourFolders(data, 30, 12);
  const dataset = await loadDataset(data, { images: { modelChannels: 3 } });
  assert.deepEqual(dataset.info.imageShape, [12, 12, 3]);
  const finished = await runTraining({
    spec: SPEC,
    hyperparameters: { ...LESSON_HYPERPARAMETERS, optimizer: { class_name: 'adam', config: { learning_rate: 1e-2 } }, epochs: 2, batch_size: 16 },
    dataset,
    runsDir: path.join(root, 'runs'),
  });
  runDir = path.join(root, 'runs', finished.runId);
});
after(() => cleanup(root));

const preprocessing = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'preprocessing.json'), 'utf8')) as { input: { shape: unknown[]; color_mode: string; image_size: number[]; color: string } };

test('TF.js and ONNX exports of an RGB model verify on the colour folder (18 test images)', async () => {
  for (const format of ['tfjs', 'onnx'] as const) {
    const out = path.join(root, 'exports', format);
    const report = await exportModel(runDir, format, out);
    assert.equal(report.outcome, 'verified', report.message);
    assert.equal(report.checked, 18);
    const pre = preprocessing(out);
    assert.deepEqual(pre.input.shape, [null, 12, 12, 3]);
    assert.equal(pre.input.color_mode, 'rgb');
    assert.equal(pre.input.color, 'rgb');
    assert.deepEqual(pre.input.image_size, [12, 12]);
  }
});

test('the Keras and R scripts take 3 channels and pass their checks', async () => {
  const keras = path.join(root, 'exports', 'keras');
  const k = await exportModel(runDir, 'keras', keras);
  assert.equal(k.ok, true, k.message);
  assert.match(readFileSync(path.join(keras, 'model.py'), 'utf8'), /keras\.Input\(shape=\(12, 12, 3\), name="image"\)/);
  const r = path.join(root, 'exports', 'r');
  const rr = await exportModel(runDir, 'r', r);
  assert.equal(rr.ok, true, rr.message);
  assert.match(readFileSync(path.join(r, 'model.R'), 'utf8'), /layer_input\(shape = c\(12L, 12L, 3L\), name = "image"\)/);
  assert.equal(preprocessing(r).input.color_mode, 'rgb');
});
