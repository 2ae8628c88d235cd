import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { EpochEvent } from '../../shared/contract';
import type { MonitorName } from '../../shared/spec';
import { CallbackList, EarlyStopping, ReduceLROnPlateau, resolveMode, type Callback, type TrainerHandle } from './callbacks';
import { getLearningRate } from '../model';
import { ModelTrainerHandle } from './handle';

/** A trainer with no model: records what callbacks do to it. */
class ScriptedTrainer implements TrainerHandle {
  stopTraining = false;
  lr: number;
  events: EpochEvent[][] = [];
  lines: string[] = [];
  constructor(lr = 1e-3) {
    this.lr = lr;
  }
  getWeights(): tf.Tensor[] {
    return [];
  }
  setWeights(): void {}
  getLearningRate(): number {
    return this.lr;
  }
  setLearningRate(lr: number): void {
    this.lr = lr;
  }
  addEvent(e: EpochEvent): void {
    this.events[this.events.length - 1]!.push(e);
  }
  log(line: string): void {
    this.lines.push(line);
  }
}

/** Feeds `values` of `monitor` epoch by epoch as Keras' fit would; returns the epochs run and the lr after each. */
async function script(callback: Callback, monitor: MonitorName, values: number[], trainer = new ScriptedTrainer()) {
  const list = new CallbackList([callback]);
  list.setTrainer(trainer);
  await list.onTrainBegin();
  const lrs: number[] = [];
  let epochs = 0;
  for (let epoch = 0; epoch < values.length; epoch++) {
    trainer.events.push([]);
    await list.onEpochBegin(epoch);
    await list.onEpochEnd(epoch, { [monitor]: values[epoch] });
    lrs.push(trainer.lr);
    epochs++;
    if (trainer.stopTraining) break;
  }
  await list.onTrainEnd();
  list.dispose();
  return { epochs, lrs, trainer };
}

describe('resolveMode', () => {
  it("infers 'auto' like Keras: losses min, accuracies max", () => {
    assert.equal(resolveMode('val_loss', 'auto'), 'min');
    assert.equal(resolveMode('loss', 'auto'), 'min');
    assert.equal(resolveMode('val_accuracy', 'auto'), 'max');
    assert.equal(resolveMode('accuracy', 'auto'), 'max');
    assert.equal(resolveMode('val_loss', 'max'), 'max');
  });
});

describe('EarlyStopping (Keras semantics)', () => {
  const base = { monitor: 'val_loss' as const, mode: 'min' as const, min_delta: 0, restore_best_weights: false };

  it('counts wait before the improvement test and stops when wait reaches patience', async () => {
    const es = new EarlyStopping({ ...base, patience: 2 });
    // e0 best=1, e1 best=0.9, e2 wait=1, e3 wait=2 -> stop after epoch index 3 (4 epochs run).
    const { epochs, trainer } = await script(es, 'val_loss', [1.0, 0.9, 0.95, 0.96, 0.5, 0.4]);
    assert.equal(epochs, 4);
    assert.equal(es.stoppedEpoch, 3);
    assert.equal(es.bestEpoch, 1);
    assert.equal(es.best, 0.9);
    assert.deepEqual(trainer.events[3], [{ kind: 'early_stop', bestEpoch: 2, restored: false }]);
    assert.deepEqual(trainer.events[1], [{ kind: 'best', monitor: 'val_loss', value: 0.9 }]);
  });

  it('patience 0 stops at the first epoch without improvement, never at epoch 0', async () => {
    const es = new EarlyStopping({ ...base, patience: 0 });
    const { epochs } = await script(es, 'val_loss', [1.0, 1.0, 0.5]);
    assert.equal(epochs, 2);
  });

  it('min_delta: a gain smaller than |min_delta| is no improvement, and its sign is ignored (max mode)', async () => {
    for (const minDelta of [0.01, -0.01]) {
      const es = new EarlyStopping({ monitor: 'val_accuracy', mode: 'max', patience: 2, min_delta: minDelta, restore_best_weights: false });
      // 0.505 and 0.509 are within 0.01 of 0.5: wait reaches 2 at epoch index 2.
      const { epochs } = await script(es, 'val_accuracy', [0.5, 0.505, 0.509, 0.52]);
      assert.equal(epochs, 3, `min_delta ${minDelta}`);
      assert.equal(es.best, 0.5);
    }
  });

  it('min_delta in min mode: current + |min_delta| must still be below best', async () => {
    const es = new EarlyStopping({ ...base, patience: 1, min_delta: 0.05 });
    // 0.96 is not an improvement over 1.0 by 0.05 -> stops at epoch index 1; 0.94 would have been.
    const { epochs } = await script(es, 'val_loss', [1.0, 0.96, 0.5]);
    assert.equal(epochs, 2);
    const es2 = new EarlyStopping({ ...base, patience: 1, min_delta: 0.05 });
    const r2 = await script(es2, 'val_loss', [1.0, 0.94, 0.93]);
    assert.equal(r2.epochs, 3);
    assert.equal(es2.best, 0.94);
  });

  it("mode 'auto' maximises val_accuracy", async () => {
    const es = new EarlyStopping({ monitor: 'val_accuracy', mode: 'auto', patience: 1, min_delta: 0, restore_best_weights: false });
    const { epochs } = await script(es, 'val_accuracy', [0.5, 0.6, 0.55, 0.9]);
    assert.equal(epochs, 3);
    assert.equal(es.bestEpoch, 1);
  });

  it('baseline: improvements that do not beat the baseline keep wait counting', async () => {
    const es = new EarlyStopping({ monitor: 'val_accuracy', mode: 'max', patience: 2, min_delta: 0, restore_best_weights: false, baseline: 0.9 });
    // e0 improves (-inf) but not the baseline -> wait 1; e1 no improvement -> wait 2 >= 2 -> stop.
    const { epochs } = await script(es, 'val_accuracy', [0.5, 0.4, 0.95]);
    assert.equal(epochs, 2);
    const es2 = new EarlyStopping({ monitor: 'val_accuracy', mode: 'max', patience: 2, min_delta: 0, restore_best_weights: false, baseline: 0.9 });
    // Beating the baseline resets wait.
    const r2 = await script(es2, 'val_accuracy', [0.5, 0.95, 0.94, 0.93, 0.92]);
    assert.equal(r2.epochs, 4);
  });

  it('the lesson setting (val_accuracy, max, patience 5) runs 5 epochs past the best', async () => {
    const es = new EarlyStopping({ monitor: 'val_accuracy', mode: 'max', patience: 5, min_delta: 0, restore_best_weights: true });
    const values = [0.85, 0.88, 0.9, 0.91, 0.905, 0.91, 0.909, 0.9, 0.908, 0.93];
    const { epochs } = await script(es, 'val_accuracy', values);
    // Best at index 3 (0.91; the later 0.91 is not strictly greater) -> stop at index 8.
    assert.equal(epochs, 9);
    assert.equal(es.bestEpoch, 3);
    assert.equal(es.stoppedEpoch, 8);
  });

  it('a missing monitor is skipped with a log line, like Keras warns', async () => {
    const es = new EarlyStopping({ ...base, patience: 0 });
    const { epochs, trainer } = await script(es, 'loss', [1, 2, 3]);
    assert.equal(epochs, 3);
    assert.match(trainer.lines[0]!, /val_loss/);
  });
});

describe('EarlyStopping restore_best_weights on a real model', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  function tinyModel(): tf.Sequential {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], kernelInitializer: 'zeros' }), tf.layers.batchNormalization()] });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
    return model;
  }

  /** Sets every weight to `value`, standing in for an epoch of training. */
  function fill(model: tf.LayersModel, value: number): void {
    const ws = model.getWeights().map((w) => tf.fill(w.shape, value));
    model.setWeights(ws);
    tf.dispose(ws);
  }

  async function runScripted(values: number[], restore: boolean, patience: number) {
    const model = tinyModel();
    const handle = new ModelTrainerHandle(model);
    const es = new EarlyStopping({ monitor: 'val_loss', mode: 'min', patience, min_delta: 0, restore_best_weights: restore });
    const list = new CallbackList([es]);
    list.setTrainer(handle);
    await list.onTrainBegin();
    for (let epoch = 0; epoch < values.length; epoch++) {
      fill(model, epoch + 1); // "after epoch e the weights are all e+1"
      await list.onEpochEnd(epoch, { val_loss: values[epoch] });
      if (handle.stopTraining) break;
    }
    await list.onTrainEnd();
    list.dispose();
    return { model, es };
  }

  it('restores every weight (incl. BatchNorm moving statistics) to the best epoch when stopped early', async () => {
    const before = tf.memory().numTensors;
    const { model, es } = await runScripted([0.5, 0.3, 0.4, 0.6, 0.7, 0.1], true, 2);
    assert.equal(es.stoppedEpoch, 3);
    assert.equal(es.restored, true);
    for (const w of model.getWeights()) assert.ok((await w.data()).every((v) => v === 2), 'weights of epoch index 1');
    assert.equal(model.getWeights().length, 6, 'kernel, bias, gamma, beta, moving mean, moving variance');
    model.dispose();
    model.optimizer.dispose(); // a passed-in optimizer is not owned by the model
    assert.equal(tf.memory().numTensors, before, 'no tensors leaked by the best-weights copies');
  });

  it('restores at the end of a full run when the best epoch is not the last', async () => {
    const { model, es } = await runScripted([0.5, 0.2, 0.4], true, 10);
    assert.equal(es.stoppedEpoch, 0);
    for (const w of model.getWeights()) assert.ok((await w.data()).every((v) => v === 2));
    model.dispose();
  });

  it('keeps the last weights without restore_best_weights', async () => {
    const { model } = await runScripted([0.5, 0.3, 0.4, 0.6, 0.7], false, 2);
    for (const w of model.getWeights()) assert.ok((await w.data()).every((v) => v === 4));
    model.dispose();
  });
});

describe('ReduceLROnPlateau (Keras semantics)', () => {
  const lesson = { monitor: 'val_loss' as const, mode: 'min' as const, factor: 0.5, patience: 2, min_lr: 1e-5, min_delta: 1e-4, cooldown: 0 };

  it('halves the rate after `patience` epochs without an improvement larger than min_delta', async () => {
    const rlr = new ReduceLROnPlateau(lesson);
    // e1 improves; e2 (0.89995) is within min_delta of 0.9 -> wait 1; e3 wait 2 -> 5e-4; e4 improves; e5, e6 -> 2.5e-4.
    const { lrs, trainer } = await script(rlr, 'val_loss', [1.0, 0.9, 0.89995, 0.9, 0.8, 0.85, 0.85]);
    assert.deepEqual(lrs, [1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 5e-4, 2.5e-4]);
    assert.deepEqual(trainer.events[3], [{ kind: 'lr_reduced', from: 1e-3, to: 5e-4 }]);
  });

  it('cooldown: resets wait during the cooldown epochs, then counts again', async () => {
    const rlr = new ReduceLROnPlateau({ ...lesson, patience: 1, cooldown: 2 });
    // e1: wait 1 -> reduce, cooldown 2. e2: cooldown->1, wait 0, in cooldown: no count. e3: cooldown->0, wait 0,
    // not in cooldown -> wait 1 -> reduce. e4: cooldown 2->1 ...
    const { lrs } = await script(rlr, 'val_loss', [1, 1, 1, 1, 1, 1]);
    const r = (n: number) => 1e-3 * 0.5 ** n;
    assert.deepEqual(lrs, [1e-3, r(1), r(1), r(2), r(2), r(3)]);
  });

  it('never goes below min_lr and stops reducing once there', async () => {
    const rlr = new ReduceLROnPlateau({ ...lesson, patience: 1 });
    const { lrs, trainer } = await script(rlr, 'val_loss', [1, 1, 1, 1, 1], new ScriptedTrainer(3e-5));
    assert.equal(lrs[1], 1.5e-5);
    assert.equal(lrs[2], 1e-5);
    assert.equal(lrs[3], 1e-5);
    assert.equal(lrs[4], 1e-5);
    assert.equal(trainer.events.flat().length, 2, 'only two real reductions are reported');
  });

  it("mode 'auto' on val_accuracy treats a rise as improvement", async () => {
    const rlr = new ReduceLROnPlateau({ ...lesson, monitor: 'val_accuracy', mode: 'auto', patience: 1, min_delta: 0 });
    const { lrs } = await script(rlr, 'val_accuracy', [0.5, 0.6, 0.7, 0.65]);
    assert.deepEqual(lrs.slice(0, 3), [1e-3, 1e-3, 1e-3]);
    assert.ok(lrs[3]! < 1e-3);
  });

  it('rejects factor >= 1 naming the value', () => {
    assert.throws(() => new ReduceLROnPlateau({ ...lesson, factor: 1 }), /factor=1/);
  });

  it('changes a real SGD optimizer in place (it caches -lr in a tensor)', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    const sgd = tf.train.sgd(0.1);
    model.compile({ optimizer: sgd, loss: 'meanSquaredError' });
    const handle = new ModelTrainerHandle(model);
    handle.setLearningRate(0.05);
    assert.equal(getLearningRate(sgd), 0.05);
    // SGD caches -lr in a tensor: one step from w with gradient g must move by 0.05·g, not 0.1·g.
    model.setWeights([tf.tensor2d([[1]]), tf.tensor1d([0])]);
    await model.trainOnBatch(tf.tensor2d([[1]]), tf.tensor2d([[0]]));
    const w = (await model.getWeights()[0]!.data())[0]!;
    // loss = (w·1 + 0)^2, gradient 2w = 2 -> w = 1 - 0.05·2 = 0.9
    assert.ok(Math.abs(w - 0.9) < 1e-6, `w=${w}`);
    model.dispose();
  });
});
