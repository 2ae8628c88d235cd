/**
 * The in-process implementation of the contract (`WorkbenchApi`), shared by Electron main and the
 * browser-mode server. Node only — never imports electron: whatever is Electron-specific (dialogs) is
 * passed in as `ShellDialogs`, so the same code serves a window and a browser tab.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type {
  BackendInfo,
  Activations,
  BatchProgress,
  ClassMap,
  Embedding,
  EpochResult,
  ExportProgress,
  FilterImage,
  KernelImages,
  MenuCommand,
  Project,
  TrainingFailed,
  TrainingFinished,
  TrainingRequest,
  WorkbenchApi,
} from '../shared/contract';
import { defaultRunsDir, userDataDir } from '../core/paths';
import { createCoreBridge, type CoreBridge } from './core-bridge';
import { EventHub } from './events';
import { PathGrants, safeExportName } from './paths';
import { ValidationError, createDispatch, type Dispatch } from './router';
import { ProjectSchema } from './schemas';
import { ExplainWorker } from './explain-worker';
import { OpenedWeightsStore } from './opened-weights';
import { TrainingManager, defaultWorkerUrl } from './training-manager';

export { EventHub } from './events';
export { ValidationError, createDispatch, toWireError, validateArgs, type Dispatch } from './router';
export { TrainingBusyError, RunNotActiveError } from './training-manager';

/** System-wide data folders (Debian's dataset packages) a renderer may import from. */
export const SYSTEM_DATA_ROOTS = ['/usr/share/datasets'];

/** The native file dialogs main offers (Electron). Absent in browser mode. Each resolves null on cancel. */
export interface ShellDialogs {
  chooseDataset(): Promise<string | null>;
  chooseExportFolder(defaultName: string): Promise<string | null>;
  chooseProjectToOpen(): Promise<string | null>;
  chooseProjectToSave(defaultName: string): Promise<string | null>;
}

export interface ServicesOptions {
  /** Keep a standby training worker loaded so Train starts at once (default true; see TrainingManager). */
  prewarm?: boolean;
  kind: 'electron' | 'browser';
  /** Where runs live. Default: `defaultRunsDir()` (under CNN_WORKBENCH_HOME). */
  runsDir?: string;
  /** Folders a renderer may name a dataset path under. Default: the user's data folder and /usr/share/datasets. */
  dataRoots?: string[];
  dialogs?: ShellDialogs;
  /** The training worker's entry (the Electron bundle passes its own `worker.js`). */
  workerUrl?: URL;
  /** Least time between progress events (ms); default 100. */
  progressIntervalMs?: number;
  /** The core functions (tests may narrow them); default: the real core. */
  core?: CoreBridge;
}

/** The services plus the handles their host needs (events for transports, a validated dispatcher, shutdown). */
export interface Services {
  api: WorkbenchApi;
  events: EventHub;
  /** Validated entry point for untrusted callers (IPC, WebSocket). */
  dispatch: Dispatch;
  /** Publishes an application-menu command to the renderer. */
  sendMenuCommand(command: MenuCommand): void;
  /** Terminates the training worker as a crash would (crash tests). Resolves false when none is running. */
  killTrainingWorker(): Promise<boolean>;
  /** Stops training and releases everything. */
  dispose(): Promise<void>;
}

/** Builds the services. Nothing heavy happens until a method is called. */
export function createServices(opts: ServicesOptions): Services {
  const core = opts.core ?? createCoreBridge();
  const runsDir = opts.runsDir ?? defaultRunsDir();
  const grants = new PathGrants(opts.dataRoots ?? [userDataDir(), ...SYSTEM_DATA_ROOTS]);
  const events = new EventHub();
  const opened = new OpenedWeightsStore();
  const training = new TrainingManager({
    events,
    runsDir,
    workerUrl: opts.workerUrl,
    progressIntervalMs: opts.progressIntervalMs,
    onCrash: (runId, error) => core.markFailed(runsDir, runId, error),
    validate: (request) => core.checkTrainable(request.spec, request.hyperparameters),
    openedWeights: (id) => opened.get(id),
    prewarm: opts.prewarm ?? true,
  });
  const { dialogs } = opts;
  const explain = new ExplainWorker(opts.workerUrl ?? defaultWorkerUrl());

  const api: WorkbenchApi = {
    kind: opts.kind,
    model: {
      summarize: (spec) => core.summarizeSpec(spec),
      listTemplates: () => core.templates(),
      async previewAugmentation(spec, datasetId, imageIndex, seed) {
        await core.checkDatasetId(datasetId); // an id, never a path (as for training)
        return training.runTask({ kind: 'augmentPreview', spec, datasetId, imageIndex, seed });
      },
      async openModelFile(file) {
        const { info, weights } = await core.openModelFile(file);
        return { ...info, weights: weights ? opened.hold(file.name, weights) : null };
      },
    },
    datasets: {
      listDatasets: () => core.listDatasets(),
      async importDataset(p?: string) {
        let chosen: string;
        if (p === undefined) {
          if (!dialogs) {
            throw new ValidationError(`datasets.importDataset: in browser mode give a path under ${grants.dataRoots.join(' or ')}`);
          }
          const picked = await dialogs.chooseDataset();
          if (picked === null) return null;
          grants.grant(picked);
          chosen = picked;
        } else {
          chosen = grants.check('datasets.importDataset', 'path', p);
        }
        return core.importDataset(chosen);
      },
      getTestImages: (datasetId, indices) => core.testImages(datasetId, indices),
      describeDataset: (datasetId, perClass) => core.datasetOverview(datasetId, perClass),
    },
    training: {
      getBackend: (): Promise<BackendInfo> => training.backend(),
      getActiveRun: async () => training.activeRun(),
      async startTraining(request: TrainingRequest) {
        // An id, never a path: the worker would otherwise resolve it against this process's working directory.
        await core.checkDatasetId(request.datasetId);
        return training.start(request);
      },
      continueRun: async (runId) => training.start(await core.resumableRequest(runsDir, runId), runId),
      pauseTraining: async (runId) => training.pause(runId),
      resumeTraining: async (runId) => training.resume(runId),
      stopTraining: async (runId) => training.stop(runId),
      onTrainingProgress: (l: (p: BatchProgress) => void) => events.on('training.onTrainingProgress', l),
      onEpochEnd: (l: (e: EpochResult) => void) => events.on('training.onEpochEnd', l),
      onTrainingFinished: (l: (f: TrainingFinished) => void) => events.on('training.onTrainingFinished', l),
      onTrainingFailed: (l: (f: TrainingFailed) => void) => events.on('training.onTrainingFailed', l),
    },
    runs: {
      listRuns: () => core.listRuns(runsDir),
      getRun: (runId) => core.getRun(runsDir, runId),
      annotateRun: (runId, annotation) => core.annotateRun(runsDir, runId, annotation),
      deleteRun: (runId) => core.deleteRun(runsDir, runId),
    },
    exports: {
      async exportModel(runId, format, p) {
        // Browser mode: the path is only a name, checked before anything else is looked up.
        const exportName = dialogs ? null : safeExportName(p ?? format);
        const runDir = await core.runDir(runsDir, runId);
        let outDir: string;
        if (dialogs) {
          // Electron: a folder the user picked now, or one main handed out from an earlier dialog.
          if (p === undefined) {
            const picked = await dialogs.chooseExportFolder(`${runId}-${format}`);
            if (picked === null) return null;
            grants.grant(picked);
            outDir = picked;
          } else {
            outDir = grants.check('exports.exportModel', 'path', p);
          }
        } else {
          // The files stay inside the run's own exports/ folder.
          outDir = path.join(runDir, 'exports', exportName!);
        }
        const progress = (stage: ExportProgress['stage'], message: string): void =>
          events.emit('exports.onExportProgress', { runId, format, stage, message });
        progress('loading', 'loading the trained model');
        // In the worker: the export loads tfjs (and ONNX Runtime) and crunches numbers for seconds.
        const result = await training.runTask({ kind: 'export', runDir, format, outDir }, (stage, message) =>
          progress(stage as ExportProgress['stage'], message),
        );
        progress('done', result.message);
        return result;
      },
      async zipExport(runId, name) {
        if (dialogs) throw new ValidationError('exports.zipExport: the desktop app writes exports straight into the folder you choose; there is nothing to download');
        const folder = safeExportName(name);
        const dir = path.join(await core.runDir(runsDir, runId), 'exports', folder);
        const found = await fs.stat(dir).catch(() => null);
        if (!found?.isDirectory()) throw new ValidationError(`exports.zipExport: run ${runId} has no export named ${JSON.stringify(folder)}; export it first`);
        return training.runTask({ kind: 'zip', dir, fileName: `${runId}-${folder}.zip` });
      },
      async predict(runId, images, options) {
        const runDir = await core.runDir(runsDir, runId);
        const decoded = images.map((im) => ({ name: im.name, bytes: new Uint8Array(Buffer.from(im.base64, 'base64')) }));
        return training.runTask({ kind: 'predict', runDir, images: decoded, invert: options?.invert === true });
      },
      async predictTestImages(runId, indices) {
        const runDir = await core.runDir(runsDir, runId);
        return training.runTask({ kind: 'predictTest', runDir, indices });
      },
      onExportProgress: (l: (p: ExportProgress) => void) => events.on('exports.onExportProgress', l),
    },
    projects: {
      async openProject() {
        if (!dialogs) return null; // browser mode: the renderer reads a file input itself
        const file = await dialogs.chooseProjectToOpen();
        if (file === null) return null;
        let raw: unknown;
        try {
          raw = JSON.parse(await fs.readFile(file, 'utf8'));
        } catch (err) {
          throw new ValidationError(`project file ${file}: not readable JSON (${err instanceof Error ? err.message : String(err)})`);
        }
        const parsed = ProjectSchema.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new ValidationError(`project file ${file}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
        }
        return parsed.data as Project;
      },
      async saveProject(project) {
        if (!dialogs) return null; // browser mode: the renderer offers a download instead
        const file = await dialogs.chooseProjectToSave(`${project.spec.config.name || 'project'}.json`);
        if (file === null) return null;
        await fs.writeFile(file, JSON.stringify(project, null, 2) + '\n', 'utf8');
        return file;
      },
    },
    inside: {
      activations: async (runId, image) => explain.call<Activations>({ method: 'activations', runDir: await core.runDir(runsDir, runId), image }),
      classMap: async (runId, image, method, classIndex) =>
        explain.call<ClassMap>({ method: 'classMap', runDir: await core.runDir(runsDir, runId), image, explain: method, classIndex }),
      kernels: async (runId) => explain.call<KernelImages>({ method: 'kernels', runDir: await core.runDir(runsDir, runId) }),
      exciteFilters: async (runId, layer, filters) =>
        explain.call<FilterImage[]>({ method: 'exciteFilters', runDir: await core.runDir(runsDir, runId), layer, filters }),
      embedding: async (runId, method, seed) =>
        explain.call<Embedding>({ method: 'embedding', runDir: await core.runDir(runsDir, runId), projection: method, seed: seed ?? 1 }),
    },
    app: {
      onMenuCommand: (l) => events.on('app.onMenuCommand', l),
    },
  };

  return {
    api,
    events,
    dispatch: createDispatch(api),
    sendMenuCommand: (command) => events.emit('app.onMenuCommand', command),
    killTrainingWorker: () => training.killWorker(),
    dispose: async () => {
      await Promise.all([training.dispose(), explain.dispose()]);
    },
  };
}
