/**
 * `npm run bench -- --data`: own-image datasets at scale (issue 14).
 *
 *   npm run bench -- --data [--data-count 50000] [--data-dir DIR] [--batches 30] [--warmup 5] [--batch-size 128] [--no-peer]
 *
 * 1. A folder of `--data-count` 32×32 RGB PNGs in 10 class folders (a hue per class, a random stripe and noise),
 *    written once under the temp dir (reused while its `.complete` marker says the same count).
 * 2. Loading it as `train --data` does (core/data/image-folder.ts: header survey, decoding in worker threads, the
 *    decoded-bytes cache): the first load (an empty cache, so it decodes every image and writes the cache), then
 *    the cached load; peak RSS of the process after each.
 * 3. Training images/s of a CIFAR-sized CNN (3×32×32, Conv 32-32-pool-64-64-pool-Dense 512-10, Adam) on the
 *    loaded images through the step `runTraining` uses (the fused native step), with the batch assembly timed in;
 *    the same with leading augmentation (RandomFlip, RandomTranslation: the native augmentation pass), and the
 *    PyTorch peer (bench/torch_cifar_cnn.py) with the same network, batch size and threads, in the same run.
 * Prints human lines, then one JSON line last: {"mode":"data","firstLoadImgPerSec":…,"cachedLoadSeconds":…,…}
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { LESSON_HYPERPARAMETERS, SPEC_FORMAT_VERSION, type LayerSpec, type ModelSpec } from '../src-main/shared/spec';
import { initBackend } from '../src-main/core/backend';
import { gatherBatch, mulberry32, type Dataset } from '../src-main/core/data';
import { loadImageFolder } from '../src-main/core/data/image-folder';
import { buildModel } from '../src-main/core/model';
import { createFusedTrainer } from '../src-main/core/train/fused';
import { peerArgs, runPeer } from './peer';

const here = path.dirname(fileURLToPath(import.meta.url));
const PEER_SCRIPT = path.join(here, 'torch_cifar_cnn.py');
const SIZE = 32;
const CLASSES = 10;

interface DataOptions {
  count: number;
  dir: string;
  batches: number;
  warmup: number;
  batchSize: number;
  peer: boolean;
}

function parseDataArgs(argv: string[]): DataOptions {
  const o: DataOptions = { count: 50_000, dir: '', batches: 30, warmup: 5, batchSize: 128, peer: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer (got '${argv[i] ?? ''}')`);
      return v;
    };
    if (a === '--data') continue;
    else if (a === '--data-count') o.count = num();
    else if (a === '--data-dir') o.dir = path.resolve(argv[++i] ?? '');
    else if (a === '--batches') o.batches = num();
    else if (a === '--warmup') o.warmup = num();
    else if (a === '--batch-size') o.batchSize = num();
    else if (a === '--no-peer') o.peer = false;
    else if (a === '--no-lag') continue;
    else throw new Error(`unknown flag '${a}' with --data (expected --data-count N, --data-dir DIR, --batches N, --warmup N, --batch-size N, --no-peer)`);
  }
  if (o.count < CLASSES) throw new Error(`--data-count needs at least ${CLASSES} images (one per class)`);
  o.dir ||= path.join(os.tmpdir(), `cnn-workbench-bench-data-${o.count}`);
  return o;
}

/** Writes the generated folder unless a complete one of the same count is already there; returns seconds spent. */
function ensureFolder(o: DataOptions): number {
  const marker = path.join(o.dir, '.complete');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() === String(o.count)) return 0;
  const t0 = performance.now();
  fs.rmSync(o.dir, { recursive: true, force: true });
  const rng = mulberry32(2024);
  for (let c = 0; c < CLASSES; c++) fs.mkdirSync(path.join(o.dir, `class-${c}`), { recursive: true });
  const png = new PNG({ width: SIZE, height: SIZE, colorType: 2, inputColorType: 6, inputHasAlpha: true });
  for (let i = 0; i < o.count; i++) {
    const c = i % CLASSES;
    // A hue per class, a random horizontal stripe, noise: a little content for PNG's filters, like a photo's.
    const hue = (c / CLASSES) * 2 * Math.PI;
    const base = [0, 2, 4].map((k) => 128 + 90 * Math.cos(hue + (k * Math.PI) / 3));
    const stripe = Math.floor(rng() * SIZE);
    for (let p = 0; p < SIZE * SIZE; p++) {
      const lit = Math.abs(Math.floor(p / SIZE) - stripe) < 3 ? 60 : 0;
      for (let k = 0; k < 3; k++) png.data[p * 4 + k] = Math.max(0, Math.min(255, Math.round(base[k]! + lit + 40 * (rng() - 0.5))));
      png.data[p * 4 + 3] = 255;
    }
    fs.writeFileSync(path.join(o.dir, `class-${c}`, `${String(i).padStart(6, '0')}.png`), PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true }));
  }
  fs.writeFileSync(marker, String(o.count));
  return (performance.now() - t0) / 1000;
}

const rssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** The CIFAR-sized CNN, optionally behind leading augmentation layers. */
function cifarSpec(augment: LayerSpec[]): ModelSpec {
  const conv = (filters: number): LayerSpec => ({ class_name: 'Conv2D', config: { filters, kernel_size: 3, padding: 'same', activation: 'relu' } });
  return {
    format_version: SPEC_FORMAT_VERSION,
    class_name: 'Sequential',
    config: {
      name: 'cifar_cnn',
      layers: [
        { class_name: 'InputLayer', config: { shape: [SIZE, SIZE, 3] } },
        ...augment,
        conv(32),
        conv(32),
        { class_name: 'MaxPooling2D', config: { pool_size: 2 } },
        conv(64),
        conv(64),
        { class_name: 'MaxPooling2D', config: { pool_size: 2 } },
        { class_name: 'Flatten', config: {} },
        { class_name: 'Dense', config: { units: 512, activation: 'relu' } },
        { class_name: 'Dense', config: { units: CLASSES, activation: 'softmax' } },
      ],
    },
  };
}

/** Training images/s of `spec` on the loaded images (fused step, batch assembly included), and the step's description. */
async function trainSpeed(spec: ModelSpec, ds: Dataset, o: DataOptions): Promise<{ ips: number; step: string; params: number; loss: number }> {
  const backend = await initBackend();
  const model = buildModel(spec, LESSON_HYPERPARAMETERS.seed);
  const B = o.batchSize;
  const plan = createFusedTrainer(model, LESSON_HYPERPARAMETERS.optimizer, LESSON_HYPERPARAMETERS.seed, B, backend);
  if (!plan.ok) throw new Error(`the fused step does not take the CIFAR CNN: ${plan.reason}`);
  const { trainer } = plan;
  const x = new Float32Array(B * SIZE * SIZE * 3);
  const labels = new Int32Array(B);
  const lr = LESSON_HYPERPARAMETERS.optimizer.config.learning_rate;
  const rng = mulberry32(7);
  const batch = (): number => {
    // Random images, as a shuffled epoch draws them.
    const idx = Int32Array.from({ length: B }, () => Math.floor(rng() * ds.train.count));
    gatherBatch(ds.train, idx, CLASSES, x, labels);
    return trainer.step(x, labels, B, lr).loss;
  };
  for (let i = 0; i < o.warmup; i++) batch();
  let loss = NaN;
  const t0 = performance.now();
  for (let i = 0; i < o.batches; i++) loss = batch();
  const sec = (performance.now() - t0) / 1000;
  const params = model.countParams();
  trainer.dispose();
  model.dispose();
  return { ips: (o.batches * B) / sec, step: trainer.description, params, loss };
}

interface PeerResult {
  trainImgPerSec: number;
  version: string;
  threads: number;
  params: number;
}

export async function runDataBench(argv: string[]): Promise<void> {
  const o = parseDataArgs(argv);
  // The decoded-bytes cache goes to a fresh home, so the first load really decodes (the user's cache is untouched).
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-workbench-bench-home-'));
  process.env.CNN_WORKBENCH_HOME = home;
  try {
    const backend = await initBackend();
    console.log(`backend: ${backend.name} — ${backend.description}`);
    console.log(`machine: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)} at start`);
    const wrote = ensureFolder(o);
    console.log(`data: ${o.count.toLocaleString('en')} PNGs of ${SIZE}×${SIZE} RGB in ${CLASSES} class folders at ${o.dir} (${wrote ? `written in ${wrote.toFixed(1)} s` : 'already there'})`);
    const rss0 = rssMb();

    const t0 = performance.now();
    const first = await loadImageFolder(o.dir, { colorMode: 'rgb' });
    const firstSec = (performance.now() - t0) / 1000;
    const rss1 = rssMb();
    const images = first.train.count + first.test.count;
    if (images !== o.count) throw new Error(`loaded ${images} images of ${o.count}`);
    const t1 = performance.now();
    const cached = await loadImageFolder(o.dir, { colorMode: 'rgb' });
    const cachedSec = (performance.now() - t1) / 1000;
    const rss2 = rssMb();
    if (cached.train.count !== first.train.count || Buffer.compare(Buffer.from(cached.train.images), Buffer.from(first.train.images)) !== 0) {
      throw new Error('the cached load differs from the first one');
    }
    console.log(`first load: ${firstSec.toFixed(2)} s, ${(images / firstSec).toFixed(0)} images/s (survey, decoding in worker threads, cache write); peak RSS ${rss1.toFixed(0)} MB (${rss0.toFixed(0)} MB before)`);
    console.log(`cached load: ${cachedSec.toFixed(2)} s (${(images / cachedSec).toFixed(0)} images/s); peak RSS ${rss2.toFixed(0)} MB`);
    console.log(`split: ${first.train.count.toLocaleString('en')} train / ${first.test.count.toLocaleString('en')} test, ${first.train.height}×${first.train.width}×${first.train.channels}`);

    const plain = await trainSpeed(cifarSpec([]), cached, o);
    console.log(`training: ${plain.ips.toFixed(1)} img/s — CIFAR CNN, ${plain.params.toLocaleString('en')} parameters, batch ${o.batchSize}, ${o.warmup} warm-up + ${o.batches} timed batches (loss ${plain.loss.toFixed(3)}); ${plain.step}`);
    const augmented = await trainSpeed(
      cifarSpec([
        { class_name: 'RandomFlip', config: { mode: 'horizontal' } },
        { class_name: 'RandomTranslation', config: { height_factor: 0.1, width_factor: 0.1 } },
      ]),
      cached,
      o,
    );
    console.log(`training with RandomFlip + RandomTranslation: ${augmented.ips.toFixed(1)} img/s (${((1 - augmented.ips / plain.ips) * 100).toFixed(1)} % slower); ${augmented.step}`);

    const peer = o.peer ? runPeer<PeerResult>('peer', PEER_SCRIPT, peerArgs(o, backend.threads)) : (console.log('peer: skipped (--no-peer)'), null);
    if (peer) {
      if (peer.params !== plain.params) console.log(`peer: WARNING — ${peer.params} parameters, the workbench's model ${plain.params}`);
      console.log(`vs pytorch ${peer.version} (${peer.threads} threads): ${(plain.ips / peer.trainImgPerSec).toFixed(2)}× its ${peer.trainImgPerSec} img/s training`);
    }
    console.log(`peak RSS of the run: ${rssMb().toFixed(0)} MB`);
    const r1 = (x: number): number => Math.round(x * 10) / 10;
    console.log(
      JSON.stringify({
        mode: 'data',
        backend: backend.name,
        images,
        firstLoadImgPerSec: r1(images / firstSec),
        cachedLoadSeconds: Math.round(cachedSec * 1000) / 1000,
        peakRssMbAfterLoads: Math.round(rss2),
        trainImgPerSec: r1(plain.ips),
        augmentedTrainImgPerSec: r1(augmented.ips),
        peerTrainImgPerSec: peer?.trainImgPerSec ?? null,
        trainRatio: peer ? Math.round((plain.ips / peer.trainImgPerSec) * 100) / 100 : null,
      }),
    );
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}
