import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { EpochResult } from '../../shared/contract';
import { LESSON_HYPERPARAMETERS, SPEC_FORMAT_VERSION, type Hyperparameters, type ModelSpec } from '../../shared/spec';
import { loadDataset, splitIndices, type Dataset } from '../data';
import { lossAndAccuracy } from '../eval/predict';
import { SpecError } from '../model';
import { loadSavedModel } from '../runs/model-io';
import { RunStore } from '../runs/store';
import { TrainControl } from './control';
import { HyperparameterError } from './hyperparameters';
import { runTraining, TrainingError } from './train';

// A deliberately tiny CNN (a few hundred parameters) so each run here takes a second or two on any backend.
const TINY: ModelSpec = {
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  config: {
    name: 'tiny_cnn',
    layers: [
      { class_name: 'InputLayer', config: { shape: [28, 28, 1] } },
      { class_name: 'Conv2D', config: { filters: 4, kernel_size: 3, strides: 2, activation: 'relu' } },
      { class_name: 'MaxPooling2D', config: { pool_size: 2 } },
      { class_name: 'Flatten', config: {} },
      { class_name: 'Dense', config: { units: 10, activation: 'softmax' } },
    ],
  },
};

function hp(over: Partial<Hyperparameters> = {}): Hyperparameters {
  return { ...structuredClone(LESSON_HYPERPARAMETERS), batch_size: 50, epochs: 1, ...over };
}

let tmp: string;
let data: Dataset;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'train-test-'));
  // Real Fashion-MNIST (Debian dataset-fashion-mnist), first 500 training and 200 test images.
  data = await loadDataset(undefined, { limitTrain: 500, limitTest: 200, download: false });
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const dirOf = (name: string) => path.join(tmp, name);

describe('runTraining', () => {
  it('same seed ⇒ same split, initial weights and shuffles: identical epoch-1 results', async () => {
    const a: EpochResult[] = [];
    const b: EpochResult[] = [];
    await runTraining({ spec: TINY, hyperparameters: hp(), dataset: data, runsDir: dirOf('seed') }, { onEpoch: (e) => a.push(e) });
    await runTraining({ spec: TINY, hyperparameters: hp(), dataset: data, runsDir: dirOf('seed') }, { onEpoch: (e) => b.push(e) });
    assert.equal(a[0]!.loss, b[0]!.loss);
    assert.equal(a[0]!.val_loss, b[0]!.val_loss);
    const c: EpochResult[] = [];
    await runTraining({ spec: TINY, hyperparameters: hp({ seed: 7 }), dataset: data, runsDir: dirOf('seed') }, { onEpoch: (e) => c.push(e) });
    assert.notEqual(c[0]!.loss, a[0]!.loss, 'another seed trains differently');
  });

  it('same seed ⇒ identical runs with Dropout and BatchNorm too, on the fused native step (its masks are seeded)', async () => {
    const spec: ModelSpec = structuredClone(TINY);
    spec.config.layers.splice(2, 0, { class_name: 'BatchNormalization', config: {} }, { class_name: 'Dropout', config: { rate: 0.3 } });
    const run = async (seed: number) => {
      const epochs: EpochResult[] = [];
      const logs: string[] = [];
      const r = await runTraining(
        { spec, hyperparameters: hp({ epochs: 2, seed }), dataset: data, runsDir: dirOf('seed-dropout') },
        { onEpoch: (e) => epochs.push(e), onLog: (l) => logs.push(l) },
      );
      return { losses: epochs.map((e) => [e.loss, e.val_loss]), test: r.evaluation.testLoss, logs };
    };
    const a = await run(123);
    assert.ok(a.logs.some((l) => l.startsWith('Training step: fused native')), `expected the fused step: ${a.logs.join(' | ')}`);
    const again = await run(123);
    assert.deepEqual([again.losses, again.test], [a.losses, a.test]);
    assert.notDeepEqual((await run(5)).losses, a.losses);
  });

  it('keeps the tensor count stable across epochs and frees everything at the end', async () => {
    const start = tf.memory().numTensors;
    const counts: number[] = [];
    const r = await runTraining(
      { spec: TINY, hyperparameters: hp({ epochs: 4, early_stopping: { ...LESSON_HYPERPARAMETERS.early_stopping!, patience: 10 } }), dataset: data, runsDir: dirOf('mem') },
      { onEpoch: () => counts.push(tf.memory().numTensors) },
    );
    assert.equal(r.epochsRun, 4);
    // Epoch 1 creates the optimizer's slots and the first best-weights copy; after that nothing may grow.
    assert.equal(new Set(counts.slice(1)).size, 1, `tensors after each epoch: ${counts.join(', ')}`);
    assert.equal(tf.memory().numTensors, start, 'model, optimizer and best weights disposed');
  });

  it('writes the run folder: history per epoch, evaluation, model, status', async () => {
    const batches: number[] = [];
    const r = await runTraining(
      { spec: TINY, hyperparameters: hp({ epochs: 2 }), dataset: data, runsDir: dirOf('folder'), limitTrain: 500, limitTest: 200 },
      { onBatch: (p) => batches.push(p.batch) },
    );
    assert.equal(r.status, 'completed');
    // 500 images, 10% validation -> 450 training images -> 9 batches of 50 per epoch.
    assert.deepEqual(batches, [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const detail = await new RunStore(dirOf('folder')).get(r.runId);
    assert.equal(detail.status, 'completed');
    assert.equal(detail.history.length, 2);
    assert.equal(detail.evaluation!.testCount, 200);
    assert.equal(detail.evaluation!.confusionMatrix.flat().reduce((s, v) => s + v, 0), 200);
    assert.equal(detail.testAccuracy, r.evaluation.testAccuracy);
    const run = JSON.parse(await fs.readFile(path.join(dirOf('folder'), r.runId, 'run.json'), 'utf8'));
    assert.deepEqual(run.limits, { train: 500, test: 200 });
    assert.deepEqual(run.counts, { train: 450, validation: 50, test: 200 });
    assert.equal(run.dataset.fingerprint, data.info.fingerprint);
  });

  it('stop mid-epoch: status stopped, the partial epoch dropped, the best epoch restored and evaluated', async () => {
    const control = new TrainControl();
    const runsDir = dirOf('stop');
    const r = await runTraining(
      {
        spec: TINY,
        hyperparameters: hp({ epochs: 10, early_stopping: { ...LESSON_HYPERPARAMETERS.early_stopping!, patience: 10 } }),
        dataset: data,
        runsDir,
      },
      { onBatch: (p) => p.epoch === 3 && p.batch === 4 && control.stop() },
      control,
    );
    assert.equal(r.status, 'stopped');
    assert.equal(r.epochsRun, 2);
    const detail = await new RunStore(runsDir).get(r.runId);
    assert.equal(detail.status, 'stopped');
    const vals = detail.history.map((e) => e.val_accuracy!);
    const best = vals.indexOf(Math.max(...vals)) + 1;
    assert.equal(r.bestEpoch, best);
    // The saved model holds the best epoch's weights: its validation accuracy is exactly that epoch's.
    const model = await loadSavedModel(path.join(runsDir, r.runId, 'model'));
    const split = splitIndices(data.train.count, 0.1, 123);
    const v = await lossAndAccuracy(model, data.train, split.validation, data.info.classNames);
    assert.equal(v.accuracy, vals[best - 1]);
    assert.ok(Math.abs(v.loss - detail.history[best - 1]!.val_loss!) < 1e-6);
    // ... and the reported test metrics are those of the restored model.
    const t = await lossAndAccuracy(model, data.test, null, data.info.classNames);
    assert.equal(t.accuracy, r.evaluation.testAccuracy);
    model.dispose();
  });

  it('stop requested at an epoch end trains no further batch', async () => {
    const control = new TrainControl();
    const batches: string[] = [];
    const r = await runTraining(
      { spec: TINY, hyperparameters: hp({ epochs: 5 }), dataset: data, runsDir: dirOf('stop-epoch') },
      { onBatch: (p) => batches.push(`${p.epoch}.${p.batch}`), onEpoch: (e) => e.epoch === 2 && control.stop() },
      control,
    );
    assert.equal(r.status, 'stopped');
    assert.equal(r.epochsRun, 2);
    assert.equal(batches[batches.length - 1], '2.9');
  });

  it('a stop from a timer or signal handler (not a training callback) lands mid-epoch', async () => {
    const control = new TrainControl();
    const batches: { epoch: number; batch: number; of: number }[] = [];
    const r = await runTraining(
      { spec: TINY, hyperparameters: hp({ batch_size: 5, epochs: 3 }), dataset: data, runsDir: dirOf('stop-timer') },
      {
        onBatch: (p) => {
          batches.push({ epoch: p.epoch, batch: p.batch, of: p.batchesPerEpoch });
          // As Ctrl-C in the CLI or a worker's message port would: a macrotask, outside the training loop.
          if (batches.length === 3) setTimeout(() => control.stop(), 0);
        },
      },
      control,
    );
    assert.equal(r.status, 'stopped');
    const last = batches[batches.length - 1]!;
    assert.equal(last.epoch, 1, 'stopped within the first epoch');
    assert.ok(last.batch < last.of, `stopped after batch ${last.batch} of ${last.of}`);
  });

  it('pause holds between batches (run.json says paused) and resume continues', async () => {
    const control = new TrainControl();
    const runsDir = dirOf('pause');
    let runId = '';
    let statusWhilePaused = '';
    await runTraining(
      { spec: TINY, hyperparameters: hp(), dataset: data, runsDir },
      {
        onStart: (id) => (runId = id),
        onBatch: (p) => {
          if (p.batch !== 2) return;
          control.pause();
          setTimeout(async () => {
            statusWhilePaused = JSON.parse(await fs.readFile(path.join(runsDir, runId, 'run.json'), 'utf8')).status;
            control.resume();
          }, 300);
        },
      },
      control,
    );
    assert.equal(statusWhilePaused, 'paused');
    assert.equal((await new RunStore(runsDir).get(runId)).status, 'completed');
  });

  it('a NaN before any epoch finished throws TrainingError naming epoch and batch, and marks the run failed (no weights worth keeping)', async () => {
    const runsDir = dirOf('nan');
    const h = hp({ optimizer: { class_name: 'sgd', config: { learning_rate: 1e38 } }, epochs: 3 });
    await assert.rejects(runTraining({ spec: TINY, hyperparameters: h, dataset: data, runsDir }), (err: unknown) => {
      assert.ok(err instanceof TrainingError);
      assert.match(err.message, /^the training diverged: (the loss|the weights) became (NaN|Infinity|-Infinity|NaN or infinite) at epoch 1, batch \d+.*try a lower learning rate/);
      return true;
    });
    const [run] = await new RunStore(runsDir).list();
    assert.equal(run!.status, 'failed');
    const detail = await new RunStore(runsDir).get(run!.id);
    assert.match(detail.error!.message, /became NaN/);
  });

  it('bad hyperparameters, a bad spec or a model that does not fit the data: clear error, no run folder', async () => {
    const runsDir = dirOf('invalid');
    await assert.rejects(runTraining({ spec: TINY, hyperparameters: hp({ batch_size: 0 }), dataset: data, runsDir }), HyperparameterError);
    const bad = structuredClone(TINY);
    bad.config.layers[1]!.config.filters = -3;
    await assert.rejects(runTraining({ spec: bad, hyperparameters: hp(), dataset: data, runsDir }), SpecError);
    const wrongInput = structuredClone(TINY);
    wrongInput.config.layers[0]!.config.shape = [32, 32, 1];
    await assert.rejects(runTraining({ spec: wrongInput, hyperparameters: hp(), dataset: data, runsDir }), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.match(err.message, /Layer 0 .*\[32, 32, 1\].*\[28, 28, 1\]/);
      return true;
    });
    const wrongOutput = structuredClone(TINY);
    wrongOutput.config.layers[4]!.config.units = 5;
    await assert.rejects(runTraining({ spec: wrongOutput, hyperparameters: hp(), dataset: data, runsDir }), /Layer 4 .*10 classes/);
    assert.equal(existsSync(runsDir), false);
  });

  it('a dilated convolution trains on the fused step, and is refused by name, before any run folder, without it', async () => {
    const dilated = structuredClone(TINY);
    dilated.config.layers[1]!.config = { filters: 4, kernel_size: 3, dilation_rate: 2, activation: 'relu' };
    const runsDir = dirOf('dilated');
    const r = await runTraining({ spec: dilated, hyperparameters: hp(), dataset: data, runsDir });
    assert.equal(r.status, 'completed');
    process.env.CNN_WORKBENCH_FUSED = '0';
    try {
      const refused = dirOf('dilated-refused');
      await assert.rejects(runTraining({ spec: dilated, hyperparameters: hp(), dataset: data, runsDir: refused }), (err: unknown) => {
        assert.ok(err instanceof SpecError);
        assert.match(err.message, /Layer 1 'conv2d': dilation_rate 2 trains only on the native backend's fused step .*CNN_WORKBENCH_FUSED=0/);
        return true;
      });
      assert.equal(existsSync(refused), false);
    } finally {
      delete process.env.CNN_WORKBENCH_FUSED;
    }
  });
});
