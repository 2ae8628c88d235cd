/**
 * Where a training batch of the lesson CNN spends its time, per tfjs kernel, on the backend initBackend() picks.
 * Reports process CPU time (all threads) as well as wall time: on a shared machine wall time mostly measures the
 * other processes, CPU time what our kernels cost.
 *
 *   node --import tsx bench/kernel-profile.ts [batches]          (CNN_WORKBENCH_BACKEND=wasm to compare)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/core/backend';
import { loadDataset, toTensors } from '../src-main/core/data';
import { buildModel, createOptimizer } from '../src-main/core/model';
import { LESSON_HYPERPARAMETERS, type ModelSpec } from '../src-main/shared/spec';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const batches = Number(process.argv[2] ?? 3);
  if (!Number.isInteger(batches) || batches < 1) throw new Error(`batches must be a positive integer (got '${process.argv[2]}')`);
  const info = await initBackend();
  const name = tf.getBackend();
  const stats = new Map<string, { cpuMs: number; wallMs: number; calls: number }>();
  let recording = false;
  // Wrap every kernel of the active backend with a timer, then re-activate the backend so the wrappers are used.
  for (const k of tf.getKernelsForBackend(name)) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, name);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        if (!recording) return inner(args);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const out = inner(args);
        const c = process.cpuUsage(c0);
        const s = stats.get(k.kernelName) ?? { cpuMs: 0, wallMs: 0, calls: 0 };
        s.cpuMs += (c.user + c.system) / 1000;
        s.wallMs += performance.now() - t0;
        s.calls++;
        stats.set(k.kernelName, s);
        return out;
      },
    });
  }
  await tf.setBackend('cpu');
  await tf.setBackend(name);

  const spec = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'lesson-cnn.json'), 'utf8')) as ModelSpec;
  const model = buildModel(spec, LESSON_HYPERPARAMETERS.seed);
  model.compile({ optimizer: createOptimizer(LESSON_HYPERPARAMETERS.optimizer), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const ds = await loadDataset('fashion-mnist', { limitTrain: 128 });
  const { x, y } = toTensors(ds.train, null, ds.info.classNames.length);
  for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);

  recording = true;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) await model.trainOnBatch(x, y);
  const wall = (performance.now() - t0) / batches;
  const c = process.cpuUsage(c0);
  recording = false;

  const inKernels = [...stats.values()].reduce((p, s) => p + s.cpuMs, 0) / batches;
  console.log(`${info.name}: ${info.description}`);
  console.log(
    `per batch of 128: wall ${wall.toFixed(0)} ms, process CPU ${((c.user + c.system) / 1000 / batches).toFixed(0)} ms ` +
      `(in kernels ${inKernels.toFixed(0)} ms); load average ${os.loadavg()[0].toFixed(1)}`,
  );
  console.log('kernel                    CPU ms   wall ms  calls   (per batch)');
  for (const [kernel, s] of [...stats].sort((a, b) => b[1].cpuMs - a[1].cpuMs).slice(0, 25)) {
    console.log(`${kernel.padEnd(24)} ${(s.cpuMs / batches).toFixed(1).padStart(8)} ${(s.wallMs / batches).toFixed(1).padStart(9)} ${String(s.calls / batches).padStart(6)}`);
  }
  x.dispose();
  y.dispose();
}

main().catch((err: unknown) => {
  console.error(`kernel-profile: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
