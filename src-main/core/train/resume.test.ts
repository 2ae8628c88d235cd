/**
 * BackupAndRestore and the divergence guard: a run interrupted after an epoch and resumed from its checkpoint
 * ends with exactly the weights and history of the same run left alone; a diverging run stops 'diverged' with
 * the best epoch's weights evaluated and saved.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EpochResult } from '../../shared/contract';
import { LESSON_HYPERPARAMETERS, SPEC_FORMAT_VERSION, type Hyperparameters, type ModelSpec } from '../../shared/spec';
import { loadDataset, type Dataset } from '../data';
import { getTemplate, MemoryBudgetError } from '../model';
import { readCheckpoint } from '../runs/checkpoint';
import { loadResumableRun, ResumeError } from '../runs/resume';
import { RunStore } from '../runs/store';
import { TrainControl } from './control';
import { runTraining } from './train';

// BatchNorm and Dropout: their moving statistics and masks must continue exactly too.
const SPEC: ModelSpec = {
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  config: {
    name: 'resume_cnn',
    layers: [
      { class_name: 'InputLayer', config: { shape: [28, 28, 1] } },
      { class_name: 'Conv2D', config: { filters: 4, kernel_size: 3, strides: 2, activation: 'relu' } },
      { class_name: 'BatchNormalization', config: {} },
      { class_name: 'MaxPooling2D', config: { pool_size: 2 } },
      { class_name: 'Dropout', config: { rate: 0.25 } },
      { class_name: 'Flatten', config: {} },
      { class_name: 'Dense', config: { units: 10, activation: 'softmax' } },
    ],
  },
};

// ReduceLROnPlateau with patience 0 lowers the rate after any epoch without improvement, so the resumed run
// must also get the rate and the callbacks' counters back, not only weights and Adam's moments.
function hp(over: Partial<Hyperparameters> = {}): Hyperparameters {
  const base = structuredClone(LESSON_HYPERPARAMETERS);
  return {
    ...base,
    batch_size: 50,
    epochs: 5,
    reduce_lr_on_plateau: { ...base.reduce_lr_on_plateau!, monitor: 'val_accuracy', mode: 'max', patience: 0 },
    ...over,
  };
}

let tmp: string;
let data: Dataset;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'resume-test-'));
  data = await loadDataset(undefined, { limitTrain: 600, limitTest: 200, download: false });
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const strip = (h: EpochResult[]) => h.map(({ loss, accuracy, val_loss, val_accuracy, learningRate, events }) => ({ loss, accuracy, val_loss, val_accuracy, learningRate, events }));

/** The same run left alone, and interrupted during epoch `stopIn` then resumed: history, weights, evaluation. */
async function compare(name: string, spec: ModelSpec, h: Hyperparameters, stopIn: number) {
  const whole = await runTraining({ spec, hyperparameters: h, dataset: data, runsDir: path.join(tmp, name, 'whole') });
  const runsDir = path.join(tmp, name, 'interrupted');
  const control = new TrainControl();
  const first = await runTraining(
    { spec, hyperparameters: h, dataset: data, runsDir },
    { onBatch: (p) => p.epoch === stopIn && p.batch === 3 && control.stop() },
    control,
  );
  assert.equal(first.status, 'stopped');
  assert.equal(first.epochsRun, stopIn - 1);
  const resumable = await loadResumableRun(runsDir, first.runId);
  assert.equal(resumable.checkpoint.epoch, stopIn - 1);
  const epochs: number[] = [];
  const resumed = await runTraining(
    { spec: resumable.spec, hyperparameters: resumable.hyperparameters, dataset: data, runsDir, resume: resumable },
    { onEpoch: (e) => epochs.push(e.epoch) },
  );
  assert.equal(resumed.runId, first.runId, 'the same run continues');
  assert.deepEqual(epochs, Array.from({ length: whole.epochsRun - stopIn + 1 }, (_, i) => stopIn + i), 'epochs continue from the checkpoint');
  const a = await new RunStore(path.join(tmp, name, 'whole')).get(whole.runId);
  const b = await new RunStore(runsDir).get(first.runId);
  assert.equal(b.status, whole.status);
  assert.deepEqual(strip(b.history), strip(a.history));
  const wa = await fs.readFile(path.join(tmp, name, 'whole', whole.runId, 'model', 'weights.bin'));
  const wb = await fs.readFile(path.join(runsDir, first.runId, 'model', 'weights.bin'));
  assert.ok(wa.equals(wb), 'interrupted + resumed = uninterrupted: the saved weights are byte for byte the same');
  assert.equal(resumed.evaluation.testLoss, whole.evaluation.testLoss);
  assert.deepEqual(resumed.evaluation.confusionMatrix, whole.evaluation.confusionMatrix);
  return { whole, resumed, a };
}

describe('resume from a checkpoint', () => {
  it('fused native step (Adam, BatchNorm, Dropout, ReduceLROnPlateau): interrupted in epoch 3 + resumed = uninterrupted', async () => {
    const { a } = await compare('fused', SPEC, hp(), 3);
    assert.ok(a.history.some((e) => e.events.some((ev) => ev.kind === 'lr_reduced')), 'the learning rate was reduced on the way (the test covers it)');
  });

  it('tfjs layers step (its optimizer slots and iteration count): interrupted in epoch 2 + resumed = uninterrupted', async () => {
    // tfjs' own Dropout draws unseeded masks, so this path is compared without Dropout.
    const spec = structuredClone(SPEC);
    spec.config.layers.splice(4, 1);
    process.env.CNN_WORKBENCH_FUSED = '0';
    try {
      await compare('tfjs', spec, hp({ epochs: 3 }), 2);
    } finally {
      delete process.env.CNN_WORKBENCH_FUSED;
    }
  });

  it('augmentation (native pass in front of the fused step): interrupted in epoch 2 + resumed = uninterrupted (the layers\' generators are checkpointed)', async () => {
    const spec = structuredClone(SPEC);
    spec.config.layers.splice(1, 0, { class_name: 'RandomFlip', config: { mode: 'horizontal' } }, { class_name: 'RandomTranslation', config: { height_factor: 0.1, width_factor: 0.1 } });
    await compare('augmented', spec, hp({ epochs: 3 }), 2);
  });

  it('refuses what cannot be resumed, saying why', async () => {
    const runsDir = path.join(tmp, 'refuse');
    const done = await runTraining({ spec: SPEC, hyperparameters: hp({ epochs: 1 }), dataset: data, runsDir });
    await assert.rejects(loadResumableRun(runsDir, done.runId), (err: unknown) => {
      assert.ok(err instanceof ResumeError);
      assert.match(err.message, /ended completed: only a failed or stopped run can be resumed/);
      return true;
    });
    assert.equal(existsSync(path.join(runsDir, done.runId, 'checkpoint.bin')), false, 'a finished run keeps no checkpoint');
    const control = new TrainControl();
    const early = await runTraining({ spec: SPEC, hyperparameters: hp(), dataset: data, runsDir }, { onBatch: () => control.stop() }, control);
    await assert.rejects(loadResumableRun(runsDir, early.runId), /no checkpoint .*no epoch finished before it stopped/);
  });
});

describe('divergence guard', () => {
  it('a learning rate of 10 ends diverged (not completed), with the best epoch evaluated and saved', async () => {
    const runsDir = path.join(tmp, 'diverge');
    const h = hp({ optimizer: { class_name: 'adam', config: { learning_rate: 10 } }, epochs: 20, reduce_lr_on_plateau: null });
    const logs: string[] = [];
    const r = await runTraining({ spec: SPEC, hyperparameters: h, dataset: data, runsDir }, { onLog: (l) => logs.push(l) });
    assert.equal(r.status, 'diverged');
    assert.ok(r.epochsRun < 20, `stopped early (after ${r.epochsRun} epochs)`);
    assert.match(r.message!, /^the training diverged: .*(at chance|loss (became|stayed)|weights became).*try a lower learning rate \(it was 10\)/);
    assert.ok(r.bestEpoch !== null && r.bestEpoch >= 1 && r.bestEpoch <= r.epochsRun);
    const detail = await new RunStore(runsDir).get(r.runId);
    assert.equal(detail.status, 'diverged');
    assert.equal(detail.error!.message, r.message);
    assert.ok(existsSync(path.join(runsDir, r.runId, 'model', 'weights.bin')), 'the best weights are saved');
    assert.equal(detail.evaluation!.testCount, 200);
    assert.ok(logs.some((l) => l.startsWith('Stopped: the training diverged')), logs.join('\n'));
  });

  it('accuracy at chance for `patience` epochs stops the run; null turns the guard off', async () => {
    // A learning rate too small to move: every epoch at chance (the margin is wide enough to catch it).
    const frozen = { optimizer: { class_name: 'sgd' as const, config: { learning_rate: 1e-12 } }, early_stopping: null, reduce_lr_on_plateau: null };
    const runsDir = path.join(tmp, 'chance');
    const r = await runTraining({
      spec: SPEC,
      hyperparameters: hp({ ...frozen, epochs: 6, divergence: { patience: 2, loss_ceiling_fraction: 1, chance_margin: 0.9 } }),
      dataset: data,
      runsDir,
    });
    assert.equal(r.status, 'diverged');
    assert.equal(r.epochsRun, 2);
    assert.match(r.message!, /val_accuracy stayed at chance .* for 2 epoch\(s\)/);
    const off = await runTraining({ spec: SPEC, hyperparameters: hp({ ...frozen, epochs: 3, divergence: null }), dataset: data, runsDir });
    assert.equal(off.status, 'completed');
    assert.equal(off.epochsRun, 3);
  });

  it('a checkpoint holds weights, optimizer slots and the callbacks of the last epoch', async () => {
    const runsDir = path.join(tmp, 'ckpt');
    const control = new TrainControl();
    const r = await runTraining({ spec: SPEC, hyperparameters: hp(), dataset: data, runsDir }, { onEpoch: () => control.stop() }, control);
    const ckpt = await readCheckpoint(path.join(runsDir, r.runId));
    assert.ok(ckpt);
    assert.equal(ckpt.epoch, 1);
    assert.equal(ckpt.stepKind, 'fused');
    assert.equal(ckpt.arrays.filter((a) => a.group === 'weights').length, 8, 'conv kernel + bias, BN gamma, beta, mean, variance, dense kernel + bias');
    assert.ok(ckpt.arrays.filter((a) => a.group === 'optimizer').some((a) => a.data.some((v) => v !== 0)), "Adam's moments are saved");
    assert.equal(ckpt.callbacks.length, 3, 'EarlyStopping, ReduceLROnPlateau, the divergence guard');
  });
});

describe('memory follows the data, not the batch size (finding 3)', () => {
  it('batch 8,192 on 540 training images plans and allocates for 540 images; over the budget it is refused before any run folder', async () => {
    const small = getTemplate('small-cnn').spec;
    const runsDir = path.join(tmp, 'big-batch');
    const h = hp({ batch_size: 8192, epochs: 1, early_stopping: null, reduce_lr_on_plateau: null });
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    // The fused trainer's buffers for 8,192 images of this CNN are several GB; for 540 images, tens of MB.
    const r = await runTraining({ spec: small, hyperparameters: h, dataset: data, runsDir, memoryBudget: 512 * 2 ** 20 }, { onBatch: () => (peak = Math.max(peak, process.memoryUsage().rss)) });
    assert.equal(r.status, 'completed');
    assert.ok(peak - rss0 < 1024 * 2 ** 20, `RSS grew by ${((peak - rss0) / 2 ** 20).toFixed(0)} MB`);
    const refused = path.join(tmp, 'over-budget');
    await assert.rejects(runTraining({ spec: small, hyperparameters: h, dataset: data, runsDir: refused, memoryBudget: 2 ** 20 }), (err: unknown) => {
      assert.ok(err instanceof MemoryBudgetError);
      assert.match(err.message, /model 'small_cnn' needs ~[\d.]+ MB to train at batch 540 .*budget 1\.0 MB/);
      return true;
    });
    assert.equal(existsSync(refused), false);
  });
});
