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
 *
 * Runs are listed by folder: the folder name is the id (a copied folder is a second run, not a duplicate id).
 * Whatever is on disk, listing never hides or throws: a folder whose files are damaged (run.json not JSON,
 * not a record, not a regular file, missing beside a spec.json, a symlink out of the folder) is listed as
 * `corrupt` with the reason. Files are read only from inside the run's folder, regular files only (a FIFO
 * named run.json would block a read forever), and only up to a size bound.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { BackendInfo, DatasetInfo, EpochResult, Evaluation, RunAnnotation, RunDetail, RunStatus, RunSummary, WireError } from '../../shared/contract';
import type { Hyperparameters, AnyModelSpec } from '../../shared/spec';
import { isProcessAlive, overwriteInPlace, writeFileAtomic, writeJsonAtomic } from '../fsutil';

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
  /** The model file whose weights the run started from (fine-tuning); null or absent: fresh weights. */
  startedFrom?: string | null;
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
  spec: AnyModelSpec;
  hyperparameters: Hyperparameters;
  params: number;
  backend: BackendInfo;
  dataset: DatasetInfo;
  dataSource?: DataSource | null;
  startedFrom?: string | null;
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

/** Thrown when a run's files are damaged; the message names the run, the file and what is wrong with it. */
export class CorruptRunError extends Error {
  override name = 'CorruptRunError';
}

/** Largest file of a run the store reads (run.json is ~1.5 KB; a history of 100,000 epochs is ~25 MB). */
const MAX_READ_BYTES: Record<string, number> = {
  [RUN_FILES.run]: 1024 * 1024,
  [RUN_FILES.spec]: 16 * 1024 * 1024,
  [RUN_FILES.hyperparameters]: 1024 * 1024,
  [RUN_FILES.history]: 64 * 1024 * 1024,
  [RUN_FILES.evaluation]: 64 * 1024 * 1024,
};

/** How long a folder without run.json may be a run being created (mkdir, spec.json, …, run.json) rather than damaged. */
const CREATING_GRACE_MS = 10_000;

// A record keyed by RunStatus, so a status added to the contract cannot be forgotten here (a run with it would
// be listed as corrupt).
const STATUS_KEYS: Record<RunStatus, true> = { running: true, paused: true, completed: true, early_stopped: true, stopped: true, diverged: true, failed: true };
const RUN_STATUSES = Object.keys(STATUS_KEYS) as RunStatus[];

/**
 * Reads `name` inside the run folder `dir`: refused (CorruptRunError naming it) when it is a symlink that leads
 * out of the folder, not a regular file, or larger than its bound. A missing file rejects with the fs error
 * (code ENOENT), for callers to decide whether absence is fine.
 */
export async function readRunFile(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  const runId = path.basename(dir);
  let real = file;
  const link = await fs.lstat(file);
  if (link.isSymbolicLink()) {
    real = await fs.realpath(file).catch(() => file);
    const realDir = await fs.realpath(dir);
    if (!real.startsWith(realDir + path.sep)) throw new CorruptRunError(`run "${runId}": ${name} is a link to ${real}, outside the run's folder; it is not read`);
  }
  const st = await fs.stat(real);
  if (!st.isFile()) throw new CorruptRunError(`run "${runId}": ${name} is not a regular file (${fileKind(st)})`);
  const max = MAX_READ_BYTES[name] ?? 16 * 1024 * 1024;
  if (st.size > max) throw new CorruptRunError(`run "${runId}": ${name} is ${(st.size / 1e6).toFixed(1)} MB, over the ${(max / 1e6).toFixed(0)} MB such a file can be`);
  // O_NONBLOCK: had it become a FIFO since the stat, opening it must not wait for a writer.
  const handle = await fs.open(real, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function fileKind(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}

/** Parses a run's JSON file, naming the run and the file when it is not JSON. */
async function readRunJson(dir: string, name: string): Promise<unknown> {
  const text = await readRunFile(dir, name);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CorruptRunError(`run "${path.basename(dir)}": ${name} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for hyperparameters the list can read its columns from (an optimizer with a config, a batch size). */
function isHyperparameters(h: unknown): h is Hyperparameters {
  return isObject(h) && isObject(h.optimizer) && typeof h.optimizer.class_name === 'string' && isObject(h.optimizer.config);
}

/** Why a parsed run.json is not a run record (the first problem, naming the field), or null when it is one. */
export function recordProblem(raw: unknown): string | null {
  if (!isObject(raw)) return `run.json holds ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`}, not a run record`;
  const need: [keyof RunRecord, (v: unknown) => boolean, string][] = [
    ['createdAt', (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)), 'a date'],
    ['modelName', (v) => typeof v === 'string', 'a string'],
    ['params', (v) => typeof v === 'number', 'a number'],
    ['status', (v) => RUN_STATUSES.includes(v as RunStatus), `one of ${RUN_STATUSES.join(', ')}`],
    ['epochsRun', (v) => typeof v === 'number', 'a number'],
    ['durationSeconds', (v) => typeof v === 'number', 'a number'],
    ['backend', (v) => isObject(v) && typeof v.name === 'string', 'an object with a name'],
    ['dataset', (v) => isObject(v) && typeof v.id === 'string', 'an object with an id'],
    ['counts', (v) => isObject(v) && typeof v.train === 'number' && typeof v.validation === 'number', 'an object {train, validation, test}'],
  ];
  for (const [field, ok, what] of need) {
    if (!(field in raw)) return `run.json has no ${field}`;
    if (!ok(raw[field])) return `run.json: ${field} must be ${what} (found ${JSON.stringify(raw[field])?.slice(0, 60)})`;
  }
  return null;
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
  private readonly startMs: number;

  constructor(
    readonly dir: string,
    private record: RunRecord,
    /** The epochs already recorded (a resumed run continues its history). */
    private history: EpochResult[] = [],
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

  /** Marks the run finished with a final status (and why, for 'diverged'). */
  async finish(status: Exclude<RunStatus, 'running' | 'paused' | 'failed'>, bestEpoch: number | null, error: WireError | null = null): Promise<void> {
    await this.writeRecord({ status, bestEpoch, error, finishedAt: new Date().toISOString() });
  }

  /**
   * Marks the run failed with the reason. Never throws (it runs on error paths): resolves true once run.json
   * says 'failed', false when it could not be recorded — so a caller never claims "marked failed" falsely.
   * On a full disk the atomic write needs a new temp file and fails; run.json is then overwritten in place
   * (its blocks are already allocated), and each attempt is retried a few times, since a failed write's temp
   * file is removed and may have freed the space.
   */
  async fail(error: WireError, attempts = 3): Promise<boolean> {
    this.record = { ...this.record, status: 'failed', error, finishedAt: new Date().toISOString(), durationSeconds: (Date.now() - this.startMs) / 1000 };
    const file = path.join(this.dir, RUN_FILES.run);
    const text = JSON.stringify(this.record, null, 2) + '\n';
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      try {
        await writeFileAtomic(file, text);
        return true;
      } catch {
        // ENOSPC, EDQUOT, EIO…: try the in-place overwrite before the next attempt.
      }
      try {
        await overwriteInPlace(file, text);
        return true;
      } catch {
        // The folder may be gone: the next attempt, or false.
      }
    }
    return false;
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
      startedFrom: run.startedFrom ?? null,
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
    try {
      await writeJsonAtomic(path.join(dir, RUN_FILES.spec), run.spec);
      await writeJsonAtomic(path.join(dir, RUN_FILES.hyperparameters), run.hyperparameters);
      await writeJsonAtomic(path.join(dir, RUN_FILES.run), record);
      // The history file exists from the start so readers never have to special-case its absence.
      await writeFileAtomic(path.join(dir, RUN_FILES.history), '');
    } catch (err) {
      // A half-created run is no run: remove it (if even that fails, the list shows it as corrupt).
      await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOSPC' ? 'the disk is full (ENOSPC)' : e.code === 'EDQUOT' ? 'the disk quota is exceeded (EDQUOT)' : e.message;
      throw new Error(`cannot create run folder ${dir}: ${why}`, { cause: err });
    }
    return new RunWriter(dir, record);
  }

  /**
   * run.json of `id`, with a dead 'running'/'paused' run reported as failed (interrupted). The id is the
   * folder's name, whatever run.json says. Throws RunNotFoundError for no such run, CorruptRunError naming the
   * problem when its files are damaged.
   */
  async record(id: string): Promise<RunRecord> {
    const dir = await this.checkedRunDir(id);
    let raw: unknown;
    try {
      raw = await readRunJson(dir, RUN_FILES.run);
    } catch (err) {
      if (err instanceof CorruptRunError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        const hasSpec = await fs.lstat(path.join(dir, RUN_FILES.spec)).then(() => true, () => false);
        if (hasSpec) throw new CorruptRunError(`run "${id}": run.json is missing (only part of the run was written, e.g. on a full disk)`);
        throw new RunNotFoundError(`no run "${id}" in ${this.runsDir}`);
      }
      throw new CorruptRunError(`run "${id}": run.json cannot be read: ${(err as Error).message}`);
    }
    const problem = recordProblem(raw);
    if (problem) throw new CorruptRunError(`run "${id}": ${problem}`);
    return reconcileLiveness({ ...(raw as RunRecord), id });
  }

  /**
   * The folder of run `id`, checked: it exists, is a folder (not a file or a link out of the runs folder).
   * Throws RunNotFoundError naming the id otherwise.
   */
  async checkedRunDir(id: string): Promise<string> {
    const dir = this.runDir(id);
    const st = await fs.lstat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new RunNotFoundError(`no run "${id}" in ${this.runsDir}`);
      throw new RunNotFoundError(`run "${id}": ${err.message}`);
    });
    if (st.isSymbolicLink()) {
      const [real, root] = await Promise.all([fs.realpath(dir).catch(() => dir), fs.realpath(this.runsDir)]);
      if (!real.startsWith(root + path.sep)) throw new CorruptRunError(`run "${id}": its folder is a link to ${real}, outside the runs folder ${this.runsDir}; it is not read`);
      if (!(await fs.stat(real)).isDirectory()) throw new RunNotFoundError(`no run "${id}" in ${this.runsDir}`);
    } else if (!st.isDirectory()) {
      throw new RunNotFoundError(`no run "${id}" in ${this.runsDir} (${id} is not a folder)`);
    }
    return dir;
  }

  /**
   * Throws CorruptRunError when a file of run `id` that readers outside the store open (the model for export
   * and predict, the JSON files) is a symlink leading out of the run's folder: such files are never served.
   */
  async assertContained(id: string): Promise<void> {
    const dir = await this.checkedRunDir(id);
    const realDir = await fs.realpath(dir);
    const names = [RUN_FILES.run, RUN_FILES.spec, RUN_FILES.hyperparameters, RUN_FILES.history, RUN_FILES.evaluation, RUN_FILES.model];
    const modelFiles = await fs.readdir(path.join(dir, RUN_FILES.model)).catch(() => [] as string[]);
    for (const name of [...names, ...modelFiles.map((f) => path.join(RUN_FILES.model, f))]) {
      const st = await fs.lstat(path.join(dir, name)).catch(() => null);
      if (!st?.isSymbolicLink()) continue;
      const real = await fs.realpath(path.join(dir, name)).catch(() => '(a missing target)');
      if (!real.startsWith(realDir + path.sep)) throw new CorruptRunError(`run "${id}": ${name} is a link to ${real}, outside the run's folder; it is not used`);
    }
  }

  /**
   * Every run, newest first, by folder. Folders that are not runs (no run.json nor spec.json, or a run being
   * created right now) are skipped; a run whose files are damaged is listed as `corrupt` with the reason.
   */
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
      } catch (err) {
        if (err instanceof CorruptRunError) {
          const summary = await this.corruptSummary(name, err.message);
          if (summary) out.push(summary);
        }
        // RunNotFoundError: not a run folder (a file, or a folder without run files).
      }
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  /** What the list shows for a damaged run: what can still be read (the spec's name), and the reason. Null while being created. */
  private async corruptSummary(id: string, problem: string): Promise<RunSummary | null> {
    const dir = this.runDir(id);
    const st = await fs.lstat(dir).catch(() => null);
    if (!st) return null;
    const mtime = st.mtime;
    const hasRecord = await fs.lstat(path.join(dir, RUN_FILES.run)).then(() => true, () => false);
    if (!hasRecord && Date.now() - mtime.getTime() < CREATING_GRACE_MS) return null; // run.json not written yet
    const spec = await readRunJson(dir, RUN_FILES.spec).catch(() => null);
    const name = isObject(spec) && isObject(spec.config) && typeof spec.config.name === 'string' ? spec.config.name : '(unknown model)';
    return {
      id,
      createdAt: mtime.toISOString(),
      modelName: name,
      params: 0,
      status: 'corrupt',
      epochsRun: 0,
      bestValAccuracy: null,
      testAccuracy: null,
      testLoss: null,
      backend: '',
      durationSeconds: 0,
      datasetId: '',
      title: null,
      notes: '',
      optimizer: null,
      batchSize: null,
      learningRate: null,
      trainImages: 0,
      startedFrom: null,
      problem,
    };
  }

  /** Everything about one run: summary, spec, hyperparameters, history, evaluation, error. CorruptRunError names a damaged file. */
  async get(id: string): Promise<RunDetail> {
    const record = await this.record(id);
    const dir = this.runDir(id);
    const required = async (name: string): Promise<unknown> =>
      readRunJson(dir, name).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CorruptRunError(`run "${id}": ${name} is missing`);
        throw err;
      });
    const [spec, hyperparameters, history, evaluation] = await Promise.all([
      required(RUN_FILES.spec),
      required(RUN_FILES.hyperparameters),
      readHistory(path.join(dir, RUN_FILES.history)),
      readRunJson(dir, RUN_FILES.evaluation).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      }),
    ]);
    if (!isObject(spec)) throw new CorruptRunError(`run "${id}": spec.json is not a model spec`);
    if (!isHyperparameters(hyperparameters)) throw new CorruptRunError(`run "${id}": hyperparameters.json is not a set of hyperparameters`);
    if (evaluation !== null && !isObject(evaluation)) throw new CorruptRunError(`run "${id}": evaluation.json is not an evaluation`);
    return {
      ...toSummary(record, hyperparameters),
      spec: spec as unknown as AnyModelSpec,
      hyperparameters,
      history,
      evaluation: evaluation as Evaluation | null,
      error: record.error ?? null,
    };
  }

  /** hyperparameters.json of `id`, or null when it cannot be read or is not hyperparameters (the list still shows the run). */
  private async hyperparameters(id: string): Promise<Hyperparameters | null> {
    const h = await readRunJson(this.runDir(id), RUN_FILES.hyperparameters).catch(() => null);
    return isHyperparameters(h) ? h : null;
  }

  /** Sets a run's name and/or notes in its run.json. */
  async annotate(id: string, annotation: RunAnnotation): Promise<RunSummary> {
    const file = path.join(this.runDir(id), RUN_FILES.run);
    const record = await this.record(id);
    // Written over the file as read (not the reconciled view), so a live run's status is untouched.
    const raw = (await readRunJson(this.runDir(id), RUN_FILES.run)) as RunRecord;
    const next: RunRecord = {
      ...raw,
      ...(annotation.title !== undefined ? { title: annotation.title === null || annotation.title.trim() === '' ? null : annotation.title.trim() } : {}),
      ...(annotation.notes !== undefined ? { notes: annotation.notes } : {}),
    };
    await writeJsonAtomic(file, next);
    return toSummary({ ...record, title: next.title ?? null, notes: next.notes ?? '' }, await this.hyperparameters(id));
  }

  /** Deletes a run folder. A run still training (a live process) is refused: stop it first. A corrupt run may go. */
  async delete(id: string): Promise<void> {
    try {
      const record = await this.record(id);
      if (record.status === 'running' || record.status === 'paused') {
        throw new RunBusyError(`run "${id}" is ${record.status}: stop it before deleting it`);
      }
    } catch (err) {
      if (!(err instanceof CorruptRunError)) throw err;
      // Damaged: no live run writes it, unless it is being created this very moment.
      const st = await fs.lstat(this.runDir(id));
      if (Date.now() - st.mtime.getTime() < CREATING_GRACE_MS) throw new RunBusyError(`run "${id}" is being created: try again in a few seconds`);
    }
    await fs.rm(this.runDir(id), { recursive: true, force: true });
  }
}

/** Parses history.jsonl; a torn last line (impossible with atomic writes, but cheap to tolerate) is dropped. */
export async function readHistory(file: string): Promise<EpochResult[]> {
  let text: string;
  try {
    text = await readRunFile(path.dirname(file), path.basename(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: EpochResult[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let epoch: unknown;
    try {
      epoch = JSON.parse(line);
    } catch {
      break;
    }
    // A damaged line (not an epoch record) ends the history there, as a torn one does.
    if (!isObject(epoch) || typeof epoch.epoch !== 'number') break;
    out.push(epoch as unknown as EpochResult);
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
    startedFrom: typeof r.startedFrom === 'string' ? r.startedFrom : null,
  };
}
