/**
 * How responsive the UI-serving thread stays while the lesson's CNN trains: starts the real services
 * in-process (as Electron main and `serve` do), trains `examples/lesson-cnn.json` on real Fashion-MNIST for a
 * bounded number of batches in the training worker, and samples this thread's event-loop delay with
 * `perf_hooks.monitorEventLoopDelay`. Target: p99 < 50 ms (training must never stall the window).
 *
 *   node --import tsx bench/event-loop-lag.ts [batches]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BatchProgress, TrainingFinished } from '../src-main/shared/contract';
import { LESSON_HYPERPARAMETERS, type ModelSpec } from '../src-main/shared/spec';

export interface EventLoopLagOptions {
  /** Training batches to run (one epoch of exactly this many). Default 12. */
  batches?: number;
  /** Default: the lesson's 128. */
  batchSize?: number;
  /** Sampling resolution of the delay histogram (ms). Default 10. */
  resolutionMs?: number;
  /** Seconds of idle sampling first, as a baseline for the machine's own scheduling noise. Default 5; 0 skips. */
  idleSeconds?: number;
}

/** Percentiles of the delay, in ms beyond the sampling timer's own period. */
export interface LagStats {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface EventLoopLag extends LagStats {
  /** The same thread, idle, just before training: what the machine's load alone costs. */
  idle: LagStats | null;
  /** While the worker starts, loads the data and builds the model (before the run exists). */
  startup: LagStats;
  /** Batches trained while sampling, and how long training (from the run's start to its end) took. */
  batches: number;
  seconds: number;
  /** Progress + epoch events the main thread received (throttled to ~10/s by the worker). */
  events: number;
  backend: string;
}

/**
 * `monitorEventLoopDelay` records the time between ticks of a `resolution`-ms timer, so an idle loop reads
 * about `resolution`; the lag is what comes on top of it.
 */
function stats(h: ReturnType<typeof monitorEventLoopDelay>, resolutionMs: number): LagStats {
  const ms = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - resolutionMs) * 100) / 100);
  return { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Trains the lesson CNN in the worker while sampling the main thread's event-loop delay. */
export async function measureEventLoopLag(opts: EventLoopLagOptions = {}): Promise<EventLoopLag> {
  const batches = opts.batches ?? 12;
  const batchSize = opts.batchSize ?? LESSON_HYPERPARAMETERS.batch_size;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-lag-'));
  const previousHome = process.env.CNN_WORKBENCH_HOME;
  process.env.CNN_WORKBENCH_HOME = home;
  const { createServices } = await import('../src-main/services/index');
  const services = createServices({ kind: 'browser', runsDir: path.join(home, 'runs') });
  try {
    const spec = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'lesson-cnn.json'), 'utf8')) as ModelSpec;
    const split = LESSON_HYPERPARAMETERS.validation_split;
    // One epoch of exactly `batches` training batches after the 10% validation hold-out.
    const limitTrain = Math.ceil((batches * batchSize) / (1 - split));
    let events = 0;
    const done = new Promise<TrainingFinished>((resolve, reject) => {
      services.api.training.onTrainingProgress((_p: BatchProgress) => void events++);
      services.api.training.onEpochEnd(() => void events++);
      services.api.training.onTrainingFinished(resolve);
      services.api.training.onTrainingFailed((f) => reject(new Error(`training failed: ${f.error.name}: ${f.error.message}`)));
    });
    const resolution = opts.resolutionMs ?? 10;
    const idleSeconds = opts.idleSeconds ?? 5;
    let idle: LagStats | null = null;
    if (idleSeconds > 0) {
      const baseline = monitorEventLoopDelay({ resolution });
      baseline.enable();
      await new Promise((r) => setTimeout(r, idleSeconds * 1000));
      baseline.disable();
      idle = stats(baseline, resolution);
    }
    const startup = monitorEventLoopDelay({ resolution });
    startup.enable();
    const { runId } = await services.api.training.startTraining({
      spec,
      hyperparameters: { ...LESSON_HYPERPARAMETERS, epochs: 1, batch_size: batchSize, early_stopping: null, reduce_lr_on_plateau: null },
      datasetId: 'fashion-mnist',
      limitTrain,
      limitTest: batchSize,
    });
    startup.disable();
    // From here the run exists and the worker trains: the window the target is about.
    const histogram = monitorEventLoopDelay({ resolution });
    histogram.enable();
    const t0 = performance.now();
    await done;
    histogram.disable();
    const seconds = (performance.now() - t0) / 1000;
    const detail = await services.api.runs.getRun(runId);
    return {
      ...stats(histogram, resolution),
      idle,
      startup: stats(startup, resolution),
      batches,
      seconds: Math.round(seconds * 10) / 10,
      events,
      backend: detail.backend,
    };
  } finally {
    await services.dispose();
    if (previousHome === undefined) delete process.env.CNN_WORKBENCH_HOME;
    else process.env.CNN_WORKBENCH_HOME = previousHome;
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const batches = process.argv[2] ? Number(process.argv[2]) : undefined;
  const r = await measureEventLoopLag({ batches });
  process.stdout.write(
    `event-loop lag on the main thread while the lesson CNN trains ${r.batches} batches in the worker (${r.backend}, ${r.seconds} s of training, ${r.events} events):\n` +
      `  training: p50 ${r.p50Ms} ms   p99 ${r.p99Ms} ms   max ${r.maxMs} ms   (target p99 < 50 ms: ${r.p99Ms < 50 ? 'met' : 'MISSED'})\n` +
      `  startup : p50 ${r.startup.p50Ms} ms   p99 ${r.startup.p99Ms} ms   max ${r.startup.maxMs} ms   (worker start, data load, model build)\n` +
      (r.idle ? `  idle    : p50 ${r.idle.p50Ms} ms   p99 ${r.idle.p99Ms} ms   max ${r.idle.maxMs} ms   (the machine's own scheduling noise; load average ${os.loadavg()[0]!.toFixed(1)})\n` : ''),
  );
}
