/**
 * Training and inference speed of the lesson's CNN on real Fashion-MNIST, on the backend `initBackend()` picks
 * (what users get), side by side with the PyTorch peer in the same invocation.
 *
 *   npm run bench -- [--batches 30] [--warmup 5] [--batch-size 128] [--no-peer] [--no-lag]
 *   CNN_WORKBENCH_BACKEND=wasm npm run bench      (force a backend)
 *
 * Prints human lines, then one JSON line last:
 *   {"backend":…,"trainImgPerSec":…,"evalImgPerSec":…,"peerTrainImgPerSec":…|null,"ratio":…|null,…}
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/core/backend';
import { gatherBatch, loadDataset, toTensors } from '../src-main/core/data';
import { buildModel, createOptimizer } from '../src-main/core/model';
import { createFusedTrainer } from '../src-main/core/train/fused';
import { LESSON_HYPERPARAMETERS, type ModelSpec } from '../src-main/shared/spec';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
/** The peer lives beside the repository: <repo>/../shared/bench/torch_lesson_cnn.py. */
const PEER_SCRIPT = path.resolve(repo, '..', 'shared', 'bench', 'torch_lesson_cnn.py');
/** Debian's python3-torch is for /usr/bin/python3, which is not necessarily the first python3 on PATH. */
const PEER_PYTHON = '/usr/bin/python3';
const EPOCH_IMAGES = 54_000;

interface Options {
  batches: number;
  warmup: number;
  batchSize: number;
  peer: boolean;
  lag: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { batches: 30, warmup: 5, batchSize: LESSON_HYPERPARAMETERS.batch_size, peer: true, lag: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer (got '${argv[i] ?? ''}')`);
      return v;
    };
    if (a === '--batches') o.batches = num();
    else if (a === '--warmup') o.warmup = num();
    else if (a === '--batch-size') o.batchSize = num();
    else if (a === '--no-peer') o.peer = false;
    else if (a === '--no-lag') o.lag = false;
    else throw new Error(`unknown flag '${a}' (expected --batches N, --warmup N, --batch-size N, --no-peer, --no-lag)`);
  }
  return o;
}

interface PeerResult {
  trainImgPerSec: number;
  evalImgPerSec: number;
  version: string;
  threads: number;
}

/** Runs the PyTorch peer with the same batch count and size; null (with the reason printed) when it cannot. */
function runPeer(o: Options, threads: number): PeerResult | null {
  if (!fs.existsSync(PEER_SCRIPT)) {
    console.log(`peer: skipped — ${PEER_SCRIPT} is absent`);
    return null;
  }
  if (!fs.existsSync(PEER_PYTHON)) {
    console.log(`peer: skipped — ${PEER_PYTHON} is absent`);
    return null;
  }
  const args = [PEER_SCRIPT, '--batches', String(o.batches), '--warmup', String(o.warmup), '--batch-size', String(o.batchSize), '--threads', String(threads)];
  const r = spawnSync(PEER_PYTHON, args, { encoding: 'utf8', timeout: 240_000 });
  const lines = (r.stdout ?? '').trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    const why = (r.error?.message ?? r.stderr ?? '').trim().split('\n').pop();
    console.log(`peer: skipped — ${PEER_PYTHON} ${path.basename(PEER_SCRIPT)} exited ${r.status ?? r.signal}: ${why}`);
    return null;
  }
  for (const l of lines.slice(0, -1)) console.log(`peer: ${l}`);
  return JSON.parse(last) as PeerResult;
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const load0 = os.loadavg()[0];
  const backend = await initBackend();
  console.log(`backend: ${backend.name} — ${backend.description}`);
  console.log(`  why: ${backend.reason}`);
  console.log(`machine: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}, load average ${load0.toFixed(1)} at start`);

  const spec = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'lesson-cnn.json'), 'utf8')) as ModelSpec;
  const model = buildModel(spec, LESSON_HYPERPARAMETERS.seed);
  model.compile({ optimizer: createOptimizer(LESSON_HYPERPARAMETERS.optimizer), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const B = o.batchSize;
  const total = o.warmup + o.batches;
  const ds = await loadDataset('fashion-mnist', { limitTrain: B * total });
  const k = ds.info.classNames.length;
  console.log(`model: ${spec.config.name}, ${model.countParams().toLocaleString('en')} parameters; batch ${B}, ${o.warmup} warm-up + ${o.batches} timed batches`);

  // The training step runTraining uses: the fused native step when it covers the model, else trainOnBatch.
  const fused = createFusedTrainer(model, LESSON_HYPERPARAMETERS.optimizer, LESSON_HYPERPARAMETERS.seed, B, backend);
  // Tensors for trainOnBatch, prepared untimed; the fused step needs only the first (the inference input).
  const batches = Array.from({ length: fused.ok ? 1 : total }, (_, i) => toTensors(ds.train, Int32Array.from({ length: B }, (_, j) => i * B + j), k));
  const step = fused.ok ? fused.trainer.description : `tfjs layers trainOnBatch (${fused.reason})`;
  console.log(`training step: ${step}`);
  const lr = LESSON_HYPERPARAMETERS.optimizer.config.learning_rate;
  const x = new Float32Array(B * 28 * 28);
  const labels = new Int32Array(B);
  const trainBatch = async (i: number): Promise<number> => {
    const idx = Int32Array.from({ length: B }, (_, j) => i * B + j);
    if (fused.ok) {
      // Timed with the batch assembly, as runTraining pays it.
      gatherBatch(ds.train, idx, k, x, labels);
      return fused.trainer.step(x, labels, B, lr).loss;
    }
    const out = await model.trainOnBatch(batches[i]!.x, batches[i]!.y);
    return Array.isArray(out) ? out[0]! : out;
  };
  let loss = NaN;
  for (let i = 0; i < o.warmup; i++) await trainBatch(i);
  const t0 = performance.now();
  for (let i = o.warmup; i < total; i++) loss = await trainBatch(i);
  const trainSec = (performance.now() - t0) / 1000;
  if (fused.ok) {
    fused.trainer.pushToModel();
    fused.trainer.dispose();
  }
  const trainIps = (o.batches * B) / trainSec;

  const evalX = batches[0]!.x;
  // batchSize B: tfjs' predict would otherwise cut the batch into pieces of 32 (the peer runs all 128 at once).
  tf.tidy(() => model.predict(evalX, { batchSize: B }));
  const t1 = performance.now();
  for (let i = 0; i < o.batches; i++) {
    const p = model.predict(evalX, { batchSize: B }) as tf.Tensor;
    await p.data();
    p.dispose();
  }
  const evalIps = (o.batches * B) / ((performance.now() - t1) / 1000);
  tf.dispose(batches.flatMap((b) => [b.x, b.y]));
  const rssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `ours: train ${trainIps.toFixed(1)} img/s (epoch of ${EPOCH_IMAGES.toLocaleString('en')} ≈ ${(EPOCH_IMAGES / trainIps / 60).toFixed(2)} min; last loss ${loss.toFixed(4)}), ` +
      `inference ${evalIps.toFixed(1)} img/s, peak RSS ${rssMb.toFixed(0)} MB`,
  );

  const peer = o.peer ? runPeer(o, Math.max(1, backend.threads)) : null;
  if (!o.peer) console.log('peer: skipped (--no-peer)');
  const ratio = peer ? trainIps / peer.trainImgPerSec : null;
  if (peer && ratio !== null) {
    console.log(`ours ÷ PyTorch ${peer.version} (${peer.threads} threads): train ${ratio.toFixed(2)}×, inference ${(evalIps / peer.evalImgPerSec).toFixed(2)}×`);
  }

  let lagP99: number | null = null;
  const lagModule = path.join(here, 'event-loop-lag.ts');
  if (o.lag && fs.existsSync(lagModule)) {
    const { measureEventLoopLag } = (await import(pathToFileURL(lagModule).href)) as {
      measureEventLoopLag: (opts?: { batches?: number; idleSeconds?: number }) => Promise<{ p50Ms: number; p99Ms: number; maxMs: number }>;
    };
    const lag = await measureEventLoopLag({ batches: 8, idleSeconds: 0 });
    lagP99 = lag.p99Ms;
    console.log(`event-loop lag of the main thread while the worker trains: p50 ${lag.p50Ms} ms, p99 ${lag.p99Ms} ms, max ${lag.maxMs} ms`);
  }
  const load1 = os.loadavg()[0];
  console.log(`load average ${load1.toFixed(1)} at the end (other processes share these ${os.availableParallelism()} cores)`);

  console.log(
    JSON.stringify({
      backend: backend.name,
      fusedStep: fused.ok,
      trainImgPerSec: round(trainIps),
      evalImgPerSec: round(evalIps),
      peerTrainImgPerSec: peer ? peer.trainImgPerSec : null,
      ratio: ratio === null ? null : round(ratio, 3),
      peerEvalImgPerSec: peer ? peer.evalImgPerSec : null,
      epochMinutes: round(EPOCH_IMAGES / trainIps / 60, 2),
      peakRssMb: round(rssMb, 0),
      threads: backend.threads,
      batches: o.batches,
      batchSize: B,
      loadAverage: [round(load0, 1), round(load1, 1)],
      ...(lagP99 === null ? {} : { eventLoopLagP99Ms: lagP99 }),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
