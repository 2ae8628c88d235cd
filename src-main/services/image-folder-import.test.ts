/**
 * The services' side of image folders, as the dataset view and Train use it in browser mode: `importDataset`
 * takes a folder under the data roots and returns what the view shows (classes, per-class counts, size, colour
 * mode, split, skipped and ignored files); the gallery gets colour pixels; training by the import's id reads
 * the folder at the model's input size and channels.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import type { DatasetInfo, TrainingFinished } from '../shared/contract';
import type { ModelSpec } from '../shared/spec';
import { pngBytes, put, solid, writeColourFolders } from '../core/data/image-testkit';
import { shortRun } from './contract-suite';
import { createServices, type Services } from './index';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-images-services-'));
process.env.CNN_WORKBENCH_HOME = home;
let services: Services;
let dataDir: string;

before(() => {
  dataDir = path.join(home, 'my-colours');
  writeColourFolders(dataDir, 20, 12);
  put(dataDir, 'red/broken.png', pngBytes(12, 12, solid(12, 12, [200, 0, 0])).subarray(0, 50));
  put(dataDir, 'notes.md', 'not an image');
  services = createServices({ kind: 'browser', runsDir: path.join(home, 'runs'), dataRoots: [home], prewarm: false });
});

after(async () => {
  await services?.dispose();
  fs.rmSync(home, { recursive: true, force: true });
});

it('importDataset(folder) returns the dataset view facts, lists it, and serves colour test images', async () => {
  const info = await services.api.datasets.importDataset(dataDir);
  assert.ok(info);
  assert.equal(info.format, 'images');
  assert.match(info.id, /^my-colours-[0-9a-f]{8}$/);
  assert.deepEqual(info.classNames, ['blue', 'green', 'red']);
  assert.deepEqual(info.imageShape, [12, 12, 3]);
  const f = info.imageFolder!;
  assert.equal(f.colorMode, 'rgb');
  assert.deepEqual(f.imageSize, [12, 12]);
  assert.deepEqual(f.classCounts, { train: [16, 16, 16], test: [4, 4, 4] });
  assert.deepEqual(f.split, { kind: 'seeded', testFraction: 0.2, seed: f.split.kind === 'seeded' ? f.split.seed : NaN });
  assert.equal(f.skipped.count, 1);
  assert.equal(f.skipped.first[0]!.path, 'red/broken.png');
  assert.deepEqual(f.ignored, { count: 1, first: ['notes.md'] });
  assert.equal(info.trainCount, 48);
  assert.equal(info.testCount, 12);
  const listed = (await services.api.datasets.listDatasets()).find((d) => d.id === info.id);
  assert.deepEqual(listed, info);
  const samples = await services.api.datasets.getTestImages(info.id, [0, 1]);
  assert.equal(samples[0]!.channels, 3);
  assert.equal(Buffer.from(samples[0]!.pixelsBase64, 'base64').length, 12 * 12 * 3);
  await assert.rejects(services.api.datasets.importDataset('/tmp'), (err: Error) => err.name === 'ValidationError' && /outside the allowed folders/.test(err.message));
});

it('trains by the import id at the model input size and channels (a 10×10×1 model on 12×12 colour images)', async () => {
  const info = (await services.api.datasets.listDatasets()).find((d) => d.format === 'images')!;
  const spec: ModelSpec = {
    format_version: 1,
    class_name: 'Sequential',
    config: {
      name: 'tiny',
      layers: [
        { class_name: 'InputLayer', config: { name: 'image', shape: [10, 10, 1] } },
        { class_name: 'Flatten', config: { name: 'flatten' } },
        { class_name: 'Dense', config: { name: 'probs', units: 3, activation: 'softmax' } },
      ],
    },
  };
  const finished = new Promise<TrainingFinished>((resolve, reject) => {
    services.api.training.onTrainingFinished(resolve);
    services.api.training.onTrainingFailed((f) => reject(new Error(f.error.message)));
  });
  await services.api.training.startTraining({ spec, hyperparameters: shortRun(1, 16), datasetId: info.id });
  const done = await finished;
  const record = JSON.parse(fs.readFileSync(path.join(home, 'runs', done.runId, 'run.json'), 'utf8')) as { dataset: DatasetInfo };
  assert.deepEqual(record.dataset.imageShape, [10, 10, 1]);
  assert.equal(record.dataset.imageFolder?.colorMode, 'grayscale');
  assert.ok(record.dataset.imageFolder?.notes.some((n) => n.startsWith('All images are 12×12; resized to 10×10')), record.dataset.imageFolder?.notes.join('\n'));
  assert.equal(done.evaluation.confusionMatrix.flat().reduce((a, b) => a + b, 0), 12);
});
