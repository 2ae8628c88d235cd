/**
 * The narrow set of core functions the services call, behind one interface, so the services do not
 * depend on how the core spreads them across modules — and so each is loaded only when first used
 * (the UI process starts without paying for tfjs). Nothing here loads tfjs: export and predict run in the
 * training worker's thread (`TrainingManager.runTask`).
 */
import type {
  DatasetInfo,
  DatasetOverview,
  ImageSample,
  ModelFileUpload,
  OpenedModelInfo,
  RunAnnotation,
  RunDetail,
  RunSummary,
  TrainingRequest,
  WireError,
} from '../shared/contract';
import type { Hyperparameters, AnyModelSpec, SpecSummary } from '../shared/spec';
import type { ImportedWeight } from '../core/model/import';

/** What the services need from the core. */
export interface CoreBridge {
  /** The summary with its memory estimate (`memory`: weights, optimizer, per image; the budget). */
  summarizeSpec(spec: AnyModelSpec): Promise<SpecSummary>;
  /** The request a failed or stopped run was started with; throws ResumeError saying why a run cannot continue. */
  resumableRequest(runsDir: string, runId: string): Promise<TrainingRequest>;
  /** Throws the core's SpecError / HyperparameterError (every problem, named) for a request that cannot train. */
  checkTrainable(spec: AnyModelSpec, hyperparameters: Hyperparameters): Promise<void>;
  templates(): Promise<{ id: string; label: string; spec: AnyModelSpec }[]>;
  /**
   * Converts a Keras / TF.js model file's config, no tfjs loaded; a .keras archive's weights are read too (jsfive),
   * a TF.js model's counted (its shards are other files, not sent).
   */
  openModelFile(file: ModelFileUpload): Promise<{ info: Omit<OpenedModelInfo, 'weights'>; weights: ImportedWeight[] | null }>;
  listDatasets(): Promise<DatasetInfo[]>;
  importDataset(path: string): Promise<DatasetInfo>;
  testImages(datasetId: string, indices: number[]): Promise<ImageSample[]>;
  datasetOverview(datasetId: string, perClass: number): Promise<DatasetOverview>;
  /** Throws a DataError unless `datasetId` names a known dataset by id (never a path). */
  checkDatasetId(datasetId: string): Promise<void>;
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
  const memory = () => import('../core/model/memory');
  return {
    async summarizeSpec(spec) {
      const summary = (await validate()).summarizeSpec(spec);
      return summary.ok ? { ...summary, memory: (await memory()).estimateMemory(summary) } : summary;
    },
    async checkTrainable(spec, hyperparameters) {
      const { summarizeSpec } = await validate();
      const { SpecError } = await import('../core/model/errors');
      const summary = summarizeSpec(spec);
      if (!summary.ok) throw new SpecError(summary.issues);
      const h = (await import('../core/train/hyperparameters')).validateHyperparameters(hyperparameters);
      // Refused here, in milliseconds, before a worker is spent (the worker checks again with the set's size).
      const m = await memory();
      m.checkMemory(m.estimateMemory(summary, m.optimizerSlots(h.optimizer.class_name, h.optimizer.config.momentum)), h.batch_size, spec.config.name);
    },
    async resumableRequest(runsDir, runId) {
      const r = await (await import('../core/runs/resume')).loadResumableRun(runsDir, runId);
      return {
        spec: r.spec,
        hyperparameters: r.hyperparameters,
        datasetId: r.record.dataset.id,
        ...(r.record.limits.train !== null ? { limitTrain: r.record.limits.train } : {}),
        ...(r.record.limits.test !== null ? { limitTest: r.record.limits.test } : {}),
      };
    },
    async openModelFile(file) {
      const { openModelBytes, ModelImportError } = await import('../core/model/import/open');
      const none = (shard: string): Promise<Uint8Array> => Promise.reject(new ModelImportError(`${file.name}: weight shard ${shard} is not read here`));
      const opened = await openModelBytes(Buffer.from(file.base64, 'base64'), file.name, none, { weights: false });
      const notes = [...opened.warnings, ...(opened.weightsNote !== null ? [opened.weightsNote] : [])];
      return { info: { spec: opened.spec, format: opened.format, dialect: opened.dialect, notes }, weights: opened.weights };
    },
    templates: async () => (await import('../core/model/templates')).TEMPLATES.map((t) => ({ id: t.id, label: t.label, spec: t.spec })),
    listDatasets: async () => (await data()).listDatasets(),
    importDataset: async (p) => (await data()).importDataset(p),
    testImages: async (datasetId, indices) => (await data()).getTestImages(datasetId, indices),
    datasetOverview: async (datasetId, perClass) => (await data()).getDatasetOverview(datasetId, perClass),
    checkDatasetId: async (datasetId) => (await data()).checkDatasetId(datasetId),
    listRuns: async (runsDir) => new (await runs()).RunStore(runsDir).list(),
    getRun: async (runsDir, runId) => new (await runs()).RunStore(runsDir).get(runId),
    annotateRun: async (runsDir, runId, annotation) => new (await runs()).RunStore(runsDir).annotate(runId, annotation),
    deleteRun: async (runsDir, runId) => new (await runs()).RunStore(runsDir).delete(runId),
    async runDir(runsDir, runId) {
      const store = new (await runs()).RunStore(runsDir);
      await store.record(runId); // throws RunNotFoundError naming the id when there is no such run
      await store.assertContained(runId); // and CorruptRunError when a file of it links out of its folder
      return store.runDir(runId);
    },
    async markFailed(runsDir, runId, error) {
      const { RunStore, RunWriter } = await runs();
      const store = new RunStore(runsDir);
      // The worker thread shares this process's pid, so the store cannot tell the run died: record it.
      const record = await store.record(runId);
      if (record.status === 'running' || record.status === 'paused') {
        // fail() never throws; a write it could not make (full disk, folder gone) is reported, not claimed.
        const recorded = await new RunWriter(store.runDir(runId), record).fail(error);
        if (!recorded) throw new Error(`run ${runId}: run.json could not be rewritten (disk full or folder gone); it still says '${record.status}'`);
      }
    },
  };
}
