/**
 * Training and inference speed of the lesson's CNN on real Fashion-MNIST, on the backend `initBackend()` picks
 * (what users get), side by side with the PyTorch peer in the same invocation, and the seconds a whole lesson
 * epoch takes (54,000 training images, then validation on 6,000).
 *
 *   npm run bench -- [--batches 30] [--warmup 5] [--batch-size 128] [--width 1] [--no-peer] [--no-peer-bf16] [--no-lag] [--full-epoch]
 *                    [--dtype-policy float32|mixed_bfloat16]
 *   npm run bench -- --scaling [--repeats 3]      (the scaling tables for bench/results.md: bench/scaling.ts)
 *   npm run bench -- --data [--data-count 50000] …  (own-image datasets: loading and a CIFAR-sized CNN; bench/data-bench.ts)
 *   npm run bench -- --resnet [--batches N] …   (a small ResNet graph against the same network in PyTorch: resnet-bench.ts)
 *   npm run bench -- --paired OTHER.node [--batches 150]   (this addon build against another, steps alternating: paired.ts)
 *   CNN_WORKBENCH_BACKEND=wasm npm run bench      (force a backend)
 *
 * Without --full-epoch the epoch is the timed training batches extrapolated to 54,000 images plus a real, timed
 * validation of 6,000 images (the output says so); with it, one real epoch through runTraining (validation
 * included), timed by runTraining itself.
 * Prints human lines, then one JSON line last:
 *   {"backend":…,"trainImgPerSec":…,"evalImgPerSec":…,"epochSeconds":…,"peerTrainImgPerSec":…|null,"trainRatio":…|null,…}
 * Besides wall-clock speed it reports the process' CPU time per training step and per inferred image
 * (`trainCpuMsPerStep`, `evalCpuUsPerImage`): on a shared machine wall time measures the other tenants, CPU time
 * what our code costs. `CNN_WORKBENCH_ADDON=path/to/cnnwb.node` benches another build of the addon (old vs new).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/core/backend';
import { gatherBatch, loadDataset, toTensors } from '../src-main/core/data';
import { buildModel, createOptimizer } from '../src-main/core/model';
import { lossAndAccuracy } from '../src-main/core/eval/predict';
import { createPredictor } from '../src-main/core/eval/predictor';
import { createFusedTrainer, PROFILE_CATEGORIES, type NativeProfile } from '../src-main/core/train/fused';
import { runTraining } from '../src-main/core/train/train';
import { peerArgs, runPeer } from './peer';
import { runScaling } from './scaling';
import { DTYPE_POLICIES, isDtypePolicy, LESSON_HYPERPARAMETERS, type DtypePolicy, type ModelSpec } from '../src-main/shared/spec';
import { runDataBench } from './data-bench';
import { runResnetBench } from './resnet-bench';
import { runPaired } from './paired';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
/**
 * The peer lives beside the repository, <dir>/shared/bench/torch_lesson_cnn.py for the first parent <dir> that
 * has it (a git worktree sits deeper than the main checkout); CNN_WORKBENCH_PEER names it explicitly.
 */
function findPeer(): string {
  if (process.env.CNN_WORKBENCH_PEER) return path.resolve(process.env.CNN_WORKBENCH_PEER);
  const rel = path.join('shared', 'bench', 'torch_lesson_cnn.py');
  for (let dir = path.dirname(repo); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, rel))) return path.join(dir, rel);
    if (path.dirname(dir) === dir) return path.resolve(repo, '..', rel);
  }
}
const PEER_SCRIPT = findPeer();
/** Runs the peer at bench's --width and adds its peak RSS (the peer script itself is read-only here). */
const PEER_WRAPPER = path.join(here, 'peer-width.py');
const EPOCH_IMAGES = 54_000;
const VALIDATION_IMAGES = 6_000;

interface Options {
  batches: number;
  warmup: number;
  batchSize: number;
  /** Multiplies the lesson's filters and hidden units (0.5 = half width) (the peer too, through peer-width.py). */
  width: number;
  peer: boolean;
  /** Also run the peer under torch.autocast(bfloat16) (off in --scaling, where it would add ~10 min). */
  peerBf16: boolean;
  lag: boolean;
  fullEpoch: boolean;
  resnet: boolean;
  /** The policy the training figures and the epoch are measured under; the other is timed too, on the same batches. */
  dtypePolicy: DtypePolicy;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { batches: 30, warmup: 5, batchSize: LESSON_HYPERPARAMETERS.batch_size, peer: true, peerBf16: true, lag: true, fullEpoch: false, width: 1, resnet: false, dtypePolicy: 'float32' };
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
    else if (a === '--no-peer-bf16') o.peerBf16 = false;
    else if (a === '--full-epoch') o.fullEpoch = true;
    else if (a === '--resnet') o.resnet = true;
    else if (a === '--dtype-policy') {
      const v = argv[++i] ?? '';
      if (!isDtypePolicy(v)) throw new Error(`--dtype-policy needs one of ${DTYPE_POLICIES.join(', ')} (got '${v}')`);
      o.dtypePolicy = v;
    }
    else if (a === '--width') {
      o.width = Number(argv[++i]);
      if (!(o.width > 0)) throw new Error(`--width needs a positive number (got '${argv[i] ?? ''}')`);
    } else throw new Error(`unknown flag '${a}' (expected --batches N, --warmup N, --batch-size N, --width F, --no-peer, --no-peer-bf16, --no-lag, --full-epoch, --resnet, --dtype-policy P)`);
  }
  return o;
}

interface PeerResult {
  trainImgPerSec: number;
  evalImgPerSec: number;
  version: string;
  threads: number;
  peakRssMb?: number;
}

/** Runs the PyTorch peer (at --width, through peer-width.py) with the same batch count and size; null when it cannot. */
function lessonPeer(o: Options, threads: number, bf16 = false): PeerResult | null {
  const prefix = [PEER_WRAPPER, String(o.width), ...(bf16 ? ['--bf16'] : [])];
  return runPeer<PeerResult>(bf16 ? 'peer (autocast bfloat16)' : 'peer', PEER_SCRIPT, peerArgs(o, threads), { prefix, timeoutMs: 240_000 });
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const ms = (sec: number, per: number): string => `${((sec / per) * 1000).toFixed(2)} ms`;
const share = (sec: number, total: number): string => `${((sec / total) * 100).toFixed(0)}%`.padStart(4);

/** Where a training step goes, per layer kind (the addon's own timers; the rest is JS, N-API and the timers). */
function printTrainingSplit(p: NativeProfile, assemblySec: number, totalSec: number): void {
  const steps = p.steps || 1;
  console.log(`training split per step (${p.steps} timed steps, ${ms(totalSec, steps)} each):`);
  let accounted = assemblySec + p.loss + p.optimizer;
  for (const c of PROFILE_CATEGORIES) {
    const both = p.forward[c] + p.backward[c];
    accounted += both;
    console.log(`  ${c.padEnd(40)} ${share(both, totalSec)}  forward ${ms(p.forward[c], steps)}, backward ${ms(p.backward[c], steps)}`);
  }
  console.log(`  ${'loss (softmax cross-entropy)'.padEnd(40)} ${share(p.loss, totalSec)}  ${ms(p.loss, steps)}`);
  console.log(`  ${'optimizer (Adam over every weight)'.padEnd(40)} ${share(p.optimizer, totalSec)}  ${ms(p.optimizer, steps)}`);
  console.log(`  ${'data assembly (gatherBatch, JS)'.padEnd(40)} ${share(assemblySec, totalSec)}  ${ms(assemblySec, steps)}`);
  console.log(`  ${'the rest (N-API, JS loop)'.padEnd(40)} ${share(totalSec - accounted, totalSec)}  ${ms(totalSec - accounted, steps)}`);
}

/** Where inference goes, per layer kind (BatchNorm folded into a convolution counts as convolution). */
function printInferenceSplit(p: NativeProfile, totalSec: number): void {
  const images = p.imagesInferred || 1;
  const per = (sec: number) => `${((sec / images) * 1e6).toFixed(1)} µs/image`;
  let accounted = 0;
  console.log(`inference split (${p.imagesInferred} images):`);
  for (const c of PROFILE_CATEGORIES) {
    accounted += p.inference[c];
    console.log(`  ${c.padEnd(40)} ${share(p.inference[c], totalSec)}  ${per(p.inference[c])}`);
  }
  console.log(`  ${'the rest (N-API, output copy)'.padEnd(40)} ${share(totalSec - accounted, totalSec)}  ${per(totalSec - accounted)}`);
}

/** Measured SGEMM peak per thread on the measuring machine (issue 16: 352 GFLOP/s on its two cores). */
const SGEMM_PEAK_GFLOPS_PER_THREAD = 176;

/** The lesson CNN with every Conv2D's filters and every hidden Dense layer's units scaled by `width`. */
function widen(spec: ModelSpec, width: number): ModelSpec {
  if (width === 1) return spec;
  const layers = spec.config.layers.map((l, i, all) => {
    const c = { ...l.config };
    if (l.class_name === 'Conv2D') c.filters = Math.max(1, Math.round(Number(c.filters) * width));
    if (l.class_name === 'Dense' && i < all.length - 1) c.units = Math.max(1, Math.round(Number(c.units) * width));
    return { ...l, config: c };
  });
  return { ...spec, config: { ...spec.config, name: `${spec.config.name}_x${width}`, layers } } as ModelSpec;
}

/** Multiply-adds × 2 of one image's forward pass through the Conv2D and Dense layers (the rest is memory-bound). */
function forwardFlops(spec: ModelSpec): number {
  const model = buildModel(spec, 1);
  let flops = 0;
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    const kernel = weights[0];
    if (layer.getClassName() === 'Conv2D' && kernel) {
      const [, oh, ow] = layer.outputShape as number[];
      flops += 2 * oh! * ow! * kernel.size;
    } else if (layer.getClassName() === 'Dense' && kernel) {
      flops += 2 * kernel.size;
    }
  }
  model.dispose();
  return flops;
}

/** One real lesson epoch through runTraining (what the app runs), timed by runTraining: training plus validation. */
async function measureFullEpoch(spec: ModelSpec, dtypePolicy: DtypePolicy): Promise<{ seconds: number; images: number; validation: number; step: string }> {
  const dataset = await loadDataset('fashion-mnist');
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-bench-'));
  let step = '';
  try {
    let seconds = NaN;
    const done = await runTraining(
      { spec, hyperparameters: { ...LESSON_HYPERPARAMETERS, epochs: 1, dtype_policy: dtypePolicy }, dataset, runsDir, limitTest: 1000 },
      {
        onEpoch: (e) => (seconds = e.durationSeconds),
        onLog: (line) => {
          if (line.startsWith('Training step: ')) step = line.slice('Training step: '.length);
        },
      },
    );
    if (done.epochsRun !== 1 || !Number.isFinite(seconds)) throw new Error(`the full epoch did not finish (status ${done.status})`);
    const validation = Math.round(dataset.train.count * LESSON_HYPERPARAMETERS.validation_split);
    return { seconds, images: dataset.train.count - validation, validation, step };
  } finally {
    fs.rmSync(runsDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const load0 = os.loadavg()[0];
  const backend = await initBackend();
  console.log(`backend: ${backend.name} — ${backend.description}`);
  console.log(`  why: ${backend.reason}`);
  console.log(`machine: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}, load average ${load0.toFixed(1)} at start`);
  if (o.resnet) return runResnetBench(o, backend);

  const spec = widen(JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'lesson-cnn.json'), 'utf8')) as ModelSpec, o.width);
  const flops = forwardFlops(spec);
  // The machine's limit: the FLOPs at the SGEMM peak measured on these cores (issue 16: OpenBLAS AVX-512 SGEMM
  // 4096³ reached 352 GFLOP/s on both cores; half per thread); a training step costs ~3 forward passes.
  const peakGflops = SGEMM_PEAK_GFLOPS_PER_THREAD * Math.min(backend.threads, os.availableParallelism());
  const evalLimit = (peakGflops * 1e9) / flops;
  const trainLimit = evalLimit / 3;
  console.log(
    `limit: ${(flops / 1e6).toFixed(1)} MFLOP per image forward at ${peakGflops} GFLOP/s → ${trainLimit.toFixed(0)} img/s training, ${evalLimit.toFixed(0)} img/s inference`,
  );
  const model = buildModel(spec, LESSON_HYPERPARAMETERS.seed);
  model.compile({ optimizer: createOptimizer(LESSON_HYPERPARAMETERS.optimizer), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const B = o.batchSize;
  const total = o.warmup + o.batches;
  // Enough images for the timed batches and for a validation pass of the lesson's size.
  const ds = await loadDataset('fashion-mnist', { limitTrain: Math.max(B * total, VALIDATION_IMAGES) });
  const k = ds.info.classNames.length;
  console.log(`model: ${spec.config.name}, ${model.countParams().toLocaleString('en')} parameters; batch ${B}, ${o.warmup} warm-up + ${o.batches} timed batches`);

  const lr = LESSON_HYPERPARAMETERS.optimizer.config.learning_rate;
  const x = new Float32Array(B * 28 * 28);
  const labels = new Int32Array(B);
  /** Times the training step runTraining would use under `policy` (the fused native step when it covers the model,
   *  else trainOnBatch) on the same batches; `keep`: leave the trained weights in `m` (inference is timed on them). */
  const timeTraining = async (m: tf.LayersModel, policy: DtypePolicy, keep: boolean) => {
    const fused = createFusedTrainer(m, LESSON_HYPERPARAMETERS.optimizer, LESSON_HYPERPARAMETERS.seed, B, backend, { dtypePolicy: policy });
    // Tensors for trainOnBatch, prepared untimed (the fused step needs none).
    const batches = Array.from({ length: fused.ok ? 0 : total }, (_, i) => toTensors(ds.train, Int32Array.from({ length: B }, (_, j) => i * B + j), k));
    const step = fused.ok ? fused.trainer.description : `tfjs layers trainOnBatch (${fused.reason})`;
    let assemblySec = 0;
    const trainBatch = async (i: number): Promise<number> => {
      const idx = Int32Array.from({ length: B }, (_, j) => i * B + j);
      if (fused.ok) {
        // Timed with the batch assembly, as runTraining pays it.
        const a0 = performance.now();
        gatherBatch(ds.train, idx, k, x, labels);
        assemblySec += (performance.now() - a0) / 1000;
        return fused.trainer.step(x, labels, B, lr).loss;
      }
      const out = await m.trainOnBatch(batches[i]!.x, batches[i]!.y);
      return Array.isArray(out) ? out[0]! : out;
    };
    let loss = NaN;
    for (let i = 0; i < o.warmup; i++) await trainBatch(i);
    if (fused.ok) fused.trainer.profile(true);
    assemblySec = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = o.warmup; i < total; i++) loss = await trainBatch(i);
    const sec = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const profile = fused.ok ? fused.trainer.profile() : null;
    if (fused.ok) {
      if (keep) fused.trainer.pushToModel();
      fused.trainer.dispose();
    }
    tf.dispose(batches.flatMap((b) => [b.x, b.y]));
    return { ok: fused.ok, step, loss, sec, ips: (o.batches * B) / sec, cpuMsPerStep: (cpu.user + cpu.system) / 1000 / o.batches, profile, assemblySec };
  };
  // The other policy first, on its own copy of the initial weights, so the measured one leaves its weights in `model`.
  const otherPolicy: DtypePolicy = o.dtypePolicy === 'float32' ? 'mixed_bfloat16' : 'float32';
  // The JSON names the other policy's figures with its suffix: trainImgPerSecFloat32 / trainImgPerSecMixedBfloat16 …
  const otherKey = (field: string): string => `${field}${otherPolicy === 'float32' ? 'Float32' : 'MixedBfloat16'}`;
  const twin = buildModel(spec, LESSON_HYPERPARAMETERS.seed);
  const other = await timeTraining(twin, otherPolicy, false);
  twin.dispose();
  const main = await timeTraining(model, o.dtypePolicy, true);
  console.log(`training step: ${main.step}`);
  if (main.profile) printTrainingSplit(main.profile, main.assemblySec, main.sec);
  const loss = main.loss;
  const trainCpuMsPerStep = main.cpuMsPerStep;
  const trainIps = main.ips;
  console.log(`the same batches under ${otherPolicy}: ${other.ips.toFixed(1)} img/s (last loss ${other.loss.toFixed(4)}; ${other.step})`);

  // Inference as validation, evaluation, predict and export checks run it: through createPredictor, on the
  // first batch of B images over and over, as the peer does (its eval runs X[:B] repeatedly). Under mixed_bfloat16
  // the convolutions infer in bfloat16, as validation does under it (test evaluation, predict, exports: float32).
  const evalX = new Float32Array(B * 28 * 28);
  gatherBatch(ds.train, Int32Array.from({ length: B }, (_, j) => j), k, evalX, new Int32Array(B));
  const timeInference = (policy: DtypePolicy, print: boolean) => {
    const predictor = createPredictor(model, backend, policy);
    if (print) console.log(`inference: ${predictor.description}`);
    predictor.predict(evalX, B);
    predictor.profile(true);
    const c1 = process.cpuUsage();
    const t1 = performance.now();
    for (let i = 0; i < o.batches; i++) predictor.predict(evalX, B);
    const sec = (performance.now() - t1) / 1000;
    const cpu = process.cpuUsage(c1);
    const profile = predictor.profile();
    if (print && profile) printInferenceSplit(profile, sec);
    const native = predictor.native;
    predictor.dispose();
    return { ips: (o.batches * B) / sec, cpuUsPerImage: (cpu.user + cpu.system) / (o.batches * B), native };
  };
  const otherInference = timeInference(otherPolicy, false);
  const mainInference = timeInference(o.dtypePolicy, true);
  const evalIps = mainInference.ips;
  const evalCpuUsPerImage = mainInference.cpuUsPerImage;
  console.log(`inference under ${otherPolicy}: ${otherInference.ips.toFixed(1)} img/s`);

  // A whole lesson epoch: 54,000 training images, then the validation of 6,000 (runTraining's lossAndAccuracy).
  let epochSeconds: number;
  let epochHow: string;
  let validationSec: number | null = null;
  if (o.fullEpoch) {
    const full = await measureFullEpoch(spec, o.dtypePolicy);
    epochSeconds = full.seconds;
    epochHow = `measured: one real epoch through runTraining (${full.images.toLocaleString('en')} training images, validation on ${full.validation.toLocaleString('en')}, ${full.step})`;
  } else {
    const v0 = performance.now();
    await lossAndAccuracy(model, ds.train, Int32Array.from({ length: VALIDATION_IMAGES }, (_, j) => j), ds.info.classNames, o.dtypePolicy);
    validationSec = (performance.now() - v0) / 1000;
    epochSeconds = EPOCH_IMAGES / trainIps + validationSec;
    epochHow =
      `extrapolated: ${EPOCH_IMAGES.toLocaleString('en')} images at the timed ${trainIps.toFixed(0)} img/s (${(EPOCH_IMAGES / trainIps).toFixed(1)} s) ` +
      `+ a real validation pass over ${VALIDATION_IMAGES.toLocaleString('en')} images (${validationSec.toFixed(2)} s); --full-epoch measures one`;
  }
  const rssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `ours: train ${trainIps.toFixed(1)} img/s (last loss ${loss.toFixed(4)}), inference ${evalIps.toFixed(1)} img/s, peak RSS ${rssMb.toFixed(0)} MB`,
  );
  console.log(`CPU time (all threads of this process): ${trainCpuMsPerStep.toFixed(1)} ms per training step, ${evalCpuUsPerImage.toFixed(1)} µs per inferred image`);
  console.log(`epoch: ${epochSeconds.toFixed(1)} s (${epochHow}); target ≤ 24 s`);
  // The same extrapolation for the other policy's timed steps (the validation pass is float32 under both).
  const otherEpochSeconds = validationSec === null ? null : EPOCH_IMAGES / other.ips + validationSec;
  const mark = (ok: boolean): string => (ok ? 'met' : 'not met');
  console.log(
    `issue 16's targets (training ≥ 2,500 img/s, inference ≥ 7,500 img/s, epoch ≤ 24 s): ` +
      [
        [o.dtypePolicy, trainIps, evalIps, epochSeconds] as const,
        [otherPolicy, other.ips, otherInference.ips, otherEpochSeconds] as const,
      ]
        .map(
          ([policy, ips, inf, epoch]) =>
            `${policy}: training ${ips.toFixed(0)} ${mark(ips >= 2500)}, inference ${inf.toFixed(0)} ${mark(inf >= 7500)}, ` +
            `epoch ${epoch === null ? 'n/a' : `${epoch.toFixed(1)} s ${mark(epoch <= 24)}`}`,
        )
        .join('; '),
  );

  const peer = o.peer ? lessonPeer(o, Math.max(1, backend.threads)) : null;
  // PyTorch's own mixed precision on CPU (autocast to bfloat16), the peer of our mixed_bfloat16 training.
  const peerBf16 = o.peer && o.peerBf16 ? lessonPeer(o, Math.max(1, backend.threads), true) : null;
  const bf16Ips = o.dtypePolicy === 'mixed_bfloat16' ? trainIps : other.ips;
  const bf16EvalIps = o.dtypePolicy === 'mixed_bfloat16' ? evalIps : otherInference.ips;
  if (!o.peer) console.log('peer: skipped (--no-peer)');
  const trainRatio = peer ? trainIps / peer.trainImgPerSec : null;
  const evalRatio = peer ? evalIps / peer.evalImgPerSec : null;
  if (peer && trainRatio !== null && evalRatio !== null) {
    console.log(
      `ours ÷ PyTorch ${peer.version} (${peer.threads} threads, float32): train ${trainRatio.toFixed(2)}× (${otherPolicy}: ` +
        `${(other.ips / peer.trainImgPerSec).toFixed(2)}×), inference ${evalRatio.toFixed(2)}× (target ≥ 2×)`,
    );
  }
  if (peerBf16) {
    console.log(
      `PyTorch under autocast bfloat16: train ${peerBf16.trainImgPerSec} img/s, eval ${peerBf16.evalImgPerSec} img/s → ours mixed_bfloat16 ` +
        `train ${(bf16Ips / peerBf16.trainImgPerSec).toFixed(2)}×, inference ${(bf16EvalIps / peerBf16.evalImgPerSec).toFixed(2)}×`,
    );
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
      fusedStep: main.ok,
      trainImgPerSec: round(trainIps),
      dtypePolicy: o.dtypePolicy,
      [otherKey('trainImgPerSec')]: round(other.ips),
      [otherKey('epochSeconds')]: otherEpochSeconds === null ? null : round(otherEpochSeconds, 2),
      evalImgPerSec: round(evalIps),
      epochSeconds: round(epochSeconds, 2),
      epochMeasured: o.fullEpoch ? 'full epoch' : 'extrapolated training + timed validation',
      peerTrainImgPerSec: peer ? peer.trainImgPerSec : null,
      peerEvalImgPerSec: peer ? peer.evalImgPerSec : null,
      peerPeakRssMb: peer?.peakRssMb ?? null,
      peerBf16TrainImgPerSec: peerBf16?.trainImgPerSec ?? null,
      peerBf16EvalImgPerSec: peerBf16?.evalImgPerSec ?? null,
      trainRatio: trainRatio === null ? null : round(trainRatio, 3),
      [otherKey('trainRatio')]: peer ? round(other.ips / peer.trainImgPerSec, 3) : null,
      evalRatio: evalRatio === null ? null : round(evalRatio, 3),
      ratio: trainRatio === null ? null : round(trainRatio, 3),
      inference: mainInference.native ? 'native' : 'tfjs',
      [otherKey('evalImgPerSec')]: round(otherInference.ips),
      peakRssMb: round(rssMb, 0),
      trainCpuMsPerStep: round(trainCpuMsPerStep, 1),
      evalCpuUsPerImage: round(evalCpuUsPerImage, 1),
      trainLimitImgPerSec: round(trainLimit, 0),
      evalLimitImgPerSec: round(evalLimit, 0),
      width: o.width,
      threads: backend.threads,
      batches: o.batches,
      batchSize: B,
      loadAverage: [round(load0, 1), round(load1, 1)],
      ...(lagP99 === null ? {} : { eventLoopLagP99Ms: lagP99 }),
    }),
  );
}

/**
 * Modes besides the lesson run, by flag: each gets the whole argv. One line each (issue 15's ResNet, issue 14's
 * --data add theirs here).
 */
const MODES: Record<string, (argv: string[]) => Promise<void> | void> = {
  '--scaling': (argv) => runScaling(argv, fileURLToPath(import.meta.url), repo),
  // Own-image datasets: a generated PNG folder's loading and a CIFAR-sized CNN against PyTorch.
  '--data': (argv) => runDataBench(argv),
  // Two builds of the native addon, their training steps alternating in one process (a change of a few %).
  '--paired': (argv) => runPaired(argv, repo),
};

async function dispatch(): Promise<void> {
  const argv = process.argv.slice(2);
  const mode = Object.keys(MODES).find((flag) => argv.includes(flag));
  await (mode ? MODES[mode]!(argv) : main());
}

dispatch().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
