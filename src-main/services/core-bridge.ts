/**
 * The narrow set of core functions the services call, behind one interface, so the services do not
 * depend on how the core spreads them across modules — and so each is loaded only when first used
 * (the UI process starts without paying for tfjs).
 */
import type {
  DatasetInfo,
  ExportFormat,
  ExportReport,
  ImageSample,
  Prediction,
  RunDetail,
  RunSummary,
  WireError,
} from '../shared/contract';
import type { ModelSpec, SpecSummary } from '../shared/spec';

/** What the services need from the core. */
export interface CoreBridge {
  summarizeSpec(spec: ModelSpec): Promise<SpecSummary>;
  templates(): Promise<{ id: string; label: string; spec: ModelSpec }[]>;
  listDatasets(): Promise<DatasetInfo[]>;
  importDataset(path: string): Promise<DatasetInfo>;
  testImages(datasetId: string, indices: number[]): Promise<ImageSample[]>;
  listRuns(runsDir: string): Promise<RunSummary[]>;
  getRun(runsDir: string, runId: string): Promise<RunDetail>;
  /** The run's folder (exports go to `<runDir>/exports/`). */
  runDir(runsDir: string, runId: string): Promise<string>;
  /** Records on disk that a run died without finishing (worker crash), keeping its saved epochs. */
  markFailed(runsDir: string, runId: string, error: WireError): Promise<void>;
  exportModel(runDir: string, format: ExportFormat, outDir: string): Promise<ExportReport>;
  predictImages(runDir: string, images: { name: string; bytes: Uint8Array }[]): Promise<Prediction[]>;
}

/** A core feature that has not been built yet (said plainly instead of failing obscurely). */
export class NotAvailableError extends Error {
  override name = 'NotAvailableError';
}

/** The real core, imported lazily. */
export function createCoreBridge(): CoreBridge {
  const missing = (what: string): never => {
    throw new NotAvailableError(`${what} is not available yet in this build`);
  };
  return {
    summarizeSpec: async () => missing('model summary'),
    templates: async () => missing('model templates'),
    listDatasets: async () => missing('listing datasets'),
    importDataset: async () => missing('dataset import'),
    testImages: async () => missing('test images'),
    listRuns: async () => missing('listing runs'),
    getRun: async () => missing('reading a run'),
    runDir: async () => missing('run folders'),
    markFailed: async () => missing('recording a failed run'),
    exportModel: async () => missing('model export'),
    predictImages: async () => missing('prediction'),
  };
}
