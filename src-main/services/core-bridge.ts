/**
 * The narrow set of core functions the services call, behind one interface, so the services do not
 * depend on how the core spreads them across modules — and so each is loaded only when first used
 * (the UI process starts without paying for tfjs). Nothing here loads tfjs: export and predict run in the
 * training worker's thread (`TrainingManager.runTask`).
 */
import type {
  DatasetInfo,
  ImageSample,
  RunAnnotation,
  RunDetail,
  RunSummary,
  WireError,
} from '../shared/contract';
import type { Hyperparameters, ModelSpec, SpecSummary } from '../shared/spec';

/** What the services need from the core. */
export interface CoreBridge {
  summarizeSpec(spec: ModelSpec): Promise<SpecSummary>;
  /** Throws the core's SpecError / HyperparameterError (every problem, named) for a request that cannot train. */
  checkTrainable(spec: ModelSpec, hyperparameters: Hyperparameters): Promise<void>;
  templates(): Promise<{ id: string; label: string; spec: ModelSpec }[]>;
  listDatasets(): Promise<DatasetInfo[]>;
  importDataset(path: string): Promise<DatasetInfo>;
  testImages(datasetId: string, indices: number[]): Promise<ImageSample[]>;
  listRuns(runsDir: string): Promise<RunSummary[]>;
  getRun(runsDir: string, runId: string): Promise<RunDetail>;
  annotateRun(runsDir: string, runId: string, annotation: RunAnnotation): Promise<RunSummary>;
  deleteRun(runsDir: string, runId: string): Promise<void>;
  /** The run's folder (exports go to `<runDir>/exports/`). */
  runDir(runsDir: string, runId: string): Promise<string>;
  /** Records on disk that a run died without finishing (worker crash), keeping its saved epochs. */
  markFailed(runsDir: string, runId: string, error: WireError): Promise<void>;
}

/**
 * The real core. Each module is imported on first use: the services start (and the window appears)
 * without loading tfjs, and a core module that fails to load breaks only the methods that need it.
 */
export function createCoreBridge(): CoreBridge {
  // The spec checks and templates without the rest of the model module: they do not need tfjs, and loading tfjs
  // into the app's main process stalls its event loop (see registry.ts).
  const validate = () => import('../core/model/validate');
  // The catalog, not the data module's index: that one re-exports the tensor helpers, which load tfjs.
  const data = () => import('../core/data/catalog');
  const runs = () => import('../core/runs/store');
  return {
    summarizeSpec: async (spec) => (await validate()).summarizeSpec(spec),
    async checkTrainable(spec, hyperparameters) {
      const { summarizeSpec } = await validate();
      const { SpecError } = await import('../core/model/errors');
      const summary = summarizeSpec(spec);
      if (!summary.ok) throw new SpecError(summary.issues);
      (await import('../core/train/hyperparameters')).validateHyperparameters(hyperparameters);
    },
    templates: async () => (await import('../core/model/templates')).TEMPLATES.map((t) => ({ id: t.id, label: t.label, spec: t.spec })),
    listDatasets: async () => (await data()).listDatasets(),
    importDataset: async (p) => (await data()).importDataset(p),
    testImages: async (datasetId, indices) => (await data()).getTestImages(datasetId, indices),
    listRuns: async (runsDir) => new (await runs()).RunStore(runsDir).list(),
    getRun: async (runsDir, runId) => new (await runs()).RunStore(runsDir).get(runId),
    annotateRun: async (runsDir, runId, annotation) => new (await runs()).RunStore(runsDir).annotate(runId, annotation),
    deleteRun: async (runsDir, runId) => new (await runs()).RunStore(runsDir).delete(runId),
    async runDir(runsDir, runId) {
      const store = new (await runs()).RunStore(runsDir);
      await store.record(runId); // throws RunNotFoundError naming the id when there is no such run
      return store.runDir(runId);
    },
    async markFailed(runsDir, runId, error) {
      const { RunStore, RunWriter } = await runs();
      const store = new RunStore(runsDir);
      // The worker thread shares this process's pid, so the store cannot tell the run died: record it.
      const record = await store.record(runId);
      if (record.status === 'running' || record.status === 'paused') await new RunWriter(store.runDir(runId), record).fail(error);
    },
  };
}
