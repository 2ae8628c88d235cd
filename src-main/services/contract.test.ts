/** The contract suite against the in-process services (what Electron main runs), plus the router's checks. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createServices } from './index';
import { contractSuite, readExample } from './contract-suite';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-services-'));
process.env.CNN_WORKBENCH_HOME = home;

contractSuite('in-process services', async () => {
  const services = createServices({ kind: 'electron', runsDir: path.join(home, 'runs') });
  return {
    api: services.api,
    close: async () => {
      await services.dispose();
      fs.rmSync(home, { recursive: true, force: true });
    },
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

  it('refuses dataset paths outside the data roots', async () => {
    await assert.rejects(services.api.datasets.importDataset('/etc'), (err: Error) => err.name === 'ValidationError' && err.message.includes('"/etc"'));
    await assert.rejects(
      services.api.datasets.importDataset('/usr/share/datasets/../../../etc'),
      (err: Error) => err.name === 'ValidationError' && err.message.includes('outside the allowed folders'),
    );
  });
});
