/**
 * The contract test suite, written once against `WorkbenchApi` and run against every transport: the
 * in-process services (contract.test.ts) and browser mode over a real WebSocket (server.test.ts). Real
 * Fashion-MNIST, real training in the real worker thread — a small CNN on a few hundred images.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BatchProgress, EpochResult, TrainingFailed, TrainingFinished, WorkbenchApi } from '../shared/contract';
import { LESSON_HYPERPARAMETERS, type Hyperparameters, type AnyModelSpec, type ModelSpec } from '../shared/spec';
import { loadDatasetCached } from '../core/data/catalog';
import { writeOneClassKeras } from '../core/model/import/testkit';

/** What a transport under test provides. */
export interface ContractHarness {
  api: WorkbenchApi;
  close(): Promise<void>;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The lesson's published parameter count (the Keras summary in the lesson). */
const LESSON_TOTAL_PARAMS = 468_586;

/** The examples' JSON, as a user would load it. */
export function readExample(name: string): AnyModelSpec {
  return JSON.parse(fs.readFileSync(path.join(root, 'examples', `${name}.json`), 'utf8')) as AnyModelSpec;
}

/** Records every training event in arrival order. */
export class EventLog {
  readonly entries: (
    | { kind: 'progress'; value: BatchProgress }
    | { kind: 'epoch'; value: EpochResult }
    | { kind: 'finished'; value: TrainingFinished }
    | { kind: 'failed'; value: TrainingFailed }
  )[] = [];
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  private readonly offs: (() => void)[];

  constructor(api: WorkbenchApi) {
    this.offs = [
      api.training.onTrainingProgress((value) => this.push({ kind: 'progress', value })),
      api.training.onEpochEnd((value) => this.push({ kind: 'epoch', value })),
      api.training.onTrainingFinished((value) => this.push({ kind: 'finished', value })),
      api.training.onTrainingFailed((value) => this.push({ kind: 'failed', value })),
    ];
  }

  private push(entry: EventLog['entries'][number]): void {
    this.entries.push(entry);
    for (const w of [...this.waiters]) {
      if (w.test()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Entries for one run. */
  of(runId: string): EventLog['entries'] {
    return this.entries.filter((e) => e.value.runId === runId);
  }

  /** Resolves when `test` holds (checked now and after every event); rejects after `timeoutMs`. */
  until(test: () => boolean, what: string, timeoutMs = 240_000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** The terminal event of a run, once it arrives. */
  async end(runId: string): Promise<EventLog['entries'][number]> {
    await this.until(() => this.of(runId).some((e) => e.kind === 'finished' || e.kind === 'failed'), `run ${runId} to end`);
    return this.of(runId).find((e) => e.kind === 'finished' || e.kind === 'failed')!;
  }

  dispose(): void {
    for (const off of this.offs) off();
  }
}

/** The lesson's hyperparameters, shortened for a test run. */
export function shortRun(epochs: number, batchSize = 128): Hyperparameters {
  return { ...LESSON_HYPERPARAMETERS, epochs, batch_size: batchSize };
}

/** Defines the contract suite for one transport. */
export function contractSuite(label: string, setup: () => Promise<ContractHarness>): void {
  describe(`contract: ${label}`, () => {
    let h: ContractHarness;
    let log: EventLog;
    const runIds: string[] = [];

    before(async () => {
      h = await setup();
      log = new EventLog(h.api);
    });
    after(async () => {
      log?.dispose();
      await h?.close();
    });

    it("summarizes the lesson's CNN to its published parameter count", async () => {
      const summary = await h.api.model.summarize(readExample('lesson-cnn'));
      assert.equal(summary.ok, true, JSON.stringify(summary.issues));
      assert.equal(summary.totalParams, LESSON_TOTAL_PARAMS);
      assert.equal(summary.trainableParams + summary.nonTrainableParams, LESSON_TOTAL_PARAMS);
      // The memory estimate the editor shows: weights, gradients and Adam's two slots, plus activations per image.
      assert.ok(summary.memory, 'the summary carries its memory estimate');
      assert.ok(Math.abs(summary.memory.fixedBytes - 16 * LESSON_TOTAL_PARAMS) < 16 * 1_000, `fixed ${summary.memory.fixedBytes}`);
      assert.ok(summary.memory.perImageBytes > 0 && summary.memory.budgetBytes > 0);
    });

    it('reports a broken spec as issues, not as a failed call', async () => {
      const spec = readExample('small-cnn');
      const broken = { ...spec, config: { ...spec.config, layers: [...spec.config.layers, { class_name: 'Conv3D', config: {} }] } } as unknown as AnyModelSpec;
      const summary = await h.api.model.summarize(broken);
      assert.equal(summary.ok, false);
      assert.ok(summary.issues.some((i) => i.severity === 'error' && i.layerIndex === spec.config.layers.length), JSON.stringify(summary.issues));
    });

    it("opens a Keras 3 to_json() file as a spec, and refuses a Lambda layer naming it", async () => {
      const fixture = path.join(root, 'src-main', 'core', 'model', 'import', 'fixtures', 'keras3-sequential.json');
      const bytes = fs.readFileSync(fixture);
      const opened = await h.api.model.openModelFile({ name: 'keras3-sequential.json', base64: bytes.toString('base64') });
      assert.equal(opened.dialect, 'keras3');
      assert.equal(opened.spec.class_name, 'Sequential');
      const summary = await h.api.model.summarize(opened.spec);
      assert.equal(summary.totalParams, 54_538);
      const lambda = JSON.parse(bytes.toString('utf8')) as { config: { layers: { class_name: string }[] } };
      lambda.config.layers[5]!.class_name = 'Lambda';
      await assert.rejects(
        h.api.model.openModelFile({ name: 'lambda.json', base64: Buffer.from(JSON.stringify(lambda)).toString('base64') }),
        (err: Error) => err.name === 'ModelImportError' && /^lambda\.json: layer 'flatten' \(Lambda\): a Lambda layer holds Python code/.test(err.message),
      );
    });

    it('opens a .keras archive with its trained weights; a run starts from them (fine-tuning) or scores them as they are', async () => {
      // Weights that call every image class 7 (Input → Flatten → Dense, saved as Keras 3 does): a run that really
      // starts from them, at a learning rate too small to move them, predicts class 7 for every test image.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-contract-keras-'));
      try {
        await writeOneClassKeras(path.join(dir, 'model.keras'), 7);
        const opened = await h.api.model.openModelFile({ name: 'model.keras', base64: fs.readFileSync(path.join(dir, 'model.keras')).toString('base64') });
        assert.equal(opened.format, 'keras-archive');
        assert.deepEqual(opened.notes, []);
        assert.deepEqual({ ...opened.weights, id: undefined }, { id: undefined, source: 'model.keras', arrays: 2, values: 7850 });
        const still: Hyperparameters = { ...shortRun(1), optimizer: { ...LESSON_HYPERPARAMETERS.optimizer, config: { ...LESSON_HYPERPARAMETERS.optimizer.config, learning_rate: 1e-7 } } };
        const request = { spec: opened.spec, hyperparameters: still, datasetId: 'fashion-mnist', limitTrain: 600, limitTest: 200 };
        // Not in runIds: the tests below index the runs they start there.
        const { runId } = await h.api.training.startTraining({ ...request, startFromWeights: opened.weights!.id });
        const end = await log.end(runId);
        assert.equal(end.kind, 'finished', JSON.stringify(end.value));
        const matrix = (end.value as TrainingFinished).evaluation.confusionMatrix;
        assert.deepEqual(matrix.map((row) => row.reduce((n, v, k) => n + (k === 7 ? 0 : v), 0)), Array(10).fill(0), 'every prediction is class 7');
        assert.equal((await h.api.runs.getRun(runId)).startedFrom, 'model.keras');
        // Evaluate-only: no epoch, the same verdict, a run Results and export can open.
        const scored = await h.api.training.startTraining({ ...request, startFromWeights: opened.weights!.id, evaluateOnly: true });
        const scoredEnd = await log.end(scored.runId);
        assert.equal(scoredEnd.kind, 'finished', JSON.stringify(scoredEnd.value));
        const finished = scoredEnd.value as TrainingFinished;
        assert.deepEqual([finished.status, finished.epochsRun], ['completed', 0]);
        assert.equal(log.of(scored.runId).filter((e) => e.kind === 'epoch' || e.kind === 'progress').length, 0);
        assert.deepEqual(finished.evaluation.confusionMatrix, matrix);
        const detail = await h.api.runs.getRun(scored.runId);
        assert.deepEqual([detail.startedFrom, detail.epochsRun, detail.history.length], ['model.keras', 0, 0]);
        // The model brought in exports like a trained one: ONNX, re-read and compared on the run's test images.
        const onnx = await h.api.exports.exportModel(scored.runId, 'onnx', 'onnx');
        assert.equal(onnx?.outcome, 'verified', onnx?.message);
        await assert.rejects(
          h.api.training.startTraining({ ...request, evaluateOnly: true }),
          (err: Error) => err.name === 'ValidationError' && /evaluateOnly/.test(err.message) && /startFromWeights/.test(err.message),
        );
        // Weights the services never held are refused by name, before any run starts.
        await assert.rejects(h.api.training.startTraining({ ...request, startFromWeights: 'w-gone' }), (err: Error) => err.name === 'OpenedWeightsError' && /^startFromWeights: .*open the file again$/.test(err.message));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('lists Fashion-MNIST among the datasets', async () => {
      const datasets = await h.api.datasets.listDatasets();
      const fm = datasets.find((d) => d.id === 'fashion-mnist');
      assert.ok(fm, `datasets: ${datasets.map((d) => d.id).join(', ')}`);
      assert.deepEqual(fm.imageShape, [28, 28, 1]);
      assert.equal(fm.classNames.length, 10);
      const images = await h.api.datasets.getTestImages('fashion-mnist', [0, 1]);
      assert.deepEqual(images.map((i) => i.index), [0, 1]);
      // Pixels cross as base64 bytes (not JSON numbers): the same bytes as the dataset's own test images.
      const test = (await loadDatasetCached('fashion-mnist')).test.images;
      for (const [i, image] of images.entries()) {
        assert.equal(typeof image.pixelsBase64, 'string');
        assert.deepEqual([image.width, image.height, image.channels], [28, 28, 1]);
        assert.deepEqual(new Uint8Array(Buffer.from(image.pixelsBase64, 'base64')), test.subarray(i * 784, (i + 1) * 784));
      }
    });

    it('describes a dataset: per-class counts over both sets and colour-faithful thumbnails per class', async () => {
      const o = await h.api.datasets.describeDataset('fashion-mnist', 3);
      assert.equal(o.classNames.length, 10);
      assert.equal(o.trainCounts.reduce((a, b) => a + b, 0), 60_000);
      assert.deepEqual(o.testCounts, new Array(10).fill(1000));
      assert.deepEqual(o.thumbnails.map((t) => t.length), new Array(10).fill(3));
      const train = (await loadDatasetCached('fashion-mnist')).train;
      for (const [cls, list] of o.thumbnails.entries()) {
        for (const t of list) {
          assert.equal(t.label, cls);
          assert.equal(train.labels[t.index], cls);
          assert.deepEqual(new Uint8Array(Buffer.from(t.pixelsBase64, 'base64')), train.images.subarray(t.index * 784, (t.index + 1) * 784));
        }
      }
    });

    it('previews the augmentation of a training image: eight seeded draws from the worker', async () => {
      const spec = readExample('small-cnn') as ModelSpec;
      const withFlip: ModelSpec = { ...spec, config: { ...spec.config, layers: [spec.config.layers[0]!, { class_name: 'RandomFlip', config: { mode: 'horizontal' } }, ...spec.config.layers.slice(1)] } };
      const p = await h.api.model.previewAugmentation(withFlip, 'fashion-mnist', 0, 5);
      assert.equal(p.draws.length, 8);
      assert.deepEqual(p.layers.map((l) => l.className), ['RandomFlip']);
      const again = await h.api.model.previewAugmentation(withFlip, 'fashion-mnist', 0, 5);
      assert.deepEqual(again.draws.map((d) => d.pixelsBase64), p.draws.map((d) => d.pixelsBase64));
    });

    it('trains a short run: progress, then the epoch, then finished — in order', async () => {
      const { runId } = await h.api.training.startTraining({
        spec: readExample('small-cnn'),
        hyperparameters: shortRun(1),
        datasetId: 'fashion-mnist',
        limitTrain: 600,
        limitTest: 200,
      });
      runIds.push(runId);
      const end = await log.end(runId);
      assert.equal(end.kind, 'finished', JSON.stringify(end.value));
      const events = log.of(runId);
      const kinds = events.map((e) => e.kind);
      const firstEpoch = kinds.indexOf('epoch');
      assert.ok(kinds.indexOf('progress') >= 0 && kinds.indexOf('progress') < firstEpoch, `order: ${kinds.join(' ')}`);
      assert.equal(kinds.lastIndexOf('progress') < firstEpoch, true, `progress after the epoch end: ${kinds.join(' ')}`);
      assert.equal(kinds[kinds.length - 1], 'finished');
      const batches = events.filter((e) => e.kind === 'progress').map((e) => (e.value as BatchProgress).batch);
      assert.deepEqual(batches, [...batches].sort((a, b) => a - b), 'batch numbers never go back');
      const finished = end.value as TrainingFinished;
      assert.equal(finished.status, 'completed');
      assert.equal(finished.epochsRun, 1);
      assert.equal(finished.evaluation.testCount, 200);
      assert.equal(finished.evaluation.confusionMatrix.length, 10);
    });

    it('refuses a second run while one trains; pauses, resumes and stops it mid-epoch', async () => {
      const { runId } = await h.api.training.startTraining({
        spec: readExample('small-cnn'),
        hyperparameters: shortRun(5, 32),
        datasetId: 'fashion-mnist',
        limitTrain: 2000,
        limitTest: 200,
      });
      runIds.push(runId);
      await assert.rejects(
        h.api.training.startTraining({ spec: readExample('small-cnn'), hyperparameters: shortRun(1), datasetId: 'fashion-mnist', limitTrain: 600 }),
        (err: Error) => err.name === 'TrainingBusyError' && err.message.includes(runId),
      );
      await log.until(() => log.of(runId).some((e) => e.kind === 'progress' || e.kind === 'finished' || e.kind === 'failed'), 'first progress');
      const first = log.of(runId)[0]!;
      assert.equal(first.kind, 'progress', JSON.stringify(first.value));
      // Paused, the run holds between two batches: at most the batch in flight reports, then silence.
      await h.api.training.pauseTraining(runId);
      await new Promise((r) => setTimeout(r, 1_500));
      const heldAt = log.of(runId).length;
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(log.of(runId).length, heldAt, 'no events while paused');
      assert.equal((await h.api.runs.getRun(runId)).status, 'paused');
      // A window that attaches now (e.g. after a reload) learns the paused run and where it stands.
      const attached = await h.api.training.getActiveRun();
      assert.equal(attached?.runId, runId);
      assert.equal(attached?.status, 'paused');
      assert.equal(attached?.progress?.runId, runId);
      await h.api.training.resumeTraining(runId);
      await log.until(() => log.of(runId).length > heldAt, 'progress after resuming');
      await h.api.training.stopTraining(runId);
      const end = await log.end(runId);
      assert.equal(end.kind, 'finished', JSON.stringify(end.value));
      const finished = end.value as TrainingFinished;
      assert.equal(finished.status, 'stopped');
      assert.ok(finished.epochsRun < 5, `epochs run: ${finished.epochsRun}`);
      // Stopped within its first epoch of 57 batches: no epoch ended, and the last progress was mid-epoch.
      const kinds = log.of(runId).map((e) => e.kind);
      assert.ok(!kinds.includes('epoch'), `stop took effect only at an epoch end: ${kinds.join(' ')}`);
      const lastProgress = log.of(runId).filter((e) => e.kind === 'progress').pop()!.value as BatchProgress;
      assert.ok(lastProgress.batch < lastProgress.batchesPerEpoch, `last progress: batch ${lastProgress.batch}/${lastProgress.batchesPerEpoch}`);
      await assert.rejects(h.api.training.stopTraining(runId), (err: Error) => err.name === 'RunNotActiveError');
      assert.equal(await h.api.training.getActiveRun(), null, 'no active run once it has finished');
    });

    it('looks inside the trained run in the worker: activations, class maps, kernels, filters, embedding', async () => {
      const runId = runIds[0]!;
      const acts = await h.api.inside.activations(runId, { testIndex: 0 });
      assert.ok(acts.layers.length >= 3);
      const conv = acts.layers.find((l) => l.className === 'Conv2D')!;
      assert.equal(conv.values.length, conv.shape.reduce((a, b) => a * b, 1));
      assert.ok(Math.abs(acts.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-4);
      const predicted = acts.top[0]!.classIndex;
      for (const method of ['gradcam', 'saliency'] as const) {
        const map = await h.api.inside.classMap(runId, { testIndex: 0 }, method, (predicted + 1) % 10);
        assert.deepEqual([map.width, map.height, map.values.length, map.classIndex], [28, 28, 784, (predicted + 1) % 10]);
        assert.ok(map.values.every((v) => v >= 0));
      }
      const kernels = await h.api.inside.kernels(runId);
      assert.ok(kernels.filters.length > 0 && kernels.filters[0]!.values.length === kernels.filters[0]!.width * kernels.filters[0]!.height);
      const [excited] = await h.api.inside.exciteFilters(runId, conv.name, [0]);
      assert.equal(excited!.values.length, 784);
      const a = await h.api.inside.embedding(runId, 'pca', 2);
      const b = await h.api.inside.embedding(runId, 'pca', 2);
      assert.equal(a.x.length, 200);
      assert.deepEqual(a, b);
      await assert.rejects(h.api.inside.classMap(runId, { testIndex: 0 }, 'gradcam', 10), (err: Error) => err.name === 'RangeError' && /class 10 does not exist/.test(err.message));
      await assert.rejects(h.api.inside.activations(runId, { testIndex: 5000 }), (err: Error) => /test image 5000 does not exist: the run's test set has 200/.test(err.message));
    });

    it('lists the runs and reads one back', async () => {
      const runs = await h.api.runs.listRuns();
      for (const id of runIds) assert.ok(runs.some((r) => r.id === id), `run ${id} missing from ${runs.map((r) => r.id).join(', ')}`);
      const detail = await h.api.runs.getRun(runIds[0]!);
      assert.equal(detail.status, 'completed');
      assert.equal(detail.history.length, detail.epochsRun);
      assert.equal(detail.spec.config.name, readExample('small-cnn').config.name);
      assert.ok(detail.evaluation, 'evaluation saved');
      const stopped = await h.api.runs.getRun(runIds[1]!);
      assert.equal(stopped.status, 'stopped');
      await assert.rejects(h.api.runs.getRun('no-such-run'), (err: Error) => err.name === 'RunNotFoundError' && err.message.includes('no-such-run'));
    });

    it('continues a stopped run from its last checkpoint to the end; refuses a run that cannot continue, saying why', async () => {
      await assert.rejects(h.api.training.continueRun(runIds[1]!), (err: Error) => err.name === 'ResumeError' && /no checkpoint/.test(err.message));
      await assert.rejects(h.api.training.continueRun(runIds[0]!), (err: Error) => err.name === 'ResumeError' && /ended completed/.test(err.message));
      const request = { spec: readExample('small-cnn'), hyperparameters: shortRun(4, 32), datasetId: 'fashion-mnist', limitTrain: 600, limitTest: 200 };
      const { runId } = await h.api.training.startTraining(request);
      await log.until(() => log.of(runId).some((e) => e.kind === 'epoch'), 'epoch 1');
      await h.api.training.stopTraining(runId);
      const stopped = (await log.end(runId)).value as TrainingFinished;
      assert.equal(stopped.status, 'stopped');
      assert.ok(stopped.epochsRun >= 1 && stopped.epochsRun < 4, `stopped after ${stopped.epochsRun} epochs`);
      const seen = log.of(runId).length;
      assert.deepEqual(await h.api.training.continueRun(runId), { runId }, 'the same run continues');
      const later = () => log.of(runId).slice(seen);
      await log.until(() => later().some((e) => e.kind === 'finished' || e.kind === 'failed'), 'the continued run to end');
      const end = later().find((e) => e.kind === 'finished' || e.kind === 'failed')!;
      assert.equal(end.kind, 'finished', JSON.stringify(end.value));
      assert.equal((end.value as TrainingFinished).epochsRun, 4);
      assert.deepEqual(
        later().filter((e) => e.kind === 'epoch').map((e) => (e.value as EpochResult).epoch),
        Array.from({ length: 4 - stopped.epochsRun }, (_, i) => stopped.epochsRun + 1 + i),
        'only the epochs after the checkpoint train',
      );
      const detail = await h.api.runs.getRun(runId);
      assert.deepEqual(detail.history.map((e) => e.epoch), [1, 2, 3, 4]);
      assert.equal(detail.error, null);
    });

    it('renames, annotates and deletes a run', async () => {
      const id = runIds[1]!;
      const named = await h.api.runs.annotateRun(id, { title: 'stopped early on purpose', notes: 'pause / resume / stop check' });
      assert.equal(named.title, 'stopped early on purpose');
      assert.equal((await h.api.runs.listRuns()).find((r) => r.id === id)?.notes, 'pause / resume / stop check');
      await h.api.runs.deleteRun(id);
      assert.equal((await h.api.runs.listRuns()).some((r) => r.id === id), false);
      await assert.rejects(h.api.runs.deleteRun(id), (err: Error) => err.name === 'RunNotFoundError');
    });
  });
}
