/**
 * Opening model files from disk: a TF.js model.json (written here by tfjs-layers' own save, from a tfjs model trained
 * a few steps) evaluates to exactly the original's accuracy; a .keras archive opens its config.json and says why its
 * weights are not read; a bad shard is refused naming the file.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import { initBackend } from '../../backend';
import { loadDataset, toTensors, type Dataset } from '../../data';
import { cleanup, tempDir, writeSmallIdxFolder } from '../../data/testkit';
import { evaluateModel } from '../../eval/predict';
import { saveModelAtomic } from '../../runs/model-io';
import type { FunctionalModelSpec } from '../../../shared/spec';
import { evaluateImported, ModelImportError, openModelFile } from './index';

let root: string;
let dataset: Dataset;
let original: tf.Sequential;

before(async () => {
  await initBackend();
  root = tempDir('cnnwb-import-');
  const data = path.join(root, 'idx');
  (await import('node:fs')).mkdirSync(data);
  await writeSmallIdxFolder(data, 512, 300);
  dataset = await loadDataset(data);
  // A model as a tfjs user writes it: tfjs' own auto names (conv2d_Conv2D1 …), no workbench code involved.
  original = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.25 }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  original.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const { x, y } = toTensors(dataset.train, null, 10);
  await original.fit(x, y, { epochs: 2, batchSize: 64, verbose: 0 });
  tf.dispose([x, y]);
  await saveModelAtomic(original, path.join(root, 'tfjs'));
});

after(() => {
  original.dispose();
  cleanup(root);
});

test('a TF.js model.json opens with its weights and evaluates to the original model’s accuracy', async () => {
  const file = path.join(root, 'tfjs', 'model.json');
  const opened = await openModelFile(file);
  assert.equal(opened.format, 'tfjs');
  assert.equal(opened.weightsNote, null);
  assert.deepEqual(opened.warnings, []);
  assert.equal(opened.spec.class_name, 'Sequential');
  assert.deepEqual(
    opened.spec.config.layers.map((l) => l.class_name),
    ['InputLayer', 'Conv2D', 'BatchNormalization', 'MaxPooling2D', 'Flatten', 'Dropout', 'Dense'],
  );
  // conv 8·9+8, BN 4·8, dense 1352·10+10: every array of the original, moving statistics included.
  assert.deepEqual(
    opened.weights!.map((w) => w.shape),
    original.weights.map((w) => w.shape),
  );
  const want = await evaluateModel(original, dataset.test, dataset.info.classNames);
  const got = await evaluateImported(opened.spec, opened.weights!, dataset, file);
  assert.equal(got.testCount, 300);
  assert.equal(got.testAccuracy, want.testAccuracy);
  assert.ok(Math.abs(got.testLoss - want.testLoss) < 1e-6, `${got.testLoss} vs ${want.testLoss}`);
  assert.deepEqual(got.confusionMatrix, want.confusionMatrix);
  // Trained, not chance: the weights really came across.
  assert.ok(got.testAccuracy > 0.3, `accuracy ${got.testAccuracy} (chance: 0.1)`);
});

test('a weight shard shorter than its manifest is refused naming the file', async () => {
  const dir = path.join(root, 'torn');
  (await import('node:fs')).mkdirSync(dir);
  writeFileSync(path.join(dir, 'model.json'), readFileSync(path.join(root, 'tfjs', 'model.json')));
  writeFileSync(path.join(dir, 'weights.bin'), readFileSync(path.join(root, 'tfjs', 'weights.bin')).subarray(0, 100));
  await assert.rejects(openModelFile(path.join(dir, 'model.json')), (err: Error) => err instanceof ModelImportError && err.message.startsWith(path.join(dir, 'model.json')));
});

test('a .keras archive opens its config.json; weights it cannot read are named with the reason', async () => {
  const config = readFileSync(new URL('./fixtures/keras3-sequential.json', import.meta.url));
  const file = path.join(root, 'model.keras');
  const enc = new TextEncoder();
  // The HDF5 signature only: the importer does not read the weights file, so its contents do not matter here.
  const h5 = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
  writeFileSync(file, zipSync({ 'metadata.json': enc.encode('{"keras_version": "3.6.0", "date_saved": "2026-12-02@10:00:00"}'), 'config.json': new Uint8Array(config), 'model.weights.h5': h5 }));
  const opened = await openModelFile(file);
  assert.equal(opened.format, 'keras-archive');
  assert.equal(opened.weights, null);
  // Without jsfive the reader is named; with it, this signature-only file is not a readable HDF5 file.
  assert.match(opened.weightsNote ?? '', /^weights not read: .*model\.keras's model\.weights\.h5: it is (HDF5 and the HDF5 reader \(npm jsfive\) is not installed|not a readable HDF5 file)/);
  assert.match(opened.weightsNote ?? '', /Keras 3\.6\.0/);
  assert.equal(opened.spec.config.layers.length, 7);
  writeFileSync(file, zipSync({ 'metadata.json': enc.encode('{}') }));
  await assert.rejects(openModelFile(file), /model\.keras: a \.keras archive must hold config\.json/);
});

test('a functional TF.js model.json with a residual Add opens as a graph and evaluates to the original’s accuracy', async () => {
  const input = tf.input({ shape: [28, 28, 1] });
  const stem = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  const branch = tf.layers.batchNormalization().apply(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }).apply(stem)) as tf.SymbolicTensor;
  const merged = tf.layers.activation({ activation: 'relu' }).apply(tf.layers.add().apply([stem, branch])) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(merged) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor;
  const graph = tf.model({ inputs: input, outputs: output });
  graph.compile({ optimizer: tf.train.adam(1e-2), loss: 'categoricalCrossentropy' });
  const { x, y } = toTensors(dataset.train, null, 10);
  await graph.fit(x, y, { epochs: 2, batchSize: 64, verbose: 0 });
  tf.dispose([x, y]);
  await saveModelAtomic(graph, path.join(root, 'graph'));
  const file = path.join(root, 'graph', 'model.json');
  const opened = await openModelFile(file);
  assert.equal(opened.spec.class_name, 'Functional');
  const add = (opened.spec as FunctionalModelSpec).config.layers.find((l) => l.class_name === 'Add');
  assert.equal(add?.inbound_nodes[0]?.length, 2);
  const want = await evaluateModel(graph, dataset.test, dataset.info.classNames);
  const got = await evaluateImported(opened.spec, opened.weights!, dataset, file);
  assert.equal(got.testAccuracy, want.testAccuracy);
  assert.ok(Math.abs(got.testLoss - want.testLoss) < 1e-6, `${got.testLoss} vs ${want.testLoss}`);
  graph.dispose();
});
