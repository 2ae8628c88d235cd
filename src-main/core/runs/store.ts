/**
 * Runs on disk: one folder per run under `runsDir`.
 *
 *   <runsDir>/<id>/
 *     run.json              status, pid, backend, dataset (+ fingerprint), limits, counts, timings, best epoch, results
 *     spec.json             the model spec as trained
 *     hyperparameters.json  the hyperparameters as trained
 *     history.jsonl         one EpochResult per line, rewritten atomically after every epoch
 *     evaluation.json       test metrics, confusion matrix, per-class table, misclassified images, least-confident correct ones
 *     model/                model.json + weights.bin (tfjs layers format)
 *
 * Every write is atomic (temp file + rename), so a crash loses at most the epoch in progress and never
 * leaves a half-written file. A run whose status is still 'running'/'paused' but whose process is gone
 * lists as 'failed' (interrupted): the pid and host are recorded to decide that.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { BackendInfo, DatasetInfo, EpochResult, Evaluation, RunAnnotation, RunDetail, RunStatus, RunSummary, WireError } from '../../shared/contract';
import type { Hyperparameters, ModelSpec } from '../../shared/spec';
import { isProcessAlive, readJson, writeFileAtomic, writeJsonAtomic } from '../fsutil';

/** Bumped if run.json changes incompatibly. */
export const RUN_FORMAT_VERSION = 1;

export const RUN_FILES = {
  run: 'run.json',
  spec: 'spec.json',
  hyperparameters: 'hyperparameters.json',
  history: 'history.jsonl',
  evaluation: 'evaluation.json',
  model: 'model',
} as const;

/** The contents of run.json. */
export interface RunRecord {
  formatVersion: number;
  id: string;
  createdAt: string;
  modelName: string;
  params: number;
  status: RunStatus;
  /** The process that trains (or trained) the run, to detect runs left 'running' by a dead process. */
  pid: number;
  hostname: string;
  backend: BackendInfo;
  dataset: DatasetInfo;
  /**
   * Where the data was read from and its fingerprint then, so an export can load the same data again (an
   * imported folder's id means nothing to another process) and say so when it has moved or changed.
   * Absent in runs written before it was recorded, and for data made in memory.
   */
  dataSource?: DataSource | null;
  limits: { train: number | null; test: number | null };
  /** Images actually used: training part, validation part, test. */
  counts: { train: number; validation: number; test: number };
  startedAt: string;
  finishedAt: string | null;
  durationSeconds: number;
  epochsRun: number;
  /** 1-based epoch whose weights the saved model holds when EarlyStopping restored them; else null. */
  bestEpoch: number | null;
  bestValAccuracy: number | null;
  testAccuracy: number | null;
  testLoss: number | null;
  error: WireError | null;
  /** The user's name and notes (absent in runs saved before they existed). */
  title?: string | null;
  notes?: string;
}

/** A run's data provenance: the folder or CSV file it trained on and that data's fingerprint. */
export interface DataSource {
  path: string;
  fingerprint: string;
}

/** What a new run starts with. */
export interface NewRun {
  spec: ModelSpec;
  hyperparameters: Hyperparameters;
  params: number;
  backend: BackendInfo;
  dataset: DatasetInfo;
  dataSource?: DataSource | null;
  limits: RunRecord['limits'];
  counts: RunRecord['counts'];
  /** For tests; defaults to now. */
  now?: Date;
}

/** Thrown when a run cannot be changed because it is still training. */
export class RunBusyError extends Error {
  override name = 'RunBusyError';
}

/** Thrown for an unknown run id or a run folder that cannot be read; the message names the id/folder. */
export class RunNotFoundError extends Error {
  override name = 'RunNotFoundError';
}

/** `2026-11-28T01-30-00-lesson_cnn-ab12`: sortable by time, readable, unique (4 random hex digits). */
export function makeRunId(modelName: string, now: Date = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, '-');
  const slug = modelName.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'model';
  return `${stamp}-${slug}-${randomBytes(2).toString('hex')}`;
}

const ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Writes one run as it trains. Obtained from `RunStore.create`. */
export class RunWriter {
  private history: EpochResult[] = [];
  private readonly startMs: number;

  constructor(
    readonly dir: string,
    private record: RunRecord,
  ) {
    this.startMs = Date.parse(record.startedAt);
  }

  get id(): string {
    return this.record.id;
  }

  /** A copy of run.json as last written. */
  get current(): RunRecord {
    return { ...this.record };
  }

  private async writeRecord(patch: Partial<RunRecord>): Promise<void> {
    this.record = { ...this.record, ...patch, durationSeconds: (Date.now() - this.startMs) / 1000 };
    await writeJsonAtomic(path.join(this.dir, RUN_FILES.run), this.record);
  }

  /** Appends one epoch to history.jsonl (whole file rewritten atomically: ≤ a few KB) and updates run.json. */
  async appendEpoch(epoch: EpochResult): Promise<void> {
    this.history.push(epoch);
    await writeFileAtomic(path.join(this.dir, RUN_FILES.history), this.history.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const valAccs = this.history.map((e) => e.val_accuracy).filter((v): v is number => v !== null);
    await this.writeRecord({
      epochsRun: this.history.length,
      bestValAccuracy: valAccs.length > 0 ? Math.max(...valAccs) : null,
    });
  }

  /** Records 'running' ⇄ 'paused' (or any status) without finishing the run. */
  async setStatus(status: RunStatus): Promise<void> {
    await this.writeRecord({ status });
  }

  /** Saves the trained model under model/ (atomically, file by file). */
  async saveModel(model: tf.LayersModel): Promise<void> {
    // Imported here, not at the top: listing and reading runs (the app's main process does) must not load tfjs.
    const { saveModelAtomic } = await import('./model-io');
    await saveModelAtomic(model, path.join(this.dir, RUN_FILES.model));
  }

  /** Writes evaluation.json and the headline test metrics into run.json. */
  async writeEvaluation(evaluation: Evaluation): Promise<void> {
    await writeJsonAtomic(path.join(this.dir, RUN_FILES.evaluation), evaluation);
    await this.writeRecord({ testAccuracy: evaluation.testAccuracy, testLoss: evaluation.testLoss });
  }

  /** Marks the run finished with a final status. */
  async finish(status: Exclude<RunStatus, 'running' | 'paused' | 'failed'>, bestEpoch: number | null): Promise<void> {
    await this.writeRecord({ status, bestEpoch, finishedAt: new Date().toISOString() });
  }

  /** Marks the run failed with the reason; never throws (it runs on error paths). */
  async fail(error: WireError): Promise<void> {
    try {
      await this.writeRecord({ status: 'failed', error, finishedAt: new Date().toISOString() });
    } catch {
      // The folder may be gone or the disk full: the caller is already reporting the original error.
    }
  }
}

/** The runs folder: create runs, list them, read one back. */
export class RunStore {
  constructor(readonly runsDir: string) {}

  /** The folder of run `id` (no check that it exists). Rejects ids that could escape runsDir. */
  runDir(id: string): string {
    if (!ID_PATTERN.test(id) || id === '.' || id === '..') throw new RunNotFoundError(`invalid run id "${id}"`);
    return path.join(this.runsDir, id);
  }

  /** Where the run's trained model (model.json + weights.bin) is. */
  modelDir(id: string): string {
    return path.join(this.runDir(id), RUN_FILES.model);
  }

  /** Creates the run folder with spec.json, hyperparameters.json and run.json (status 'running'). */
  async create(run: NewRun): Promise<RunWriter> {
    const now = run.now ?? new Date();
    await fs.mkdir(this.runsDir, { recursive: true });
    let id = makeRunId(run.spec.config.name, now);
    let dir = path.join(this.runsDir, id);
    // mkdir without recursive fails on an existing folder: retry with a new random suffix on a collision.
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.mkdir(dir);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 20) throw err;
        id = makeRunId(run.spec.config.name, now);
        dir = path.join(this.runsDir, id);
      }
    }
    const record: RunRecord = {
      formatVersion: RUN_FORMAT_VERSION,
      id,
      createdAt: now.toISOString(),
      modelName: run.spec.config.name,
      params: run.params,
      status: 'running',
      pid: process.pid,
      hostname: os.hostname(),
      backend: run.backend,
      dataset: run.dataset,
      dataSource: run.dataSource ?? null,
      limits: run.limits,
      counts: run.counts,
      startedAt: now.toISOString(),
      finishedAt: null,
      durationSeconds: 0,
      epochsRun: 0,
      bestEpoch: null,
      bestValAccuracy: null,
      testAccuracy: null,
      testLoss: null,
      error: null,
    };
    await writeJsonAtomic(path.join(dir, RUN_FILES.spec), run.spec);
    await writeJsonAtomic(path.join(dir, RUN_FILES.hyperparameters), run.hyperparameters);
    await writeJsonAtomic(path.join(dir, RUN_FILES.run), record);
    // The history file exists from the start so readers never have to special-case its absence.
    await writeFileAtomic(path.join(dir, RUN_FILES.history), '');
    return new RunWriter(dir, record);
  }

  /** run.json of `id`, with a dead 'running'/'paused' run reported as failed (interrupted). */
  async record(id: string): Promise<RunRecord> {
    const file = path.join(this.runDir(id), RUN_FILES.run);
    let record: RunRecord;
    try {
      record = await readJson<RunRecord>(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new RunNotFoundError(code === 'ENOENT' ? `no run "${id}" in ${this.runsDir}` : `run "${id}": ${(err as Error).message}`);
    }
    return reconcileLiveness(record);
  }

  /** Every run, newest first. Folders that are not runs (no readable run.json) are skipped. */
  async list(): Promise<RunSummary[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.runsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: RunSummary[] = [];
    for (const name of names) {
      if (!ID_PATTERN.test(name) || name.startsWith('.')) continue;
      try {
        out.push(toSummary(await this.record(name), await this.hyperparameters(name)));
      } catch {
        // Not a run folder, or being created right now (run.json not written yet).
      }
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  /** Everything about one run: summary, spec, hyperparameters, history, evaluation, error. */
  async get(id: string): Promise<RunDetail> {
    const record = await this.record(id);
    const dir = this.runDir(id);
    const [spec, hyperparameters, history, evaluation] = await Promise.all([
      readJson<ModelSpec>(path.join(dir, RUN_FILES.spec)),
      readJson<Hyperparameters>(path.join(dir, RUN_FILES.hyperparameters)),
      readHistory(path.join(dir, RUN_FILES.history)),
      readJson<Evaluation>(path.join(dir, RUN_FILES.evaluation)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      }),
    ]);
    return { ...toSummary(record, hyperparameters), spec, hyperparameters, history, evaluation, error: record.error };
  }

  /** hyperparameters.json of `id`, or null when it cannot be read (the list still shows the run). */
  private async hyperparameters(id: string): Promise<Hyperparameters | null> {
    return readJson<Hyperparameters>(path.join(this.runDir(id), RUN_FILES.hyperparameters)).catch(() => null);
  }

  /** Sets a run's name and/or notes in its run.json. */
  async annotate(id: string, annotation: RunAnnotation): Promise<RunSummary> {
    const file = path.join(this.runDir(id), RUN_FILES.run);
    const record = await this.record(id);
    // Written over the file as read (not the reconciled view), so a live run's status is untouched.
    const raw = await readJson<RunRecord>(file);
    const next: RunRecord = {
      ...raw,
      ...(annotation.title !== undefined ? { title: annotation.title === null || annotation.title.trim() === '' ? null : annotation.title.trim() } : {}),
      ...(annotation.notes !== undefined ? { notes: annotation.notes } : {}),
    };
    await writeJsonAtomic(file, next);
    return toSummary({ ...record, title: next.title ?? null, notes: next.notes ?? '' }, await this.hyperparameters(id));
  }

  /** Deletes a run folder. A run still training (a live process) is refused: stop it first. */
  async delete(id: string): Promise<void> {
    const record = await this.record(id);
    if (record.status === 'running' || record.status === 'paused') {
      throw new RunBusyError(`run "${id}" is ${record.status}: stop it before deleting it`);
    }
    await fs.rm(this.runDir(id), { recursive: true, force: true });
  }
}

/** Parses history.jsonl; a torn last line (impossible with atomic writes, but cheap to tolerate) is dropped. */
export async function readHistory(file: string): Promise<EpochResult[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: EpochResult[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as EpochResult);
    } catch {
      break;
    }
  }
  return out;
}

/** A run still marked running/paused whose process is gone on this host was interrupted: report it failed. */
export function reconcileLiveness(record: RunRecord, alive: (pid: number) => boolean = isProcessAlive): RunRecord {
  if (record.status !== 'running' && record.status !== 'paused') return record;
  if (record.hostname !== os.hostname() || alive(record.pid)) return record;
  return {
    ...record,
    status: 'failed',
    error: {
      name: 'Interrupted',
      message: `interrupted: the process that was training this run (pid ${record.pid}) ended before it finished; ${record.epochsRun} epoch(s) were saved`,
    },
  };
}

function toSummary(r: RunRecord, h: Hyperparameters | null): RunSummary {
  return {
    id: r.id,
    createdAt: r.createdAt,
    modelName: r.modelName,
    params: r.params,
    status: r.status,
    epochsRun: r.epochsRun,
    bestValAccuracy: r.bestValAccuracy,
    testAccuracy: r.testAccuracy,
    testLoss: r.testLoss,
    backend: r.backend.name,
    durationSeconds: r.durationSeconds,
    datasetId: r.dataset.id,
    title: r.title ?? null,
    notes: r.notes ?? '',
    optimizer: h?.optimizer.class_name ?? null,
    batchSize: h?.batch_size ?? null,
    learningRate: h?.optimizer.config.learning_rate ?? null,
    trainImages: r.counts.train + r.counts.validation,
  };
}
