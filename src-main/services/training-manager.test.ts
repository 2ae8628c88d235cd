/**
 * The standby worker: after the backend probe a worker waits with tfjs, the backend and Fashion-MNIST loaded;
 * the next run trains in it exactly as in a fresh worker (same seed ⇒ same epochs, limits applied the same),
 * and a new standby takes its place once the run is over.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import type { EpochResult, TrainingFinished, TrainingRequest } from '../shared/contract';
import { readExample, shortRun } from './contract-suite';
import { EventHub } from './events';
import { TrainingManager } from './training-manager';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-standby-'));
process.env.CNN_WORKBENCH_HOME = home;
after(() => fs.rmSync(home, { recursive: true, force: true }));

/** Waits (without asserting on time) until `check` holds; gives up after `seconds`. */
async function until(check: () => boolean, seconds = 60): Promise<boolean> {
  for (let i = 0; i < seconds * 20 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  return check();
}

async function train(
  manager: TrainingManager,
  events: EventHub,
  request: TrainingRequest,
  afterStart: () => void = () => {},
): Promise<{ epochs: EpochResult[]; finished: TrainingFinished }> {
  const epochs: EpochResult[] = [];
  const offEpoch = events.on('training.onEpochEnd', (e) => epochs.push(e));
  const finished = new Promise<TrainingFinished>((resolve, reject) => {
    events.on('training.onTrainingFinished', resolve);
    events.on('training.onTrainingFailed', (f) => reject(new Error(f.error.message)));
  });
  await manager.start(request);
  afterStart();
  const f = await finished;
  offEpoch();
  return { epochs, finished: f };
}

it('a standby worker trains the next run as a fresh worker would, and is replaced afterwards', async () => {
  const request: TrainingRequest = {
    spec: readExample('small-cnn'),
    hyperparameters: shortRun(2),
    datasetId: 'fashion-mnist',
    limitTrain: 1500,
    limitTest: 300,
  };
  const warmEvents = new EventHub();
  const warm = new TrainingManager({ events: warmEvents, runsDir: path.join(home, 'warm'), prewarm: true });
  const coldEvents = new EventHub();
  const cold = new TrainingManager({ events: coldEvents, runsDir: path.join(home, 'cold'), prewarm: false });
  try {
    assert.equal((await warm.backend()).name, (await cold.backend()).name);
    assert.ok(await until(() => warm.hasStandby), 'a standby worker after the backend probe');
    assert.equal(cold.hasStandby, false, 'no standby when prewarming is off');

    const a = await train(warm, warmEvents, request, () => assert.equal(warm.hasStandby, false, 'the run took the standby worker'));
    const b = await train(cold, coldEvents, request);
    assert.deepEqual(
      a.epochs.map((e) => [e.loss, e.accuracy, e.val_loss, e.val_accuracy]),
      b.epochs.map((e) => [e.loss, e.accuracy, e.val_loss, e.val_accuracy]),
    );
    assert.equal(a.finished.evaluation.testCount, 300);
    assert.deepEqual(a.finished.evaluation.confusionMatrix, b.finished.evaluation.confusionMatrix);
    assert.ok(await until(() => warm.hasStandby), 'a new standby once the run is over');
  } finally {
    await warm.dispose();
    await cold.dispose();
  }
  assert.equal(warm.hasStandby, false, 'dispose ends the standby');
});
