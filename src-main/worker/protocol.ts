/**
 * Messages between the services (main thread) and the training worker thread. Types only: both sides
 * import them, and only structured-cloneable plain data crosses.
 */
import type { BackendInfo, BatchProgress, EpochResult, TrainingFinished, WireError } from '../shared/contract';
import type { Hyperparameters, ModelSpec } from '../shared/spec';

/** What one training run needs; sent as `workerData`. */
export interface WorkerTrainingJob {
  spec: ModelSpec;
  hyperparameters: Hyperparameters;
  datasetId: string;
  runsDir: string;
  limitTrain?: number;
  limitTest?: number;
  /** Least time between two progress messages (ms): 100 = at most 10 per second. */
  progressIntervalMs: number;
  /** Continue this failed or stopped run from its checkpoint (spec and hyperparameters are then the run's own). */
  resumeRunId?: string;
}

/**
 * `workerData`: train a job; only report which backend would train (no run is created); or stand by — load
 * tfjs, the backend and the default dataset now, report the backend, then train the `job` message it gets.
 */
export type WorkerData = { mode: 'train'; job: WorkerTrainingJob } | { mode: 'probe' } | { mode: 'standby' };

/** main → worker. */
export type ToWorker = { type: 'control'; action: 'pause' | 'resume' | 'stop' } | { type: 'job'; job: WorkerTrainingJob };

/** worker → main. Messages arrive in the order sent; `finished` or `failed` is always the last. */
export type FromWorker =
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'started'; runId: string; backend: BackendInfo }
  | { type: 'progress'; progress: BatchProgress }
  | { type: 'epoch'; epoch: EpochResult }
  | { type: 'log'; message: string }
  | { type: 'finished'; finished: TrainingFinished }
  | { type: 'failed'; runId: string | null; error: WireError };
