import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, DatasetInfo, EpochResult, Evaluation } from '../../shared/contract';
import { LESSON_HYPERPARAMETERS, SPEC_FORMAT_VERSION, type ModelSpec } from '../../shared/spec';
import { writeFileAtomic } from '../fsutil';
import { loadSavedModel } from './model-io';
import { CorruptRunError, RUN_FILES, RunStore, makeRunId, reconcileLiveness } from './store';

const SPEC: ModelSpec = {
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  config: { name: 'Tiny CNN', layers: [{ class_name: 'InputLayer', config: { shape: [4] } }, { class_name: 'Dense', config: { units: 2, activation: 'softmax' } }] },
};
const BACKEND: BackendInfo = { name: 'cpu', description: 'tfjs cpu', reason: 'test', threads: 1 };
const DATASET: DatasetInfo = {
  id: 'fashion-mnist',
  name: 'Fashion-MNIST',
  format: 'idx',
  location: '/nowhere',
  trainCount: 60000,
  testCount: 10000,
  imageShape: [28, 28, 1],
  classNames: ['a', 'b'],
  fingerprint: 'f'.repeat(64),
};

function epoch(n: number, valAcc: number): EpochResult {
  return { runId: 'x', epoch: n, loss: 1 / n, accuracy: 0.5, val_loss: 1, val_accuracy: valAcc, learningRate: 1e-3, durationSeconds: 1, imagesPerSec: 100, events: [] };
}

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'runs-test-'));
  await tf.setBackend('cpu');
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('run ids', () => {
  it('are time-stamped, slugged and unique', () => {
    const now = new Date('2026-11-28T01:30:00Z');
    const id = makeRunId('Lesson CNN!', now);
    assert.match(id, /^2026-11-28T01-30-00-lesson_cnn-[0-9a-f]{4}$/);
    const ids = new Set(Array.from({ length: 50 }, () => makeRunId('m', now)));
    assert.ok(ids.size > 40);
  });
});

describe('RunStore', () => {
  it('round-trips a run: create, epochs, evaluation, model, finish; list and get', async () => {
    const store = new RunStore(path.join(tmp, 'a'));
    const w = await store.create({ spec: SPEC, hyperparameters: LESSON_HYPERPARAMETERS, params: 10, backend: BACKEND, dataset: DATASET, limits: { train: 100, test: null }, counts: { train: 90, validation: 10, test: 10000 } });
    assert.equal((await store.list())[0]!.status, 'running');
    await w.appendEpoch(epoch(1, 0.6));
    await w.appendEpoch(epoch(2, 0.8));
    await w.appendEpoch(epoch(3, 0.7));
    const evaluation: Evaluation = {
      testLoss: 0.5, testAccuracy: 0.75, testCount: 4, classNames: ['a', 'b'], confusionMatrix: [[2, 1], [0, 1]],
      perClass: [], macro: { precision: 0, recall: 0, f1: 0 }, confusedPairs: [], misclassified: [], notes: [],
    };
    await w.writeEvaluation(evaluation);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4], activation: 'softmax' })] });
    await w.saveModel(model);
    await w.finish('early_stopped', 2);

    const list = await store.list();
    assert.equal(list.length, 1);
    assert.deepEqual(
      { ...list[0], createdAt: undefined, durationSeconds: undefined },
      { id: w.id, createdAt: undefined, modelName: 'Tiny CNN', params: 10, status: 'early_stopped', epochsRun: 3, bestValAccuracy: 0.8, testAccuracy: 0.75, testLoss: 0.5, backend: 'cpu', durationSeconds: undefined, datasetId: 'fashion-mnist',
        title: null, notes: '', optimizer: 'adam', batchSize: 128, learningRate: 0.001, trainImages: 100, startedFrom: null },
    );
    const detail = await store.get(w.id);
    assert.deepEqual(detail.spec, SPEC);
    assert.deepEqual(detail.hyperparameters, LESSON_HYPERPARAMETERS);
    assert.deepEqual(detail.history.map((e) => e.epoch), [1, 2, 3]);
    assert.deepEqual(detail.evaluation, evaluation);
    assert.equal(detail.error, null);

    const files = (await fs.readdir(store.runDir(w.id))).sort();
    assert.deepEqual(files, ['evaluation.json', 'history.jsonl', 'hyperparameters.json', 'model', 'run.json', 'spec.json']);
    assert.deepEqual((await fs.readdir(store.modelDir(w.id))).sort(), ['model.json', 'weights.bin']);
    const record = JSON.parse(await fs.readFile(path.join(store.runDir(w.id), RUN_FILES.run), 'utf8'));
    assert.equal(record.bestEpoch, 2);
    assert.equal(record.dataset.fingerprint, DATASET.fingerprint);
    assert.equal(record.pid, process.pid);

    // The saved model reloads with identical weights.
    const back = await loadSavedModel(store.modelDir(w.id));
    const a = model.getWeights().map((t) => Array.from(t.dataSync()));
    const b = back.getWeights().map((t) => Array.from(t.dataSync()));
    assert.deepEqual(b, a);
    model.dispose();
    back.dispose();
  });

  it('a failed run records the reason', async () => {
    const store = new RunStore(path.join(tmp, 'b'));
    const w = await store.create({ spec: SPEC, hyperparameters: LESSON_HYPERPARAMETERS, params: 10, backend: BACKEND, dataset: DATASET, limits: { train: null, test: null }, counts: { train: 1, validation: 0, test: 1 } });
    await w.appendEpoch(epoch(1, 0.5));
    await w.fail({ name: 'TrainingError', message: 'loss became NaN at epoch 2, batch 3' });
    const d = await store.get(w.id);
    assert.equal(d.status, 'failed');
    assert.equal(d.epochsRun, 1);
    assert.deepEqual(d.error, { name: 'TrainingError', message: 'loss became NaN at epoch 2, batch 3' });
    assert.equal(d.evaluation, null);
  });

  it("a run left 'running' by a dead process lists as failed (interrupted), its epochs kept", async () => {
    const store = new RunStore(path.join(tmp, 'c'));
    const w = await store.create({ spec: SPEC, hyperparameters: LESSON_HYPERPARAMETERS, params: 10, backend: BACKEND, dataset: DATASET, limits: { train: null, test: null }, counts: { train: 1, validation: 0, test: 1 } });
    await w.appendEpoch(epoch(1, 0.5));
    // Pretend a child process wrote it: take the pid of a process that has certainly exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    const file = path.join(store.runDir(w.id), RUN_FILES.run);
    const rec = JSON.parse(await fs.readFile(file, 'utf8'));
    await fs.writeFile(file, JSON.stringify({ ...rec, pid: dead }));
    const [s] = await store.list();
    assert.equal(s!.status, 'failed');
    assert.equal(s!.epochsRun, 1);
    const d = await store.get(w.id);
    assert.match(d.error!.message, new RegExp(`pid ${dead}`));
    assert.equal(reconcileLiveness({ ...rec, pid: dead }, () => true).status, 'running');
  });

  it('names, annotates and deletes a finished run; a live run cannot be deleted', async () => {
    const store = new RunStore(path.join(tmp, 'e'));
    const w = await store.create({ spec: SPEC, hyperparameters: LESSON_HYPERPARAMETERS, params: 10, backend: BACKEND, dataset: DATASET, limits: { train: 100, test: null }, counts: { train: 90, validation: 10, test: 10000 } });
    // The list carries the settings that tell runs apart.
    const [listed] = await store.list();
    assert.deepEqual(
      [listed!.title, listed!.notes, listed!.optimizer, listed!.batchSize, listed!.learningRate, listed!.trainImages],
      [null, '', 'adam', LESSON_HYPERPARAMETERS.batch_size, LESSON_HYPERPARAMETERS.optimizer.config.learning_rate, 100],
    );
    await assert.rejects(store.delete(w.id), (e: Error) => e.name === 'RunBusyError' && e.message.includes('stop it'));
    const named = await store.annotate(w.id, { title: '  wider first conv  ', notes: 'BatchNorm after each conv' });
    assert.equal(named.title, 'wider first conv');
    assert.equal(named.status, 'running', 'annotating never changes the status');
    assert.equal((await store.get(w.id)).notes, 'BatchNorm after each conv');
    assert.equal((await store.annotate(w.id, { title: '' })).title, null, 'an empty name clears it');
    assert.equal((await store.get(w.id)).notes, 'BatchNorm after each conv', 'notes kept when only the name changes');
    await w.finish('completed', null);
    await store.delete(w.id);
    assert.deepEqual(await store.list(), []);
    await assert.rejects(store.annotate(w.id, { notes: 'x' }), /no run/);
  });

  it('ignores foreign folders, rejects path-escaping ids and names the missing run', async () => {
    const store = new RunStore(path.join(tmp, 'd'));
    await fs.mkdir(path.join(tmp, 'd', 'not-a-run'), { recursive: true });
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(await new RunStore(path.join(tmp, 'missing')).list(), []);
    await assert.rejects(store.get('../a'), /invalid run id/);
    await assert.rejects(store.get('nope'), /no run "nope"/);
  });
});

describe('writeFileAtomic', () => {
  it('readers only ever see a whole old or a whole new file, and no temp files remain', async () => {
    const file = path.join(tmp, 'atomic.txt');
    const A = 'a'.repeat(1 << 18);
    const B = 'b'.repeat(1 << 17);
    await writeFileAtomic(file, A);
    let stop = false;
    const seen = new Set<string>();
    const reader = (async () => {
      while (!stop) {
        const text = await fs.readFile(file, 'utf8');
        const ok = text === A || text === B;
        seen.add(ok ? text[0]! : `torn:${text.length}`);
      }
    })();
    for (let i = 0; i < 30; i++) await writeFileAtomic(file, i % 2 ? A : B);
    stop = true;
    await reader;
    assert.ok([...seen].every((s) => s === 'a' || s === 'b'), `saw ${[...seen].join(',')}`);
    assert.deepEqual((await fs.readdir(tmp)).filter((n) => n.endsWith('.tmp')), []);
  });
});

/** A finished run in `runsDir`, as training leaves it. */
async function finishedRun(runsDir: string): Promise<{ store: RunStore; id: string; dir: string }> {
  const store = new RunStore(runsDir);
  const w = await store.create({ spec: SPEC, hyperparameters: LESSON_HYPERPARAMETERS, params: 10, backend: BACKEND, dataset: DATASET, limits: { train: null, test: null }, counts: { train: 1, validation: 0, test: 1 } });
  await w.appendEpoch(epoch(1, 0.5));
  await w.finish('completed', null);
  return { store, id: w.id, dir: store.runDir(w.id) };
}

describe('damaged runs', () => {
  it('are listed as corrupt with the reason, never hidden, and getRun names the problem (no TypeError)', async () => {
    const runsDir = path.join(tmp, 'damaged');
    const good = await finishedRun(runsDir);
    const damage: Record<string, (dir: string) => Promise<void> | void> = {
      'null-record': (d) => fs.writeFile(path.join(d, RUN_FILES.run), 'null'),
      'array-record': (d) => fs.writeFile(path.join(d, RUN_FILES.run), '[]'),
      'empty-record': (d) => fs.writeFile(path.join(d, RUN_FILES.run), '{}'),
      'not-json': (d) => fs.writeFile(path.join(d, RUN_FILES.run), '{"status": "compl'),
      'bad-status': async (d) => {
        const rec = JSON.parse(await fs.readFile(path.join(d, RUN_FILES.run), 'utf8'));
        await fs.writeFile(path.join(d, RUN_FILES.run), JSON.stringify({ ...rec, status: 'exploded' }));
      },
      // A FIFO would block a plain read until a writer comes: the list used to hang.
      fifo: async (d) => {
        await fs.rm(path.join(d, RUN_FILES.run));
        execFileSync('mkfifo', [path.join(d, RUN_FILES.run)]);
      },
      'spec-only': async (d) => {
        for (const f of [RUN_FILES.run, RUN_FILES.hyperparameters, RUN_FILES.history]) await fs.rm(path.join(d, f));
        // Older than the grace a run being created right now gets.
        const old = new Date(Date.now() - 60_000);
        await fs.utimes(d, old, old);
      },
    };
    const expected: Record<string, RegExp> = {
      'null-record': /run\.json holds null, not a run record/,
      'array-record': /run\.json holds an array, not a run record/,
      'empty-record': /run\.json has no createdAt/,
      'not-json': /run\.json is not valid JSON/,
      'bad-status': /run\.json: status must be one of running, paused/,
      fifo: /run\.json is not a regular file \(a FIFO\)/,
      'spec-only': /run\.json is missing \(only part of the run was written/,
    };
    for (const [name, harm] of Object.entries(damage)) {
      const dir = path.join(runsDir, name);
      await fs.cp(good.dir, dir, { recursive: true });
      await harm(dir);
    }
    const listed = await new RunStore(runsDir).list();
    assert.equal(listed.length, 1 + Object.keys(damage).length, listed.map((r) => r.id).join(', '));
    assert.equal(listed.find((r) => r.id === good.id)?.status, 'completed');
    for (const [name, problem] of Object.entries(expected)) {
      const row = listed.find((r) => r.id === name);
      assert.equal(row?.status, 'corrupt', name);
      assert.match(row!.problem ?? '', problem, name);
      assert.match(row!.problem ?? '', new RegExp(`^run "${name}"`));
      assert.equal(row!.modelName, 'Tiny CNN', 'the spec still names the model');
      await assert.rejects(good.store.get(name), (err: Error) => err instanceof CorruptRunError && problem.test(err.message), name);
    }
  });

  it('a run folder without run.json that is being created right now is not listed yet', async () => {
    const runsDir = path.join(tmp, 'creating');
    const { store } = await finishedRun(runsDir);
    await fs.mkdir(path.join(runsDir, 'fresh'));
    await fs.writeFile(path.join(runsDir, 'fresh', RUN_FILES.spec), JSON.stringify(SPEC));
    assert.deepEqual((await store.list()).map((r) => r.status), ['completed']);
  });

  it('a copied run folder is a second run with its own id (the folder name), not a duplicate', async () => {
    const runsDir = path.join(tmp, 'copied');
    const { store, id, dir } = await finishedRun(runsDir);
    await fs.cp(dir, path.join(runsDir, `${id}-copy`), { recursive: true });
    const ids = (await store.list()).map((r) => r.id);
    assert.deepEqual(ids.sort(), [id, `${id}-copy`].sort());
    assert.equal((await store.get(`${id}-copy`)).id, `${id}-copy`);
  });

  it('never reads a file that links out of the run folder (a spec.json symlinked to another file)', async () => {
    const runsDir = path.join(tmp, 'links');
    const { store, id, dir } = await finishedRun(runsDir);
    const secret = path.join(tmp, 'secret.json');
    await fs.writeFile(secret, JSON.stringify({ secret: 'outside' }));
    await fs.rm(path.join(dir, RUN_FILES.spec));
    await fs.symlink(secret, path.join(dir, RUN_FILES.spec));
    await assert.rejects(store.get(id), (err: Error) => err instanceof CorruptRunError && /spec\.json is a link to .*secret\.json, outside the run's folder/.test(err.message));
    await assert.rejects(store.assertContained(id), /spec\.json is a link/);
    // The model's files too (export and predict read them).
    await fs.rm(path.join(dir, RUN_FILES.spec));
    await fs.writeFile(path.join(dir, RUN_FILES.spec), JSON.stringify(SPEC));
    await fs.mkdir(path.join(dir, RUN_FILES.model));
    await fs.symlink(secret, path.join(dir, RUN_FILES.model, 'weights.bin'));
    await assert.rejects(store.assertContained(id), /model\/weights\.bin is a link to .*secret\.json/);
    // A link that stays inside the folder is fine.
    await fs.rm(path.join(dir, RUN_FILES.model, 'weights.bin'));
    await fs.symlink(path.join(dir, RUN_FILES.spec), path.join(dir, RUN_FILES.model, 'weights.bin'));
    await store.assertContained(id);
    // run.json itself linked out: listed as corrupt, not followed.
    await fs.rm(path.join(dir, RUN_FILES.run));
    await fs.symlink(secret, path.join(dir, RUN_FILES.run));
    const [row] = await store.list();
    assert.equal(row!.status, 'corrupt');
    assert.match(row!.problem ?? '', /run\.json is a link to .*outside the run's folder/);
  });
});

describe('disk faults', () => {
  it('writeFileAtomic removes its temp file when the write fails', async () => {
    // A real failure: a file-size limit (RLIMIT_FSIZE) makes the write fail with EFBIG part-way.
    const dir = await fs.mkdtemp(path.join(tmp, 'fsize-'));
    const fsutil = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fsutil', 'index.ts');
    const script = `import { writeFileAtomic } from ${JSON.stringify(fsutil)};
      try { await writeFileAtomic(${JSON.stringify(path.join(dir, 'weights.bin'))}, Buffer.alloc(4 << 20, 1)); console.log('written'); }
      catch (err) { console.log(err.code); }`;
    const r = spawnSync('sh', ['-c', `ulimit -f 1024 && exec "${process.execPath}" --import tsx --input-type=module -e '${script.replace(/'/g, "'\\''")}'`], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'EFBIG', r.stderr);
    assert.deepEqual(await fs.readdir(dir), [], 'neither the target nor a temp file is left');
  });

  it('on a full disk: no temp files left, the failure still reaches run.json, a new run gets one clear message', async (t) => {
    const mnt = await fs.mkdtemp(path.join(tmp, 'full-'));
    const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'disk-full.child.ts');
    // A real full disk: a 256 KB tmpfs in a mount namespace of our own (no root needed where user namespaces are on).
    const r = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=256k tmpfs "${mnt}" && exec "${process.execPath}" --import tsx "${child}" "${mnt}"`], { encoding: 'utf8', cwd: process.cwd() });
    assert.equal(r.status, 0, `unshare + tmpfs: ${r.stderr}`);
    t.diagnostic(r.stdout.trim());
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      weightsError: string; leftovers: string[]; recorded: boolean; status: string; errorMessage: string | null; listed: string[]; createError: string; after: { status: string; problem: string | null }[];
    };
    assert.equal(out.weightsError, 'ENOSPC');
    assert.deepEqual(out.leftovers, [], 'the failed write removed its temp file');
    assert.equal(out.recorded, true, 'fail() reports that the status was written');
    assert.equal(out.status, 'failed', 'run.json says failed, not running');
    assert.equal(out.errorMessage, 'no space left on device');
    assert.deepEqual(out.listed, ['failed']);
    assert.match(out.createError, /^cannot create run folder .*: the disk is full \(ENOSPC\)$/);
    // The half-created run was removed; had that failed too, it would be listed as corrupt, never hidden.
    assert.ok(out.after.every((r) => r.status === 'failed' || (r.status === 'corrupt' && r.problem)), JSON.stringify(out.after));
  });
});
