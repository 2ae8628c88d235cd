/**
 * `npm run bench -- --resnet`: the small-ResNet template on real Fashion-MNIST — a stem Conv 3×3 (16) → BatchNorm → ReLU,
 * three residual blocks (16 with an identity shortcut; 32 and 64 with stride 2 and a 1×1 projection + BatchNorm on
 * the shortcut), global average pooling, Dense 10 softmax — trained and inferred through what the app runs (the
 * fused native step on the graph, the native inference pass; tfjs when they do not cover it, with the reason),
 * side by side with the same network in PyTorch (bench/torch_resnet.py) in the same run. Prints human lines, then
 * one JSON line: {"model":"resnet",…,"trainImgPerSec":…,"evalImgPerSec":…,"peerTrainImgPerSec":…,"trainRatio":…}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../src-main/shared/contract';
import type { AnyModelSpec, OptimizerSpec } from '../src-main/shared/spec';
import { gatherBatch, loadDataset, toTensors } from '../src-main/core/data';
import { buildModel, createOptimizer } from '../src-main/core/model';
import { createPredictor } from '../src-main/core/eval/predictor';
import { createFusedTrainer } from '../src-main/core/train/fused';
import { peerArgs, runPeer } from './peer';

const here = path.dirname(fileURLToPath(import.meta.url));
const PEER_SCRIPT = path.join(here, 'torch_resnet.py');
const ADAM: OptimizerSpec = { class_name: 'adam', config: { learning_rate: 1e-3 } };

export interface ResnetBenchOptions {
  batches: number;
  warmup: number;
  batchSize: number;
  peer: boolean;
}

/** The bench's ResNet: the small-ResNet template (examples/small-resnet.json), the same network as bench/torch_resnet.py. */
export function smallResnet(): tf.LayersModel {
  const spec = JSON.parse(fs.readFileSync(path.join(here, '..', 'examples', 'small-resnet.json'), 'utf8')) as AnyModelSpec;
  return buildModel(spec, 1);
}

interface PeerResult {
  trainImgPerSec: number;
  evalImgPerSec: number;
  version: string;
  threads: number;
}

export async function runResnetBench(o: ResnetBenchOptions, backend: BackendInfo): Promise<void> {
  const model = smallResnet();
  model.compile({ optimizer: createOptimizer(ADAM), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const B = o.batchSize;
  const total = o.warmup + o.batches;
  const ds = await loadDataset('fashion-mnist', { limitTrain: B * total });
  const k = ds.info.classNames.length;
  console.log(`resnet: ${model.countParams().toLocaleString('en')} parameters (BatchNorm moving statistics included); batch ${B}, ${o.warmup} warm-up + ${o.batches} timed batches`);
  const fused = createFusedTrainer(model, ADAM, 1, B, backend);
  console.log(`resnet training step: ${fused.ok ? fused.trainer.description : `tfjs layers trainOnBatch (${fused.reason})`}`);
  const batches = Array.from({ length: fused.ok ? 0 : total }, (_, i) => toTensors(ds.train, Int32Array.from({ length: B }, (_, j) => i * B + j), k));
  const x = new Float32Array(B * 28 * 28);
  const labels = new Int32Array(B);
  const trainBatch = async (i: number): Promise<number> => {
    if (fused.ok) {
      gatherBatch(ds.train, Int32Array.from({ length: B }, (_, j) => i * B + j), k, x, labels);
      return fused.trainer.step(x, labels, B, ADAM.config.learning_rate).loss;
    }
    const out = await model.trainOnBatch(batches[i]!.x, batches[i]!.y);
    return Array.isArray(out) ? out[0]! : out;
  };
  for (let i = 0; i < o.warmup; i++) await trainBatch(i);
  let loss = NaN;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = o.warmup; i < total; i++) loss = await trainBatch(i);
  const trainSec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  if (fused.ok) {
    fused.trainer.pushToModel();
    fused.trainer.dispose();
  }
  tf.dispose(batches.flatMap((b) => [b.x, b.y]));
  const trainIps = (o.batches * B) / trainSec;

  const evalX = new Float32Array(B * 28 * 28);
  gatherBatch(ds.train, Int32Array.from({ length: B }, (_, j) => j), k, evalX, new Int32Array(B));
  const predictor = createPredictor(model, backend);
  console.log(`resnet inference: ${predictor.description}`);
  predictor.predict(evalX, B);
  const t1 = performance.now();
  for (let i = 0; i < o.batches; i++) predictor.predict(evalX, B);
  const evalIps = (o.batches * B) / ((performance.now() - t1) / 1000);
  predictor.dispose();
  model.dispose();
  console.log(
    `resnet ours: train ${trainIps.toFixed(1)} img/s (last loss ${loss.toFixed(4)}, CPU ${((cpu.user + cpu.system) / 1000 / o.batches).toFixed(1)} ms per step), inference ${evalIps.toFixed(1)} img/s`,
  );
  const peer = o.peer ? runPeer<PeerResult>('resnet peer', PEER_SCRIPT, peerArgs(o, Math.max(1, backend.threads))) : null;
  if (!o.peer) console.log('resnet peer: skipped (--no-peer)');
  const trainRatio = peer ? trainIps / peer.trainImgPerSec : null;
  const evalRatio = peer ? evalIps / peer.evalImgPerSec : null;
  if (peer) console.log(`resnet ours ÷ PyTorch ${peer.version} (${peer.threads} threads): train ${trainRatio!.toFixed(2)}×, inference ${evalRatio!.toFixed(2)}×`);
  console.log(`load average ${os.loadavg()[0].toFixed(1)} at the end (other processes share these ${os.availableParallelism()} cores)`);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  console.log(
    JSON.stringify({
      model: 'resnet', backend: backend.name, fused: fused.ok, batchSize: B, batches: o.batches,
      trainImgPerSec: round(trainIps), evalImgPerSec: round(evalIps),
      peerTrainImgPerSec: peer?.trainImgPerSec ?? null, peerEvalImgPerSec: peer?.evalImgPerSec ?? null,
      trainRatio: round(trainRatio), evalRatio: round(evalRatio),
    }),
  );
}
