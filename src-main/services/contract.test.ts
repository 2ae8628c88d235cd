/** The contract suite against the in-process services (what Electron main runs), plus the router's checks. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createServices } from './index';
import type { BatchProgress } from '../shared/contract';
import { EventLog, contractSuite, readExample, shortRun } from './contract-suite';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-services-'));
process.env.CNN_WORKBENCH_HOME = home;
after(() => fs.rmSync(home, { recursive: true, force: true }));

contractSuite('in-process services', async () => {
  const services = createServices({ kind: 'electron', runsDir: path.join(home, 'runs') });
  return {
    api: services.api,
    close: () => services.dispose(),
  };
});

describe('services dispatch (the validated entry point IPC uses)', () => {
  const services = createServices({ kind: 'electron', runsDir: path.join(home, 'runs-dispatch') });

  it('calls through with valid arguments', async () => {
    const summary = (await services.dispatch('model.summarize', [readExample('small-cnn')])) as { ok: boolean };
    assert.equal(summary.ok, true);
  });

  it('rejects unknown methods, wrong types, extra arguments and oversized arrays, naming them', async () => {
    const cases: [unknown, unknown, RegExp][] = [
      ['model.nope', [], /unknown method "model.nope"/],
      ['__proto__.constructor', [], /unknown method/],
      ['model.summarize', 'not-an-array', /arguments must be an array/],
      ['model.summarize', [{ class_name: 'Sequential' }], /argument 'spec' field format_version/],
      ['model.summarize', [readExample('small-cnn'), 1], /at most 1 argument/],
      ['datasets.getTestImages', ['fashion-mnist', Array.from({ length: 10_001 }, (_, i) => i)], /indices.*an array of 10001 items/],
      ['runs.getRun', ['../../etc'], /argument 'runId'/],
      ['exports.exportModel', ['run-1', 'pickle'], /argument 'format'/],
    ];
    for (const [channel, args, message] of cases) {
      await assert.rejects(services.dispatch(channel, args), (err: Error) => {
        assert.equal(err.name, 'ValidationError');
        assert.match(err.message, message);
        return true;
      });
    }
  });

  it('refuses an argument nested 5,000 deep with a clear error, not a stack overflow', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = [deep];
    const spec = { ...readExample('small-cnn'), extra: deep };
    await assert.rejects(services.dispatch('model.summarize', [spec]), (err: Error) => {
      assert.equal(err.name, 'ValidationError');
      assert.match(err.message, /model\.summarize: argument 'spec' is nested more than 64 levels deep/);
      return true;
    });
    await assert.rejects(services.dispatch('datasets.getTestImages', ['fashion-mnist', deep]), /argument 'indices' is nested more than 64 levels/);
  });

  it('refuses a spec that cannot train before spending a worker on it, naming the layer', async () => {
    const spec = readExample('small-cnn');
    const broken = { ...spec, config: { ...spec.config, layers: [...spec.config.layers, { class_name: 'Dense', config: { units: 0 } }] } };
    for (let attempt = 0; attempt < 2; attempt++) {
      // Twice: a refused start must not leave the trainer thinking a run is starting.
      await assert.rejects(
        services.dispatch('training.startTraining', [{ spec: broken, hyperparameters: shortRun(1), datasetId: 'fashion-mnist', limitTrain: 600 }]),
        (err: Error) => {
          assert.equal(err.name, 'SpecError');
          assert.match(err.message, new RegExp(`Layer ${spec.config.layers.length}\\b|units`));
          return true;
        },
      );
    }
  });

  it("never resolves a dataset id against the server's working directory (a CSV there used to be read)", async () => {
    const cwd = process.cwd();
    const dir = fs.mkdtempSync(path.join(home, 'cwd-'));
    const header = 'label,' + Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`).join(',');
    const rows = Array.from({ length: 20 }, (_, r) => `${r % 10},${Array.from({ length: 784 }, (_, i) => (i * 7 + r) % 256).join(',')}`);
    fs.writeFileSync(path.join(dir, 'leak.csv'), [header, ...rows].join('\n') + '\n');
    process.chdir(dir);
    try {
      await assert.rejects(services.dispatch('datasets.getTestImages', ['leak.csv', [0]]), (err: Error) => {
        assert.equal(err.name, 'DataError');
        assert.match(err.message, /unknown dataset "leak\.csv": not fashion-mnist, mnist or the id of an imported dataset/);
        return true;
      });
      await assert.rejects(
        services.dispatch('training.startTraining', [{ spec: readExample('small-cnn'), hyperparameters: shortRun(1), datasetId: 'leak.csv', limitTrain: 10 }]),
        /unknown dataset "leak\.csv"/,
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses dataset paths outside the data roots', async () => {
    await assert.rejects(services.api.datasets.importDataset('/etc'), (err: Error) => err.name === 'ValidationError' && err.message.includes('"/etc"'));
    await assert.rejects(
      services.api.datasets.importDataset('/usr/share/datasets/../../../etc'),
      (err: Error) => err.name === 'ValidationError' && err.message.includes('outside the allowed folders'),
    );
  });
});

describe('training progress throttling (in the worker, whatever the transport)', () => {
  it('sends at most one progress message per 100 ms, yet every epoch and the last batch', async () => {
    const services = createServices({ kind: 'electron', runsDir: path.join(home, 'runs-throttle') });
    const log = new EventLog(services.api);
    try {
      // A small MLP at batch 8: hundreds of millisecond-scale batches, far more than 10 per second.
      const { runId } = await services.api.training.startTraining({
        spec: readExample('small-mlp'),
        hyperparameters: { ...shortRun(2, 8), early_stopping: null },
        datasetId: 'fashion-mnist',
        limitTrain: 2000,
        limitTest: 100,
      });
      const end = await log.end(runId);
      assert.equal(end.kind, 'finished', JSON.stringify(end.value));
      const progress = log.of(runId).filter((e) => e.kind === 'progress').map((e) => e.value as BatchProgress);
      const epochs = log.of(runId).filter((e) => e.kind === 'epoch');
      assert.equal(epochs.length, 2);
      const batchesPerEpoch = progress[0]!.batchesPerEpoch;
      assert.ok(progress.length < batchesPerEpoch * 2, `${progress.length} progress messages for ${batchesPerEpoch * 2} batches: not throttled`);
      for (const epoch of [1, 2]) {
        const mine = progress.filter((p) => p.epoch === epoch);
        assert.equal(mine[mine.length - 1]!.batch, batchesPerEpoch, `epoch ${epoch} reports its last batch`);
        // Between two messages (the epoch's closing one excepted) at least ~100 ms of training passed.
        for (let i = 1; i < mine.length - 1; i++) {
          const gap = mine[i]!.elapsedSeconds - mine[i - 1]!.elapsedSeconds;
          assert.ok(gap >= 0.09, `epoch ${epoch}: progress ${i} came ${gap.toFixed(3)} s after the previous one`);
        }
      }
    } finally {
      log.dispose();
      await services.dispose();
    }
  });
});
