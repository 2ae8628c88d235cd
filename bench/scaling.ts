/**
 * `npm run bench -- --scaling [--repeats 3] [--batches 30] [--warmup 5] [--out bench/scaling.md]`: how cost grows
 * (issue 16), ours and the PyTorch peer side by side in the same runs. Each configuration runs in a fresh
 * process (so peak RSS is its own): `bench.ts` itself with `--no-lag`, which runs the peer right after ours.
 * Configurations: batch 32 / 64 / 128 / 256 (width 1, every thread), width ½ and 2 (batch 128), 1 thread
 * (batch 128). Each is run `--repeats` times; the table shows the median run by our training speed (the runs
 * alternate configurations so a burst of load does not hit one configuration only). Prints the markdown table
 * and writes it to `--out` for bench/results.md, with the run's total time.
 *
 * Time on a quiet 2-core machine: ~25 s per run at width 1 (ours ~8 s, the peer ~12 s, start-up), ~60 s at width 2
 * and at 1 thread; with 3 repeats ≈ 9–12 min in all.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface Config {
  label: string;
  batchSize: number;
  width: number;
  /** Threads for ours (CNN_WORKBENCH_THREADS) and the peer (--threads); null = every core. */
  threads: number | null;
}

/** The fields of bench.ts' JSON line this reads. */
export interface BenchLine {
  trainImgPerSec: number;
  /** The same batches under mixed_bfloat16 (absent from lines written before the policy). */
  trainImgPerSecMixedBfloat16?: number;
  evalImgPerSec: number;
  peerTrainImgPerSec: number | null;
  peerEvalImgPerSec: number | null;
  peerPeakRssMb?: number | null;
  trainRatio: number | null;
  evalRatio: number | null;
  peakRssMb: number;
  trainLimitImgPerSec: number;
  evalLimitImgPerSec: number;
  trainCpuMsPerStep?: number;
  threads: number;
  loadAverage: [number, number];
}

export const SCALING_CONFIGS: Config[] = [
  { label: 'batch 32', batchSize: 32, width: 1, threads: null },
  { label: 'batch 64', batchSize: 64, width: 1, threads: null },
  { label: 'batch 128', batchSize: 128, width: 1, threads: null },
  { label: 'batch 256', batchSize: 256, width: 1, threads: null },
  { label: 'width ½ (batch 128)', batchSize: 128, width: 0.5, threads: null },
  { label: 'width 2 (batch 128)', batchSize: 128, width: 2, threads: null },
  { label: '1 thread (batch 128)', batchSize: 128, width: 1, threads: 1 },
];

export interface ScalingOptions {
  repeats: number;
  batches: number;
  warmup: number;
  out: string;
}

export function parseScalingArgs(argv: string[], repo: string): ScalingOptions {
  const o: ScalingOptions = { repeats: 3, batches: 30, warmup: 5, out: path.join(repo, 'bench', 'scaling.md') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer (got '${argv[i] ?? ''}')`);
      return v;
    };
    if (a === '--scaling') continue;
    else if (a === '--repeats') o.repeats = num();
    else if (a === '--batches') o.batches = num();
    else if (a === '--warmup') o.warmup = num();
    else if (a === '--out') o.out = path.resolve(argv[++i] ?? '');
    else throw new Error(`--scaling: unknown flag '${a}' (expected --repeats N, --batches N, --warmup N, --out FILE)`);
  }
  return o;
}

const fmt = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The median of `runs` by our training speed (the row keeps one run's figures together). */
export function medianRun(runs: BenchLine[]): BenchLine {
  const sorted = [...runs].sort((a, b) => a.trainImgPerSec - b.trainImgPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** The markdown table of one scaling run. */
export function scalingTable(rows: { label: string; runs: BenchLine[] }[], header: string): string {
  const lines = [
    header,
    '',
    '| configuration | ours train / inference img/s | ours train, mixed_bfloat16 | peer train / eval img/s | ratio train / eval | limit train / inference img/s | % of limit (ours train / inference) | peak RSS ours / peer | our CPU ms per step | runs (train img/s) | load average |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { label, runs } of rows) {
    if (runs.length === 0) {
      lines.push(`| ${label} | failed | | | | | | | | | |`);
      continue;
    }
    const r = medianRun(runs);
    const pct = (v: number, lim: number): string => `${((v / lim) * 100).toFixed(0)} %`;
    lines.push(
      `| ${label} | ${fmt(r.trainImgPerSec)} / ${fmt(r.evalImgPerSec)} | ${fmt(r.trainImgPerSecMixedBfloat16)} | ${fmt(r.peerTrainImgPerSec)} / ${fmt(r.peerEvalImgPerSec)} | ` +
        `${r.trainRatio === null ? '—' : `${r.trainRatio.toFixed(2)}×`} / ${r.evalRatio === null ? '—' : `${r.evalRatio.toFixed(2)}×`} | ` +
        `${fmt(r.trainLimitImgPerSec)} / ${fmt(r.evalLimitImgPerSec)} | ${pct(r.trainImgPerSec, r.trainLimitImgPerSec)} / ${pct(r.evalImgPerSec, r.evalLimitImgPerSec)} | ` +
        `${fmt(r.peakRssMb)} / ${fmt(r.peerPeakRssMb)} MB | ${fmt(r.trainCpuMsPerStep, 1)} | ${runs.map((x) => fmt(x.trainImgPerSec)).join(', ')} | ` +
        `${r.loadAverage.map((v) => v.toFixed(1)).join(' → ')} |`,
    );
  }
  return lines.join('\n');
}

/** Runs every configuration `repeats` times through bench.ts, prints and writes the table. */
export function runScaling(argv: string[], benchFile: string, repo: string): void {
  const o = parseScalingArgs(argv, repo);
  const t0 = performance.now();
  const results = SCALING_CONFIGS.map((c) => ({ label: c.label, runs: [] as BenchLine[] }));
  for (let rep = 0; rep < o.repeats; rep++) {
    SCALING_CONFIGS.forEach((c, k) => {
      const args = ['--import', 'tsx', benchFile, '--no-lag', '--no-peer-bf16', '--batches', String(o.batches), '--warmup', String(o.warmup), '--batch-size', String(c.batchSize), '--width', String(c.width)];
      const env = { ...process.env };
      if (c.threads !== null) env.CNN_WORKBENCH_THREADS = String(c.threads);
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', env, cwd: repo, timeout: 600_000 });
      const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !last.startsWith('{')) {
        console.log(`${c.label} (run ${rep + 1}): failed — exit ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').pop()}`);
        return;
      }
      const line = JSON.parse(last) as BenchLine;
      results[k]!.runs.push(line);
      console.log(
        `${c.label} (run ${rep + 1}/${o.repeats}): ours ${line.trainImgPerSec} / ${line.evalImgPerSec} img/s, peer ${line.peerTrainImgPerSec ?? '—'} / ${line.peerEvalImgPerSec ?? '—'}, ` +
          `load ${line.loadAverage.join(' → ')}, ${((performance.now() - t0) / 1000).toFixed(0)} s so far`,
      );
    });
  }
  const minutes = (performance.now() - t0) / 60_000;
  const when = new Date().toISOString().replace('T', ' ').slice(0, 16);
  const header =
    `### Scaling (${when} UTC, \`npm run bench -- --scaling --repeats ${o.repeats} --batches ${o.batches} --warmup ${o.warmup}\`, ` +
    `${os.availableParallelism()} cores, ${minutes.toFixed(1)} min in all)\n\n` +
    `Each run is one process: ours, then the PyTorch peer (\`bench/peer-width.py\` runs shared/bench/torch_lesson_cnn.py at the ` +
    `same width) with the same batch size, batches and threads; ours is timed in float32 and, on the same batches, under ` +
    `mixed_bfloat16 (convolutions in bfloat16; ratios and shares of the limit are float32's). The row is the median of ${o.repeats} runs by our training ` +
    `speed. The limit is the FLOP count at the SGEMM peak (176 GFLOP/s per thread): inference = forward FLOPs, training = 3× ` +
    `those. Peak RSS is each process' ru_maxrss (ours includes the dataset and a validation pass).`;
  const table = scalingTable(results, header);
  console.log(`\n${table}\n`);
  fs.writeFileSync(o.out, `${table}\n`);
  console.log(`written to ${path.relative(process.cwd(), o.out)} (${minutes.toFixed(1)} min)`);
}
