/**
 * The contract's method and event names as plain data, so the preload, the main-process router, the
 * browser-mode server and the WebSocket client all derive their channels from one list instead of
 * spelling them four times. Type-checked against `WorkbenchApi`: adding a method to the contract
 * without listing it here is a compile error.
 */
import type { WorkbenchApi } from './contract';

/** The services of `WorkbenchApi` that carry request/response methods. */
export type ServiceName = 'model' | 'datasets' | 'training' | 'runs' | 'exports' | 'projects' | 'inside';

type Service<S extends ServiceName> = WorkbenchApi[S];
/** Names of a service's request methods (everything but its `onX` subscriptions). */
export type MethodName<S extends ServiceName> = {
  [K in keyof Service<S>]: K extends `on${string}` ? never : Service<S>[K] extends (...args: never[]) => unknown ? K : never;
}[keyof Service<S>] &
  string;

/** Every request method, by service. */
export const API_METHODS = {
  model: ['summarize', 'listTemplates', 'previewAugmentation', 'openModelFile'],
  datasets: ['listDatasets', 'importDataset', 'getTestImages', 'describeDataset'],
  training: ['getBackend', 'getActiveRun', 'startTraining', 'continueRun', 'pauseTraining', 'resumeTraining', 'stopTraining'],
  runs: ['listRuns', 'getRun', 'annotateRun', 'deleteRun'],
  exports: ['exportModel', 'zipExport', 'predict', 'predictTestImages'],
  projects: ['openProject', 'saveProject'],
  inside: ['activations', 'classMap', 'kernels', 'exciteFilters', 'embedding'],
} as const satisfies { [S in ServiceName]: readonly MethodName<S>[] };

// Exhaustiveness: every method of every service appears above.
type Missing = { [S in ServiceName]: Exclude<MethodName<S>, (typeof API_METHODS)[S][number]> }[ServiceName];
const _allMethodsListed: [Missing] extends [never] ? true : Missing = true;

/** A channel name for a request: `service.method`, e.g. `model.summarize`. */
export type MethodChannel = { [S in ServiceName]: `${S}.${(typeof API_METHODS)[S][number]}` }[ServiceName];

/** Every request channel, e.g. `['model.summarize', …]`. */
export const METHOD_CHANNELS: readonly MethodChannel[] = (Object.keys(API_METHODS) as ServiceName[]).flatMap((service) =>
  API_METHODS[service].map((method) => `${service}.${method}` as MethodChannel),
);

/** Push events from the services to the renderer: channel `service.onX` → the subscription method's name. */
export const API_EVENTS = {
  'training.onTrainingProgress': { service: 'training', method: 'onTrainingProgress' },
  'training.onEpochEnd': { service: 'training', method: 'onEpochEnd' },
  'training.onTrainingFinished': { service: 'training', method: 'onTrainingFinished' },
  'training.onTrainingFailed': { service: 'training', method: 'onTrainingFailed' },
  'exports.onExportProgress': { service: 'exports', method: 'onExportProgress' },
  'app.onMenuCommand': { service: 'app', method: 'onMenuCommand' },
} as const;

/** An event channel name, e.g. `training.onEpochEnd`. */
export type EventChannel = keyof typeof API_EVENTS;

/** Electron IPC channel for a request (`ipcRenderer.invoke`). */
export const ipcInvokeChannel = (channel: MethodChannel): string => `workbench:${channel}`;
/** Electron IPC channel for an event (`webContents.send`). */
export const ipcEventChannel = (channel: EventChannel): string => `workbench:${channel}`;
