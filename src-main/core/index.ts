/**
 * The core's public facade: one import for the Electron shell, the browser-mode server, the worker and the
 * CLI. Pure TypeScript + tfjs + Node; never imports electron.
 */
export { runTraining, TrainingError, type TrainJob, type TrainHooks } from './train/train';
export { TrainControl, type TrainState } from './train/control';
export { loadResumableRun, ResumeError, type ResumableRun } from './runs/resume';
export { readCheckpoint, CheckpointError, CHECKPOINT_FILE } from './runs/checkpoint';
export { validateHyperparameters, HyperparameterError } from './train/hyperparameters';
export {
  Callback,
  CallbackList,
  EarlyStopping,
  ReduceLROnPlateau,
  resolveMode,
  type EpochLogs,
  type BatchLogs,
  type TrainerHandle,
  type EarlyStoppingOptions,
} from './train/callbacks';
export { ModelTrainerHandle } from './train/handle';

export { evaluateProbabilities, confusionMatrix, perClassMetrics, macroAverages, confusedPairs, MISCLASSIFIED_CAP } from './eval/metrics';
export { predictProbabilities, evaluateModel, batchNormNotes, PREDICT_BATCH_SIZE } from './eval/predict';

export { RunStore, RunWriter, RunNotFoundError, makeRunId, readHistory, RUN_FILES, type RunRecord, type NewRun } from './runs/store';
export { saveModelAtomic, loadSavedModel, atomicSaveHandler } from './runs/model-io';
export { writeFileAtomic, writeJsonAtomic } from './fsutil';

export * from './model';
export * from './data';
export { initBackend, currentBackend, type InitBackendOptions } from './backend';
export { defaultRunsDir, workbenchHome, userDataDir } from './paths';
