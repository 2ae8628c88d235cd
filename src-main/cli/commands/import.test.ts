/**
 * Opening Keras and TF.js models through the real CLI, as a user would: `import` prints the summary and evaluates a
 * TF.js model.json (written here by tfjs from a model trained a few steps), and a Keras 3 .keras archive of the same
 * model (its HDF5 weights written by h5py), to the original's accuracy; `train --spec
 * model.json` fine-tunes from its weights; `summary` reads a Keras 3 config; a model that cannot be opened exits 2
 * with one message naming the layer, and nothing is written.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../core/backend';
import { loadDataset, toTensors } from '../../core/data';
import { cleanup, tempDir, writeSmallIdxFolder } from '../../core/data/testkit';
import { evaluateModel } from '../../core/eval/predict';
import { kerasLayerArrays, kerasTwin, writeKerasArchive, writeKerasWeightsH5 } from '../../core/model/import/testkit';
import { saveModelAtomic } from '../../core/runs/model-io';
import { runCli, type CliResult, lastJson } from '../testkit';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(HERE, '../../core/model/import/fixtures');

const cli = (args: string[]): Promise<CliResult> => runCli(args, { CNN_WORKBENCH_HOME: path.join(root, 'home') });


let root: string;
let data: string;
let modelJson: string;
let originalAccuracy: number;
let kerasFile: string;

before(async () => {
  await initBackend();
  root = tempDir('cnnwb-cli-import-');
  data = path.join(root, 'idx');
  mkdirSync(data);
  await writeSmallIdxFolder(data, 512, 200);
  const dataset = await loadDataset(data);
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const { x, y } = toTensors(dataset.train, null, 10);
  await model.fit(x, y, { epochs: 2, batchSize: 64, verbose: 0 });
  tf.dispose([x, y]);
  await saveModelAtomic(model, path.join(root, 'tfjs'));
  modelJson = path.join(root, 'tfjs', 'model.json');
  originalAccuracy = (await evaluateModel(model, dataset.test, dataset.info.classNames)).testAccuracy;
  // The same model as Keras 3 saves it: the fixture's config without its BatchNormalization and Dropout, 8 filters.
  const keras = kerasTwin(model);
  const h5 = path.join(root, 'model.weights.h5');
  await writeKerasWeightsH5(h5, kerasLayerArrays(model, keras.names));
  kerasFile = path.join(root, 'model.keras');
  writeKerasArchive(kerasFile, keras.config, h5);
  model.dispose();
});

after(() => cleanup(root));

test('import --evaluate: a TF.js model.json scores exactly what the tfjs model it was saved from scores', async () => {
  const out = path.join(root, 'imported-spec.json');
  const r = await cli(['import', modelJson, '--evaluate', '--data', data, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /tfjs \(tfjs\), 5 layers, 4 weight arrays read/);
  assert.match(r.stdout, /Total params: 13,610/); // conv 8·9+8 = 80, dense 1352·10+10 = 13,530
  const json = lastJson(r.stdout) as { evaluation: { testAccuracy: number; testCount: number } };
  assert.equal(json.evaluation.testCount, 200);
  assert.equal(json.evaluation.testAccuracy, originalAccuracy);
  // The spec written is a workbench spec the CLI reads back as one.
  const spec = JSON.parse(readFileSync(out, 'utf8')) as { format_version: number; class_name: string };
  assert.equal(spec.format_version, 1);
  const s = await cli(['summary', out]);
  assert.equal(s.code, 0, s.stderr);
});

test('import --evaluate: a Keras 3 .keras archive scores what the model its weights came from scores; train --spec fine-tunes it', async () => {
  const r = await cli(['import', kerasFile, '--evaluate', '--data', data, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /4 weight arrays read/);
  assert.match(r.stdout, /Total params: 13,610/);
  const json = lastJson(r.stdout) as { evaluation: { testAccuracy: number; testCount: number } };
  assert.equal(json.evaluation.testCount, 200);
  assert.equal(json.evaluation.testAccuracy, originalAccuracy);
  // And a run fine-tunes from them: one epoch at a small learning rate stays near the original.
  const tuned = await cli(['train', '--spec', kerasFile, '--data', data, '--epochs', '1', '--batch-size', '64', '--lr', '0.0001', '--runs-dir', path.join(root, 'keras-runs'), '--json']);
  assert.equal(tuned.code, 0, tuned.stderr);
  assert.match(tuned.stdout, /Starting from the weights of .*model\.keras \(fine-tuning\)/);
  const a = Number(lastJson(tuned.stdout).testAccuracy);
  assert.ok(Math.abs(a - originalAccuracy) < 0.1, `fine-tuned ${a} vs original ${originalAccuracy}`);
});

test('train --spec model.json starts from its weights (fine-tuning) and says so; the same spec from fresh weights does worse', async () => {
  const runs = path.join(root, 'runs');
  const settings = ['--data', data, '--epochs', '1', '--batch-size', '64', '--lr', '0.0001', '--runs-dir', runs, '--json'];
  const tuned = await cli(['train', '--spec', modelJson, ...settings]);
  assert.equal(tuned.code, 0, tuned.stderr);
  assert.match(tuned.stdout, /Starting from the weights of .*model\.json \(fine-tuning\)/);
  const spec = path.join(root, 'fresh-spec.json');
  assert.equal((await cli(['import', modelJson, '--out', spec])).code, 0);
  const fresh = await cli(['train', '--spec', spec, ...settings]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.doesNotMatch(fresh.stdout, /Starting from the weights/);
  const [a, b] = [Number(lastJson(tuned.stdout).testAccuracy), Number(lastJson(fresh.stdout).testAccuracy)];
  // One epoch at a tenth of the learning rate: from trained weights it stays near the original; from scratch it
  // has barely started.
  assert.ok(Math.abs(a - originalAccuracy) < 0.1, `fine-tuned ${a} vs original ${originalAccuracy}`);
  assert.ok(a > b + 0.1, `fine-tuned ${a} vs fresh ${b}`);
});

test('summary of a Keras 3 and a tf.keras 2 Sequential config prints the Keras table with its parameter counts', async () => {
  for (const f of ['keras3-sequential.json', 'tfkeras2-sequential.json']) {
    const r = await cli(['summary', path.join(FIXTURES, f)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /conv2d \(Conv2D\)\s+│ \(None, 26, 26, 32\) │\s+320 │/);
    assert.match(r.stdout, /Total params: 54,538/);
    assert.match(r.stdout, /Non-trainable params: 64 /);
  }
});

test('a model that cannot be opened exits 2 with one message naming the layer, and nothing is written', async () => {
  const bad = JSON.parse(readFileSync(path.join(FIXTURES, 'keras3-sequential.json'), 'utf8')) as { config: { layers: { class_name: string; module?: string }[] } };
  bad.config.layers[4]!.class_name = 'Lambda';
  const file = path.join(root, 'lambda.json');
  writeFileSync(file, JSON.stringify(bad));
  const out = path.join(root, 'never.json');
  const runs = path.join(root, 'runs-refused');
  for (const args of [['import', file, '--out', out], ['summary', file], ['train', '--spec', file, '--data', data, '--runs-dir', runs]]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /layer 'dropout' \(Lambda\): a Lambda layer holds Python code, which cannot be opened — replace it with a built-in layer/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.equal(existsSync(out), false);
  assert.equal(existsSync(runs) ? readdirSync(runs).length : 0, 0);
});

test('summary of a Keras 3 and a tf.keras 2 residual network prints "Connected to" and Keras\' counts', async () => {
  for (const [f, input] of [['keras3-resnet.json', 'input_layer'], ['tfkeras2-resnet.json', 'input_1']] as const) {
    const r = await cli(['summary', path.join(FIXTURES, f)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /┃ Connected to\s+┃/);
    assert.match(r.stdout, new RegExp(`conv2d \\(Conv2D\\)\\s+│ \\(None, 28, 28, 16\\) │\\s+160 │ ${input}\\[0\\]\\[0\\]`));
    // The merge lists both inputs, one per line.
    assert.match(r.stdout, /add_1 \(Add\)\s+│ \(None, 14, 14, 32\) │\s+0 │ conv2d_3\[0\]\[0\],\s+│[^\n]*\n│\s+│\s+│\s+│ batch_normalization_2\[0\]\[0\]/);
    assert.match(r.stdout, /Total params: 10,570/);
    assert.match(r.stdout, /Non-trainable params: 128 /);
  }
});
