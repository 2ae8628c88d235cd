/**
 * The live training run as the dashboard and the results view see it: the phase (what the buttons may do),
 * the latest throttled batch progress, the per-epoch history, the per-batch samples for the smoothed line,
 * and the evaluation when the run ends. One instance, held by AppState, so the run survives view switches.
 */
import type {
  BatchProgress,
  EpochResult,
  TrainingFailed,
  TrainingFinished,
  TrainingRequest,
  WorkbenchApi,
} from '$shared/contract';
import { getApi } from '../api/client';
import { batchX, thin, type Point } from '../charts/series';
import { errorMessage } from './metrics-format';
import { parseSpeeds, type SpeedsByPolicy } from './estimates';

const SPEED_KEY = 'cnn-workbench-speed';
/** The cost of the run in flight, by run id: a window reloaded mid-run still records that run's speed. */
const COST_KEY = 'cnn-workbench-run-cost';

function store(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // No storage: estimates last for this page only.
  }
}

function costOf(runId: string): { cost: number; modelName: string } | null {
  try {
    const c = JSON.parse(localStorage.getItem(COST_KEY) ?? 'null') as { runId: string; cost: number; modelName: string } | null;
    return c && c.runId === runId && c.cost > 0 ? { cost: c.cost, modelName: c.modelName } : null;
  } catch {
    return null;
  }
}

/** The last training speeds measured in this browser, one per dtype policy (for estimates before Train). */
function loadSpeeds(): SpeedsByPolicy {
  try {
    return parseSpeeds(JSON.parse(typeof localStorage === 'undefined' ? 'null' : (localStorage.getItem(SPEED_KEY) ?? 'null')));
  } catch {
    return {};
  }
}

/** idle → starting → running ⇄ paused → stopping → finished | failed. */
export type TrainingPhase = 'idle' | 'starting' | 'running' | 'paused' | 'stopping' | 'finished' | 'failed';

/** Phases in which a run is in flight (Train is disabled, the window still works). */
const ACTIVE: ReadonlySet<TrainingPhase> = new Set(['starting', 'running', 'paused', 'stopping']);

export class TrainingState {
  phase = $state<TrainingPhase>('idle');
  runId = $state<string | null>(null);
  /** What was asked for: the results view needs its datasetId for the gallery. */
  request = $state.raw<TrainingRequest | null>(null);
  progress = $state.raw<BatchProgress | null>(null);
  history = $state.raw<EpochResult[]>([]);
  /** Per-batch training loss / accuracy samples, x in fractional epochs. */
  batchLoss = $state.raw<Point[]>([]);
  batchAccuracy = $state.raw<Point[]>([]);
  finished = $state.raw<TrainingFinished | null>(null);
  /** A failure or a refused command, as a sentence for the user. */
  error = $state<string | null>(null);
  /** Bumped when a run ends, so the run list knows to reload. */
  completedRuns = $state(0);
  /** The last speed measured under each policy (kept across reloads): what the estimate before Train scales from. */
  speeds = $state.raw<SpeedsByPolicy>(loadSpeeds());
  /** The cost per image of the run this window started (see estimates.ts), to record its speed against. */
  #cost: { cost: number; modelName: string } | null = null;

  readonly active = $derived(ACTIVE.has(this.phase));
  readonly canPause = $derived(this.phase === 'running' && this.runId !== null);
  readonly canResume = $derived(this.phase === 'paused');
  readonly canStop = $derived((this.phase === 'running' || this.phase === 'paused') && this.runId !== null);

  #api: () => WorkbenchApi;
  #subscribed = false;

  /** `api` is injectable for a throwaway harness; the app uses the real client. */
  constructor(api: () => WorkbenchApi = getApi) {
    this.#api = api;
  }

  /** Subscribes to the training events once; idempotent, so every view that needs them may call it. */
  connect(): void {
    if (this.#subscribed) return;
    this.#subscribed = true;
    const t = this.#api().training;
    t.onTrainingProgress((p) => this.#onProgress(p));
    t.onEpochEnd((e) => this.#onEpoch(e));
    t.onTrainingFinished((f) => this.#onFinished(f));
    t.onTrainingFailed((f) => this.#onFailed(f));
  }

  /**
   * Asks the services which run is active and follows it now, rather than at its next progress event (a
   * paused run sends none). Never throws: without an answer the live events still adopt the run.
   */
  async attach(): Promise<void> {
    this.connect();
    try {
      const active = await this.#api().training.getActiveRun();
      if (!active || this.runId === active.runId || !this.#adopt(active.runId)) return;
      if (active.progress && !this.progress) this.#onProgress(active.progress);
      if (active.status === 'paused') this.phase = 'paused';
    } catch {
      // An older server or a dropped connection: the events reattach at the next batch.
    }
  }

  /** Starts a run; the previous run's curves and results are cleared. `cost` lets its speed feed later estimates. */
  async start(request: TrainingRequest, cost: number | null = null): Promise<void> {
    if (this.active) return;
    this.connect();
    this.#cost = cost === null ? null : { cost, modelName: request.spec.config.name };
    this.#reset('starting', null, request);
    try {
      const { runId } = await this.#api().training.startTraining(request);
      if (this.#cost) store(COST_KEY, { runId, ...this.#cost });
      // Events may have arrived (and set runId) before the reply did; a finished run stays finished.
      this.runId = runId;
      if (this.phase === 'starting') this.phase = 'running';
    } catch (e) {
      this.phase = 'failed';
      this.error = `Training did not start: ${errorMessage(e)}`;
    }
  }

  /**
   * Continues a failed or stopped run from its last checkpoint and follows it here. Resolves with why the
   * services refused it (no checkpoint, a run already training), or null when it continues.
   */
  async continueRun(runId: string): Promise<string | null> {
    if (this.active) return `a run is training (${this.runId ?? 'starting'}): stop it before resuming another`;
    this.connect();
    try {
      await this.#api().training.continueRun(runId);
    } catch (e) {
      return errorMessage(e);
    }
    // Its events may already have been adopted; otherwise (or if it is the finished run shown here) follow it.
    if (this.runId !== runId || !this.active) this.#follow(runId);
    return null;
  }

  async pause(): Promise<void> {
    if (!this.canPause || !this.runId) return;
    await this.#command(() => this.#api().training.pauseTraining(this.runId as string), 'Pause', 'paused');
  }

  async resume(): Promise<void> {
    if (!this.canResume || !this.runId) return;
    await this.#command(() => this.#api().training.resumeTraining(this.runId as string), 'Resume', 'running');
  }

  /** Cooperative: the run ends after the current batch and is evaluated; `finished` arrives as an event. */
  async stop(): Promise<void> {
    if (!this.canStop || !this.runId) return;
    await this.#command(() => this.#api().training.stopTraining(this.runId as string), 'Stop', 'stopping');
  }

  async #command(call: () => Promise<void>, label: string, next: TrainingPhase): Promise<void> {
    const before = this.phase;
    this.phase = next;
    try {
      await call();
      this.error = null;
    } catch (e) {
      if (this.phase === next) this.phase = before;
      this.error = `${label} failed: ${errorMessage(e)}`;
    }
  }

  #reset(phase: TrainingPhase, runId: string | null, request: TrainingRequest | null): void {
    this.phase = phase;
    this.runId = runId;
    this.request = request;
    this.progress = null;
    this.history = [];
    this.batchLoss = [];
    this.batchAccuracy = [];
    this.finished = null;
    this.error = null;
  }

  /** While starting, the first event names our run; a finished run's late events are ignored. */
  #mine(runId: string): boolean {
    if (this.runId === null && this.phase === 'starting') this.runId = runId;
    return runId === this.runId;
  }

  /**
   * A run this window did not start (another window, or this one before a reload) is followed when nothing
   * else is in flight, so the dashboard shows what the services are busy with. Its record on disk supplies
   * the setup and the epochs already done.
   */
  #adopt(runId: string): boolean {
    if (this.#mine(runId)) return true;
    if (this.active) return false;
    this.#follow(runId);
    return true;
  }

  /** Shows `runId` as the live run, its setup and earlier epochs read from its record. */
  #follow(runId: string): void {
    this.#reset('running', runId, null);
    this.#cost = costOf(runId);
    this.#api()
      .runs.getRun(runId)
      .then((run) => {
        if (this.runId !== runId) return;
        this.request = { spec: run.spec, hyperparameters: run.hyperparameters, datasetId: run.datasetId };
        // A local lookup inside one update, not state.
        // eslint-disable-next-line svelte/prefer-svelte-reactivity
        const seen = new Set(this.history.map((h) => h.epoch));
        this.history = [...run.history.filter((h) => !seen.has(h.epoch)), ...this.history].sort((a, b) => a.epoch - b.epoch);
      })
      .catch(() => {
        // The live events still draw the curves; only the earlier epochs and the dataset are missing.
      });
  }

  #onProgress(p: BatchProgress): void {
    if (!this.#adopt(p.runId)) return;
    this.progress = p;
    const x = batchX(p);
    this.batchLoss = thin([...this.batchLoss, { x, y: p.loss }]);
    this.batchAccuracy = thin([...this.batchAccuracy, { x, y: p.accuracy }]);
    if (this.phase === 'starting') this.phase = 'running';
  }

  #onEpoch(e: EpochResult): void {
    if (!this.#adopt(e.runId)) return;
    this.history = [...this.history.filter((h) => h.epoch !== e.epoch), e];
    // A whole epoch's speed is the honest measurement (the first batches include warm-up).
    this.#cost ??= costOf(e.runId);
    if (this.#cost && e.imagesPerSec > 0) {
      const dtypePolicy = this.request?.hyperparameters.dtype_policy ?? 'float32';
      this.speeds = { ...this.speeds, [dtypePolicy]: { imagesPerSec: e.imagesPerSec, ...this.#cost, dtypePolicy } };
      store(SPEED_KEY, this.speeds);
    }
  }

  #onFinished(f: TrainingFinished): void {
    if (!this.#mine(f.runId)) return;
    this.finished = f;
    this.phase = 'finished';
    this.completedRuns += 1;
  }

  #onFailed(f: TrainingFailed): void {
    if (!this.#mine(f.runId)) return;
    this.phase = 'failed';
    this.error = `Training failed: ${f.error.message}`;
    this.completedRuns += 1;
  }
}
