/**
 * Owns the training worker thread: at most one run at a time, pause/resume/stop by message, progress and
 * epoch events republished on the event hub, and a crashed or killed worker turned into a failed run
 * instead of a dead app. Training (tfjs) never runs on the thread that serves the UI.
 */
import { Worker } from 'node:worker_threads';
import type { ActiveRunInfo, BackendInfo, BatchProgress, TrainingRequest, WireError } from '../shared/contract';
import type { FromWorker, ToWorker, WorkerData, WorkerTask, WorkerTaskResults, WorkerTrainingJob } from '../worker/protocol';
import type { EventHub } from './events';
import { OpenedWeightsError, type HeldWeights } from './opened-weights';
import { toWireError, ValidationError } from './router';

/** A second `startTraining` while a run is active. */
export class TrainingBusyError extends Error {
  override name = 'TrainingBusyError';
}

/** A pause/resume/stop for a run that is not the active one. */
export class RunNotActiveError extends Error {
  override name = 'RunNotActiveError';
}

/** Where the worker entry lives. Under tsx (tests, CLI) a bootstrap registers tsx first; bundled, `worker.js`. */
export function defaultWorkerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../worker/bootstrap.mjs', import.meta.url)
    : new URL('./worker.js', import.meta.url);
}

export interface TrainingManagerOptions {
  events: EventHub;
  runsDir: string;
  workerUrl?: URL;
  /** Least time between progress events (ms). Default 100: at most ~10 per second. */
  progressIntervalMs?: number;
  /** Called when a run dies without reporting (worker crash or kill): persist the failure. */
  onCrash?(runId: string, error: WireError): Promise<void>;
  /** Checks a request before a worker is spent on it (a bad spec fails in milliseconds, not after a worker start). */
  validate?(request: TrainingRequest): Promise<void>;
  /** The weights a request's `startFromWeights` names; throws when they are not held. */
  openedWeights?(id: string): HeldWeights;
  /**
   * Keep a standby worker with tfjs, the backend and the default dataset already loaded, so that Train starts
   * in a fraction of a second instead of ~3 s (started after the backend probe and after every run).
   */
  prewarm?: boolean;
}

interface ActiveRun {
  worker: Worker;
  runId: string | null;
  status: 'running' | 'paused';
  /** The last progress relayed, for a window that attaches mid-run. */
  progress: BatchProgress | null;
  /** Set once `finished` or `failed` arrived: the worker's exit after that is expected. */
  settled: boolean;
}

/** A task sent to a worker and not answered yet. */
interface PendingTask {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?(stage: string, message: string): void;
}

/**
 * The tasks in flight on one worker: answers matched by id, and every one rejected if the worker dies. The
 * worker is referenced only while tasks are in flight, so an idle one never keeps the process alive.
 */
class TaskChannel {
  readonly pending = new Map<number, PendingTask>();

  constructor(readonly worker: Worker) {
    this.attach();
  }

  private readonly onMessage = (m: FromWorker): void => {
    if (m.type === 'taskProgress') this.pending.get(m.id)?.onProgress?.(m.stage, m.message);
    else if (m.type === 'taskDone' || m.type === 'taskFailed') {
      const task = this.pending.get(m.id);
      if (!task) return;
      this.pending.delete(m.id);
      if (m.type === 'taskDone') task.resolve(m.result);
      else task.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
      if (this.pending.size === 0) this.onIdle();
    }
  };
  private readonly onError = (err: Error): void =>
    this.failAll({ name: 'WorkerCrashed', message: `the worker running the export or prediction crashed: ${toWireError(err).message}` });
  private readonly onExit = (code: number): void =>
    this.failAll({ name: 'WorkerCrashed', message: `the worker running the export or prediction exited (code ${code}) before answering` });

  private attach(): void {
    this.worker.on('message', this.onMessage);
    this.worker.on('error', this.onError);
    this.worker.on('exit', this.onExit);
  }

  /**
   * Removes this channel's listeners (a standby taken for training, once the run's own listeners are on: a
   * Worker stops delivering messages when its last 'message' listener goes, and never `removeAllListeners()`
   * on it — that also drops Node's own hook that restarts delivery).
   */
  detach(): void {
    this.worker.off('message', this.onMessage);
    this.worker.off('error', this.onError);
    this.worker.off('exit', this.onExit);
  }

  /** Called when the last pending task is answered. */
  onIdle: () => void = () => undefined;

  send(id: number, task: WorkerTask, pending: PendingTask): void {
    this.pending.set(id, pending);
    this.worker.ref();
    this.worker.postMessage({ type: 'task', id, task } satisfies ToWorker);
  }

  failAll(error: WireError): void {
    const tasks = [...this.pending.values()];
    this.pending.clear();
    for (const t of tasks) t.reject(Object.assign(new Error(error.message), { name: error.name }));
  }
}

/** Runs training in a worker thread and relays its events. */
export class TrainingManager {
  private active: ActiveRun | null = null;
  /** True while a start is being validated: a second start is refused then too. */
  private starting = false;
  private backendInfo: Promise<BackendInfo> | null = null;
  /** A worker in 'standby' mode, waiting for its job (unref'd: it never keeps the process alive). */
  private standby: Worker | null = null;
  private disposed = false;
  private readonly workerUrl: URL;
  /** Task bookkeeping of the standby worker, and of the worker that runs tasks while the standby trains. */
  private standbyTasks: TaskChannel | null = null;
  /** The standby's own error/exit listener (removed when a run takes it). */
  private standbyDrop: (() => void) | null = null;
  private sideTasks: TaskChannel | null = null;
  private nextTaskId = 1;

  constructor(private readonly opts: TrainingManagerOptions) {
    this.workerUrl = opts.workerUrl ?? defaultWorkerUrl();
  }

  /** The active run as the contract reports it (paused included); null when idle or before its id is known. */
  activeRun(): ActiveRunInfo | null {
    const run = this.active;
    if (!run || run.runId === null || run.settled) return null;
    return { runId: run.runId, status: run.status, progress: run.progress };
  }

  /** The active run's id and status, or null when idle. */
  get current(): { runId: string | null; status: 'running' | 'paused' } | null {
    return this.active ? { runId: this.active.runId, status: this.active.status } : null;
  }

  /** Which backend trains here; probed once in a short-lived worker so main never loads tfjs. */
  backend(): Promise<BackendInfo> {
    this.backendInfo ??= new Promise<BackendInfo>((resolve, reject) => {
      const worker = new Worker(this.workerUrl, { workerData: { mode: 'probe' } satisfies WorkerData });
      worker.once('message', (m: FromWorker) => {
        if (m.type === 'backend') resolve(m.backend);
        else reject(new Error(`backend probe: unexpected message '${m.type}'`));
        void worker.terminate().then(() => this.prewarm());
      });
      worker.once('error', (err) => reject(err));
      worker.once('exit', (code) => reject(new Error(`backend probe worker exited with code ${code} before answering`)));
    }).catch((err: unknown) => {
      this.backendInfo = null; // let a later call try again
      throw err;
    });
    return this.backendInfo;
  }

  /** Starts the standby worker when prewarming is on and none is waiting (no-op while a run trains). */
  prewarm(): void {
    if (!this.opts.prewarm || this.standby || this.active || this.disposed) return;
    const worker = new Worker(this.workerUrl, { workerData: { mode: 'standby' } satisfies WorkerData });
    worker.unref();
    this.standby = worker;
    const channel = new TaskChannel(worker);
    channel.onIdle = () => {
      if (this.standby === worker) worker.unref();
    };
    this.standbyTasks = channel;
    const drop = (): void => {
      if (this.standby === worker) {
        this.standby = null;
        this.standbyTasks = null;
      }
    };
    worker.on('error', drop);
    worker.on('exit', drop);
    this.standbyDrop = drop;
    this.retireSideWorker();
  }

  /**
   * Runs an export / predict / zip task where training runs: in the standby worker (tfjs already loaded) when
   * one waits, else in a task worker of its own (while the standby trains, or when prewarming is off). The
   * thread serving the UI never loads tfjs for it.
   */
  runTask<K extends WorkerTask['kind']>(
    task: Extract<WorkerTask, { kind: K }>,
    onProgress?: (stage: string, message: string) => void,
  ): Promise<WorkerTaskResults[K]> {
    if (this.disposed) return Promise.reject(new Error('the workbench services are shutting down'));
    if (!this.standby && !this.active) this.prewarm();
    const channel = this.standby && this.standbyTasks ? this.standbyTasks : this.sideChannel();
    const id = this.nextTaskId++;
    return new Promise<WorkerTaskResults[K]>((resolve, reject) => {
      channel.send(id, task, { resolve: resolve as (v: unknown) => void, reject, onProgress });
    });
  }

  private sideChannel(): TaskChannel {
    if (this.sideTasks) return this.sideTasks;
    const worker = new Worker(this.workerUrl, { workerData: { mode: 'tasks' } satisfies WorkerData });
    worker.unref();
    const channel = new TaskChannel(worker);
    channel.onIdle = () => {
      worker.unref();
      this.retireSideWorker();
    };
    worker.on('exit', () => {
      if (this.sideTasks === channel) this.sideTasks = null;
    });
    this.sideTasks = channel;
    return channel;
  }

  /** Ends the side task worker once it is idle and a standby can take the tasks (one tfjs copy is enough). */
  private retireSideWorker(): void {
    const side = this.sideTasks;
    if (!side || side.pending.size > 0 || !this.standby) return;
    this.sideTasks = null;
    void side.worker.terminate();
  }

  /** True while a standby worker is waiting for a run (for tests and diagnostics). */
  get hasStandby(): boolean {
    return this.standby !== null;
  }

  /**
   * Starts a run (in the standby worker when one waits); resolves with its id once the worker created it.
   * With `resumeRunId`, the worker continues that run from its checkpoint instead (`request` is the run's own).
   */
  async start(request: TrainingRequest, resumeRunId?: string): Promise<{ runId: string }> {
    if (this.active || this.starting) {
      const id = this.active?.runId ?? '(starting)';
      throw new TrainingBusyError(`a training run is already in progress (run ${id}); stop it before starting another`);
    }
    if (request.evaluateOnly && request.startFromWeights === undefined) {
      throw new ValidationError('training.startTraining: evaluateOnly scores weights opened from a file: give startFromWeights too');
    }
    this.starting = true;
    let initialWeights: HeldWeights | undefined;
    try {
      await this.opts.validate?.(request);
      initialWeights = request.startFromWeights === undefined ? undefined : this.openedWeights(request.startFromWeights);
    } finally {
      this.starting = false;
    }
    return this.spawn(request, resumeRunId, initialWeights);
  }

  private openedWeights(id: string): HeldWeights {
    if (!this.opts.openedWeights) throw new OpenedWeightsError('startFromWeights: these services hold no opened weights');
    return this.opts.openedWeights(id);
  }

  private spawn(request: TrainingRequest, resumeRunId?: string, initialWeights?: HeldWeights): Promise<{ runId: string }> {
    const job: WorkerTrainingJob = {
      spec: request.spec,
      hyperparameters: request.hyperparameters,
      datasetId: request.datasetId,
      runsDir: this.opts.runsDir,
      limitTrain: request.limitTrain,
      limitTest: request.limitTest,
      progressIntervalMs: this.opts.progressIntervalMs ?? 100,
      ...(resumeRunId ? { resumeRunId } : {}),
      ...(initialWeights ? { initialWeights } : {}),
      ...(request.evaluateOnly ? { evaluateOnly: true } : {}),
    };
    let worker: Worker;
    let standbyTasks: TaskChannel | null = null;
    if (this.standby) {
      worker = this.standby;
      standbyTasks = this.standbyTasks;
      const drop = this.standbyDrop;
      this.standby = null;
      this.standbyTasks = null;
      this.standbyDrop = null;
      if (drop) {
        worker.off('error', drop);
        worker.off('exit', drop);
      }
      worker.ref();
      worker.postMessage({ type: 'job', job } satisfies ToWorker);
    } else {
      worker = new Worker(this.workerUrl, { workerData: { mode: 'train', job } satisfies WorkerData });
    }
    const run: ActiveRun = { worker, runId: null, status: 'running', progress: null, settled: false };
    this.active = run;
    const { events } = this.opts;

    const started = new Promise<{ runId: string }>((resolve, reject) => {
      let answered = false;
      const fail = (error: WireError): void => {
        if (run.settled) return;
        run.settled = true;
        if (this.active === run) this.active = null;
        setImmediate(() => this.prewarm());
        if (!answered) {
          answered = true;
          reject(Object.assign(new Error(error.message), { name: error.name }));
          return;
        }
        const runId = run.runId ?? '';
        const persist = this.opts.onCrash && run.runId ? this.opts.onCrash(run.runId, error) : Promise.resolve();
        void persist
          .catch((err: unknown) => process.emitWarning(`could not record run ${runId} as failed: ${toWireError(err).message}`))
          .finally(() => events.emit('training.onTrainingFailed', { runId, error }));
      };

      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'started':
            run.runId = m.runId;
            answered = true;
            resolve({ runId: m.runId });
            break;
          case 'progress':
            run.progress = m.progress;
            events.emit('training.onTrainingProgress', m.progress);
            break;
          case 'epoch':
            events.emit('training.onEpochEnd', m.epoch);
            break;
          case 'log':
            break;
          case 'finished':
            run.settled = true;
            if (this.active === run) this.active = null;
            events.emit('training.onTrainingFinished', m.finished);
            void worker.terminate().then(() => this.prewarm());
            break;
          case 'failed': {
            // The worker reported the failure itself (and the core recorded it): relay it, no crash handling.
            if (m.runId) run.runId = m.runId;
            const wasAnswered = answered;
            run.settled = true;
            if (this.active === run) this.active = null;
            if (!wasAnswered) {
              answered = true;
              reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
            } else {
              events.emit('training.onTrainingFailed', { runId: run.runId ?? '', error: m.error });
            }
            void worker.terminate().then(() => this.prewarm());
            break;
          }
          case 'backend':
            break;
        }
      });
      worker.on('error', (err) => {
        fail({ name: 'WorkerCrashed', message: `the training worker crashed: ${toWireError(err).message}` });
      });
      worker.on('exit', (code) => {
        fail({ name: 'WorkerCrashed', message: `the training worker exited unexpectedly (exit code ${code}) before the run finished` });
      });
    });
    // The standby's task listeners go now that the run's are on, unless tasks sent before the job are still
    // being answered (the worker finishes them before it trains).
    if (standbyTasks && standbyTasks.pending.size === 0) standbyTasks.detach();
    return started;
  }

  private send(runId: string, message: ToWorker): ActiveRun {
    const run = this.active;
    if (!run || run.runId !== runId) {
      throw new RunNotActiveError(`run ${JSON.stringify(runId)} is not the active run${run?.runId ? ` (active: ${run.runId})` : ''}`);
    }
    run.worker.postMessage(message);
    return run;
  }

  /** Pauses the active run after its current batch. */
  pause(runId: string): void {
    this.send(runId, { type: 'control', action: 'pause' }).status = 'paused';
  }

  /** Resumes a paused run. */
  resume(runId: string): void {
    this.send(runId, { type: 'control', action: 'resume' }).status = 'running';
  }

  /** Asks the active run to stop after its current batch (it then evaluates and finishes as 'stopped'). */
  stop(runId: string): void {
    this.send(runId, { type: 'control', action: 'stop' });
  }

  /** Terminates the worker as a crash would (used by tests and by shutdown). Resolves when it is gone. */
  async killWorker(): Promise<boolean> {
    const run = this.active;
    if (!run) return false;
    await run.worker.terminate();
    return true;
  }

  /** Stops everything on shutdown; a run in progress is recorded as interrupted, its saved epochs kept. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const standby = this.standby;
    this.standby = null;
    this.standbyTasks = null;
    if (standby) await standby.terminate();
    const side = this.sideTasks;
    this.sideTasks = null;
    if (side) await side.worker.terminate();
    const run = this.active;
    if (!run) return;
    run.settled = true; // shutting down is not a crash: no failure event to a closing UI
    this.active = null;
    await run.worker.terminate();
    if (run.runId && this.opts.onCrash) {
      await this.opts
        .onCrash(run.runId, { name: 'Interrupted', message: 'interrupted: the workbench was closed while this run was training' })
        .catch(() => undefined);
    }
  }
}
