/**
 * Messages between the services (main thread) and the training worker thread. Types only: both sides
 * import them, and only structured-cloneable plain data crosses.
 */
import type { AugmentationPreview, BackendInfo, BatchProgress, EpochResult, ExplainMethod, ExportArchive, ExportFormat, ExportProgress, ExportResult, ImageRef, Prediction, TrainingFinished, WireError } from '../shared/contract';
import type { Hyperparameters, AnyModelSpec } from '../shared/spec';
import type { ImportedWeight } from '../core/model/import';

/** What one training run needs; sent as `workerData`. */
export interface WorkerTrainingJob {
  spec: AnyModelSpec;
  hyperparameters: Hyperparameters;
  datasetId: string;
  runsDir: string;
  limitTrain?: number;
  limitTest?: number;
  /** Least time between two progress messages (ms): 100 = at most 10 per second. */
  progressIntervalMs: number;
  /** Continue this failed or stopped run from its checkpoint (spec and hyperparameters are then the run's own). */
  resumeRunId?: string;
  /** Start from these weights (an opened model file's: fine-tuning); Float32Arrays, cloned to the worker. */
  initialWeights?: { source: string; weights: ImportedWeight[] };
  /** Score `initialWeights` without training (`TrainingRequest.evaluateOnly`). */
  evaluateOnly?: boolean;
}

/**
 * Work with a trained model that must not load tfjs into the thread serving the UI: export, predict, zip an
 * export for download. Run by the standby worker (tfjs already loaded) or, while a run trains, by a second one.
 */
export type WorkerTask =
  | { kind: 'export'; runDir: string; format: ExportFormat; outDir: string }
  | { kind: 'predict'; runDir: string; images: { name: string; bytes: Uint8Array }[]; invert: boolean }
  | { kind: 'predictTest'; runDir: string; indices: number[] }
  | { kind: 'zip'; dir: string; fileName: string }
  | { kind: 'augmentPreview'; spec: AnyModelSpec; datasetId: string; imageIndex: number; seed: number };

/** What each task kind resolves with. */
export interface WorkerTaskResults {
  export: ExportResult;
  predict: Prediction[];
  predictTest: Prediction[];
  zip: ExportArchive;
  augmentPreview: AugmentationPreview;
}

/**
 * `workerData`: train a job; only report which backend would train (no run is created); stand by — load
 * tfjs, the backend and the default dataset now, report the backend, run tasks, then train the `job` message
 * it gets; or only run tasks (while the standby worker is training).
 */
export type WorkerData = { mode: 'train'; job: WorkerTrainingJob } | { mode: 'probe' } | { mode: 'standby' } | { mode: 'tasks' } | { mode: 'explain' };

/** One question to the explain worker about the run in `runDir` (the `inside` service's methods). */
export type ExplainCall =
  | { method: 'activations'; runDir: string; image: ImageRef }
  | { method: 'classMap'; runDir: string; image: ImageRef; explain: ExplainMethod; classIndex: number }
  | { method: 'kernels'; runDir: string }
  | { method: 'exciteFilters'; runDir: string; layer: string; filters: number[] }
  | { method: 'embedding'; runDir: string; projection: 'pca' | 'umap'; seed: number };

/** main → explain worker: a call with its id. */
export interface ExplainRequest {
  id: number;
  call: ExplainCall;
}

/** explain worker → main: the answer to request `id` (plain data) or its error. */
export type ExplainReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: WireError };

/** main → worker. */
export type ToWorker =
  | { type: 'control'; action: 'pause' | 'resume' | 'stop' }
  | { type: 'job'; job: WorkerTrainingJob }
  | { type: 'task'; id: number; task: WorkerTask };

/** worker → main. Messages arrive in the order sent; `finished` or `failed` is always the last. */
export type FromWorker =
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'started'; runId: string; backend: BackendInfo }
  | { type: 'progress'; progress: BatchProgress }
  | { type: 'epoch'; epoch: EpochResult }
  | { type: 'log'; message: string }
  | { type: 'finished'; finished: TrainingFinished }
  | { type: 'failed'; runId: string | null; error: WireError }
  | { type: 'taskProgress'; id: number; stage: ExportProgress['stage']; message: string }
  | { type: 'taskDone'; id: number; result: WorkerTaskResults[keyof WorkerTaskResults] }
  | { type: 'taskFailed'; id: number; error: WireError };
