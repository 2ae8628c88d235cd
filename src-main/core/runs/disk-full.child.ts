/**
 * Run by store.test.ts inside its own mount namespace, on a tmpfs of a few hundred KB (`unshare -rm` + mount):
 * a real full disk, not a mock. Creates a run, fills the disk, then does what a failing run does and prints
 * what ended up on disk as one JSON line.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LESSON_HYPERPARAMETERS, SPEC_FORMAT_VERSION, type ModelSpec } from '../../shared/spec';
import { writeFileAtomic } from '../fsutil';
import { RUN_FILES, RunStore } from './store';

const root = process.argv[2]!;
const spec: ModelSpec = {
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  config: { name: 'Disk full', layers: [{ class_name: 'InputLayer', config: { shape: [4] } }, { class_name: 'Dense', config: { units: 2, activation: 'softmax' } }] },
};
const newRun = {
  spec,
  hyperparameters: LESSON_HYPERPARAMETERS,
  params: 10,
  backend: { name: 'cpu' as const, description: 'cpu', reason: 'test', threads: 1 },
  dataset: { id: 'fashion-mnist', name: 'F', format: 'idx' as const, location: '/x', trainCount: 1, testCount: 1, imageShape: [28, 28, 1] as [number, number, number], classNames: ['a', 'b'], fingerprint: 'f' },
  limits: { train: null, test: null },
  counts: { train: 1, validation: 0, test: 1 },
};

const store = new RunStore(path.join(root, 'runs'));
const writer = await store.create(newRun);
const dir = store.runDir(writer.id);
// Fill the disk to the last byte.
const filler = await fs.open(path.join(root, 'filler'), 'w');
const chunk = Buffer.alloc(4096, 1);
for (;;) {
  try {
    await filler.write(chunk);
  } catch {
    break;
  }
}
for (const size of [1024, 256, 16, 1]) {
  for (;;) {
    try {
      await filler.write(chunk.subarray(0, size));
    } catch {
      break;
    }
  }
}
await filler.close();

// What a run saves at the end (the weights): the write fails part-way.
let weightsError = '';
try {
  await writeFileAtomic(path.join(dir, 'weights.bin'), Buffer.alloc(512 * 1024, 7));
} catch (err) {
  weightsError = (err as NodeJS.ErrnoException).code ?? String(err);
}
const leftovers = (await fs.readdir(dir)).filter((n) => n.endsWith('.tmp'));
// The failure must reach run.json although no new file fits.
const recorded = await writer.fail({ name: 'TrainingError', message: 'no space left on device' });
const onDisk = JSON.parse(await fs.readFile(path.join(dir, RUN_FILES.run), 'utf8')) as { status: string; error: { message: string } | null };
const listed = await store.list();
// A new run on the full disk: one clear message, and nothing half-created left (or, if it was, listed as corrupt).
let createError = '';
try {
  await store.create(newRun);
} catch (err) {
  createError = (err as Error).message;
}
const after = await store.list();
process.stdout.write(
  JSON.stringify({ weightsError, leftovers, recorded, status: onDisk.status, errorMessage: onDisk.error?.message ?? null, listed: listed.map((r) => r.status), createError, after: after.map((r) => ({ status: r.status, problem: r.problem ?? null })) }) + '\n',
);
