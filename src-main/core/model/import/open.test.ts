/**
 * Opening model files from disk: a TF.js model.json (written here by tfjs-layers' own save, from a tfjs model trained
 * a few steps) evaluates to exactly the original's accuracy; so does a .keras archive whose model.weights.h5 h5py wrote
 * in Keras 3's layout (and Keras 2.13's); weights it cannot read are named with the reason; a bad shard is refused
 * naming the file.
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
import { kerasLayerArrays, kerasTwin, writeKerasArchive, writeKerasWeightsH5 } from './testkit';

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

test('a Keras 3 .keras archive opens with its weights (h5py-written HDF5) and evaluates to the original’s accuracy', async () => {
  const { config, names } = kerasTwin(original);
  const want = await evaluateModel(original, dataset.test, dataset.info.classNames);
  // Keras 3's layout, and Keras 2.13–2.15's.
  for (const layout of ['layers', '_layer_checkpoint_dependencies']) {
    const h5File = path.join(root, `${layout}.weights.h5`);
    await writeKerasWeightsH5(h5File, kerasLayerArrays(original, names), { layout });
    const file = path.join(root, `${layout}.keras`);
    writeKerasArchive(file, config, h5File);
    const opened = await openModelFile(file);
    assert.equal(opened.format, 'keras-archive');
    assert.equal(opened.weightsNote, null, layout);
    // conv kernel, bias; BN gamma, beta, moving mean, moving variance; dense kernel, bias — by Keras' names.
    assert.deepEqual(
      opened.weights!.map((w) => [w.name, w.shape]),
      [['conv2d/vars/0', [3, 3, 1, 8]], ['conv2d/vars/1', [8]], ...[0, 1, 2, 3].map((i) => [`batch_normalization/vars/${i}`, [8]]), ['dense/vars/0', [1352, 10]], ['dense/vars/1', [10]]],
    );
    const got = await evaluateImported(opened.spec, opened.weights!, dataset, file);
    assert.equal(got.testAccuracy, want.testAccuracy, layout);
    assert.ok(Math.abs(got.testLoss - want.testLoss) < 1e-6, `${layout}: ${got.testLoss} vs ${want.testLoss}`);
    assert.deepEqual(got.confusionMatrix, want.confusionMatrix);
    assert.ok(got.testAccuracy > 0.3, `accuracy ${got.testAccuracy} (chance: 0.1)`);
  }
});

test('a .keras archive whose weights cannot be read opens with fresh weights, and the note says why', async () => {
  const { config, names } = kerasTwin(original);
  const file = path.join(root, 'model.keras');
  const h5File = path.join(root, 'other.weights.h5');
  const note = async (): Promise<string> => {
    writeKerasArchive(file, config, h5File);
    const opened = await openModelFile(file);
    assert.equal(opened.format, 'keras-archive');
    assert.equal(opened.weights, null);
    assert.equal(opened.spec.config.layers.length, 7);
    return opened.weightsNote ?? '';
  };
  // The HDF5 signature alone.
  writeFileSync(h5File, Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]));
  assert.match(await note(), /^weights not read: .*model\.keras's model\.weights\.h5: it is not a readable HDF5 file .* — the model opens with fresh weights .*Keras 3\.6\.0/);
  // float64 arrays, named with the dataset.
  await writeKerasWeightsH5(h5File, kerasLayerArrays(original, names), { dtype: 'float64' });
  assert.match(await note(), /model\.weights\.h5: layers\/conv2d\/vars\/0 is <f8, not float32/);
  // A layout of neither Keras version.
  await writeKerasWeightsH5(h5File, kerasLayerArrays(original, names), { layout: 'model_weights' });
  assert.match(await note(), /it holds no layers\/<name>\/vars or _layer_checkpoint_dependencies\/<name>\/vars groups/);
  // Keras' layout without the convolution's arrays (filed under another layer's name): the rest are read, and
  // evaluating names the weight that is missing.
  await writeKerasWeightsH5(h5File, kerasLayerArrays(original, { ...names, [original.layers[0]!.name]: 'conv2d_7' }));
  writeKerasArchive(file, config, h5File);
  const partial = await openModelFile(file);
  assert.equal(partial.weights?.length, 6);
  await assert.rejects(evaluateImported(partial.spec, partial.weights!, dataset, file), (err: Error) => err instanceof ModelImportError && /model\.keras: has no weight '.*' for layer 'conv2d' \(Conv2D\)$/.test(err.message));
  writeFileSync(file, zipSync({ 'metadata.json': new TextEncoder().encode('{}') }));
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
