/**
 * Export and predict through the services, as the app calls them, on a run trained on an imported IDX folder:
 * they run in the worker, and the process serving the UI (this one) never loads tfjs or ONNX Runtime. Its own
 * file, so that no other test has loaded them into this process first. Also: the browser-mode .zip holds the
 * same files as the export folder, progress arrives in order, and a test image predicts with its truth.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import type { ExportProgress, TrainingFinished } from '../shared/contract';
import { realIdx, truncateIdxItems, writeSmallIdxFolder } from '../core/data/testkit';
import { readExample, shortRun } from './contract-suite';
import { createServices, type Services } from './index';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-export-worker-'));
process.env.CNN_WORKBENCH_HOME = home;

const require = createRequire(import.meta.url);
/** Modules of tfjs or ONNX Runtime loaded into this process (the one that would serve the UI). */
const heavyLoaded = (): string[] => Object.keys(require.cache).filter((k) => k.includes(`${'@tensorflow'}/`) || k.includes('onnxruntime'));

let services: Services;
let runId: string;
let dataDir: string;

before(async () => {
  dataDir = path.join(home, 'imported-idx');
  fs.mkdirSync(dataDir);
  await writeSmallIdxFolder(dataDir, 600, 200);
  services = createServices({ kind: 'browser', runsDir: path.join(home, 'runs'), dataRoots: [home], prewarm: true });
  const info = await services.api.datasets.importDataset(dataDir);
  assert.ok(info);
  const finished = new Promise<TrainingFinished>((resolve, reject) => {
    services.api.training.onTrainingFinished(resolve);
    services.api.training.onTrainingFailed((f) => reject(new Error(f.error.message)));
  });
  ({ runId } = await services.api.training.startTraining({ spec: readExample('small-cnn'), hyperparameters: shortRun(1, 32), datasetId: info.id }));
  await finished;
});

after(async () => {
  await services?.dispose();
  fs.rmSync(home, { recursive: true, force: true });
});

it('exports ONNX in the worker: verified on the imported data, progress in order, files listed', async () => {
  const stages: ExportProgress['stage'][] = [];
  const off = services.api.exports.onExportProgress((p) => {
    assert.equal(p.runId, runId);
    if (stages.at(-1) !== p.stage) stages.push(p.stage);
  });
  const result = await services.api.exports.exportModel(runId, 'onnx', 'my onnx');
  off();
  assert.ok(result);
  assert.equal(result.outcome, 'verified', result.message);
  assert.equal(result.checked, 200);
  assert.ok(result.argmaxAgreement !== null && result.argmaxAgreement >= 0.99);
  assert.deepEqual(stages, ['loading', 'writing', 'verifying', 'done']);
  assert.equal(result.path, path.join(home, 'runs', runId, 'exports', 'my onnx'));
  assert.deepEqual(result.files.map((f) => f.name), ['model.onnx', 'preprocessing.json', 'verification.json']);
  for (const f of result.files) assert.equal(f.bytes, fs.statSync(path.join(result.path, f.name)).size);
});

it('zips an export for download: the archive unpacks to the same files, byte for byte', async () => {
  const result = await services.api.exports.exportModel(runId, 'tfjs', 'tfjs');
  assert.ok(result);
  const archive = await services.api.exports.zipExport(runId, 'tfjs');
  assert.equal(archive.fileName, `${runId}-tfjs.zip`);
  const entries = unzipSync(new Uint8Array(Buffer.from(archive.base64, 'base64')));
  const prefix = `${runId}-tfjs/`;
  assert.deepEqual(Object.keys(entries).sort(), result.files.map((f) => prefix + f.name).sort());
  for (const f of result.files) assert.ok(Buffer.from(entries[prefix + f.name]!).equals(fs.readFileSync(path.join(result.path, f.name))), f.name);
  await assert.rejects(services.api.exports.zipExport(runId, 'never-exported'), /has no export named "never-exported"/);
});

it('predicts an uploaded PNG and a test image in the worker, showing what the model sees', async () => {
  // The first test image, written as a PNG the way a user would save it.
  const images = truncateIdxItems(await realIdx('testImages'), 1).subarray(16);
  const png = new PNG({ width: 28, height: 28 });
  for (let p = 0; p < 784; p++) {
    png.data.fill(images[p]!, p * 4, p * 4 + 3);
    png.data[p * 4 + 3] = 255;
  }
  const [uploaded] = await services.api.exports.predict(runId, [{ name: 'shoe.png', base64: PNG.sync.write(png).toString('base64') }]);
  assert.ok(uploaded?.input);
  assert.equal(uploaded.source, 'shoe.png');
  assert.equal(uploaded.top.length, 3);
  assert.deepEqual(uploaded.input.pixels, Array.from(images), 'a 28×28 grayscale image reaches the model unchanged');
  const [inverted] = await services.api.exports.predict(runId, [{ name: 'shoe.png', base64: PNG.sync.write(png).toString('base64') }], { invert: true });
  assert.deepEqual(inverted?.input?.pixels, Array.from(images, (v) => 255 - v));

  const [test0] = await services.api.exports.predictTestImages(runId, [0]);
  assert.ok(test0?.truth);
  assert.deepEqual(test0.top, uploaded.top, 'the same image gives the same prediction either way');
  // Fashion-MNIST's first test image is an ankle boot (label 9); a folder not named "fashion" gets digit names.
  assert.deepEqual(test0.truth, { classIndex: 9, className: '9' });
});

it('predicts while a run holds the standby worker (paused mid-run): a task worker answers', async () => {
  const info = (await services.api.datasets.listDatasets()).find((d) => d.location === dataDir)!;
  const finished = new Promise<TrainingFinished>((resolve) => services.api.training.onTrainingFinished(resolve));
  const run = await services.api.training.startTraining({ spec: readExample('small-cnn'), hyperparameters: shortRun(50, 8), datasetId: info.id });
  await services.api.training.pauseTraining(run.runId);
  try {
    const [p] = await services.api.exports.predictTestImages(runId, [0]);
    assert.equal(p?.truth?.classIndex, 9);
  } finally {
    // A paused run stops without resuming (and is evaluated as 'stopped').
    await services.api.training.stopTraining(run.runId);
  }
  assert.equal((await finished).runId, run.runId);
});

it('the process serving the UI loaded neither tfjs nor ONNX Runtime for any of it', async () => {
  // What the Results and Runs views call around export and predict, too.
  const [dataset] = (await services.api.datasets.listDatasets()).filter((d) => d.location === dataDir);
  assert.ok(dataset);
  assert.equal((await services.api.datasets.getTestImages(dataset.id, [0]))[0]?.label, 9);
  assert.equal((await services.api.runs.getRun(runId)).id, runId);
  assert.ok((await services.api.runs.listRuns()).some((r) => r.id === runId));
  assert.deepEqual(heavyLoaded(), []);
});
