/**
 * `npm run bench -- --paired OTHER.node [--batches 150]`: the lesson CNN's training step on two builds of the native
 * addon in one process — the one built here (native/build, or CNN_WORKBENCH_ADDON) and OTHER.node — the same batches,
 * their steps alternating (which goes first alternates too), so the host's noise falls on both alike.
 *
 * Why: on these shared machines the speed of separate runs minutes apart swings by ±10 % (the same build read 1,650
 * and 2,050 img/s within two minutes), so separate runs could not show a change of 2–4 %; the per-step ratio of a
 * paired run can (its quartiles are printed). How to get OTHER.node: build the commit to compare against in a
 * worktree (`git worktree add /tmp/base HEAD~1 && (cd /tmp/base && bash scripts/build-native.sh)`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../src-main/core/backend';
import { loadAddon, loadAddonFrom } from '../src-main/core/backend/native';
import { gatherBatch, loadDataset } from '../src-main/core/data';
import { buildModel } from '../src-main/core/model';
import { createFusedTrainer, type FusedTrainer } from '../src-main/core/train/fused';
import { LESSON_HYPERPARAMETERS, type ModelSpec } from '../src-main/shared/spec';

interface PairedOptions {
  other: string;
  batches: number;
}

function parsePaired(argv: string[]): PairedOptions {
  const o: PairedOptions = { other: '', batches: 150 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--paired') o.other = argv[++i] ?? '';
    else if (a === '--batches') {
      o.batches = Number(argv[++i]);
      if (!Number.isInteger(o.batches) || o.batches < 10) throw new Error(`--batches needs an integer ≥ 10 (got '${argv[i] ?? ''}')`);
    } else throw new Error(`unknown flag '${a}' with --paired (expected --paired OTHER.node [--batches N])`);
  }
  if (!o.other.endsWith('.node')) throw new Error(`--paired needs the other addon build's .node file (got '${o.other}')`);
  return o;
}

/** The value at fraction q (0..1) of the sorted values. */
const quantile = (values: number[], q: number): number => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!;

export async function runPaired(argv: string[], repo: string): Promise<void> {
  const o = parsePaired(argv);
  const backend = await initBackend();
  if (backend.name !== 'native') throw new Error(`--paired compares native addon builds; the backend here is ${backend.name} (${backend.reason})`);
  const spec = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'lesson-cnn.json'), 'utf8')) as ModelSpec;
  const B = LESSON_HYPERPARAMETERS.batch_size;
  const builds = [
    { name: `this build (${path.relative(repo, process.env.CNN_WORKBENCH_ADDON ?? path.join(repo, 'native', 'build', 'cnnwb.node'))})`, lib: loadAddon() },
    { name: path.basename(o.other), lib: loadAddonFrom(o.other) },
  ];
  // Both from the same initial weights, as two runs of the same seed.
  const trainers: FusedTrainer[] = builds.map(({ lib }) => {
    const model = buildModel(spec, LESSON_HYPERPARAMETERS.seed);
    const plan = createFusedTrainer(model, LESSON_HYPERPARAMETERS.optimizer, LESSON_HYPERPARAMETERS.seed, B, backend, { addon: lib });
    if (!plan.ok) throw new Error(`no fused step: ${plan.reason}`);
    return plan.trainer;
  });
  const pool = 50;
  const ds = await loadDataset('fashion-mnist', { limitTrain: B * pool });
  const x = new Float32Array(B * 28 * 28);
  const labels = new Int32Array(B);
  const lr = LESSON_HYPERPARAMETERS.optimizer.config.learning_rate;
  const warmup = 10;
  const ms: number[][] = [[], []];
  console.log(`paired A/B: the lesson CNN, batch ${B}, ${warmup} warm-up + ${o.batches} steps each, alternating`);
  for (let i = 0; i < warmup + o.batches; i++) {
    gatherBatch(ds.train, Int32Array.from({ length: B }, (_, j) => (i % pool) * B + j), ds.info.classNames.length, x, labels);
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const t0 = performance.now();
      trainers[k]!.step(x, labels, B, lr);
      if (i >= warmup) ms[k]!.push(performance.now() - t0);
    }
  }
  trainers.forEach((t) => t.dispose());
  builds.forEach((b, k) => {
    const t = ms[k]!;
    console.log(`  ${'AB'[k]} ${b.name}: ms per step min ${quantile(t, 0).toFixed(2)}, quartiles ${[0.25, 0.5, 0.75].map((q) => quantile(t, q).toFixed(2)).join(' / ')}`);
  });
  const ratio = ms[1]!.map((b, i) => b / ms[0]![i]!);
  const [q1, med, q3] = [0.25, 0.5, 0.75].map((q) => quantile(ratio, q));
  console.log(`  B ÷ A per step: quartiles ${q1!.toFixed(3)} / ${med!.toFixed(3)} / ${q3!.toFixed(3)} (below 1: B is faster)`);
  console.log(JSON.stringify({ paired: true, a: builds[0]!.name, b: builds[1]!.name, medianRatio: Number(med!.toFixed(4)), quartiles: [q1, q3].map((v) => Number(v!.toFixed(4))), steps: o.batches }));
}
