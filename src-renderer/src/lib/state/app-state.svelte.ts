/**
 * The renderer's root state: one instance, created in app.svelte and passed down as a prop.
 * Each area keeps its own state class in this folder (project.svelte.ts for the editor + form,
 * training.svelte.ts for the dashboard and results, runs.svelte.ts for the run list); this class only
 * holds them and what is truly global: the current view, the connection to the services, the backend,
 * the dataset list and the templates.
 */
import type { BackendInfo, DatasetInfo, MenuCommand, WorkbenchApi } from '$shared/contract';
import type { AnyModelSpec } from '$shared/spec';
import { getApi } from '../api/client';
import { DEFAULT_DATASET_ID, ProjectState } from './project.svelte';
import { openProject, saveProject } from './project-io';
import { TrainingState } from './training.svelte';
import { timeOf } from './clock';
import { RunsState } from './runs.svelte';
import { CanvasState } from '../canvas/canvas-state.svelte';
import { requestExport } from './model-export.svelte';

export type View = 'model' | 'data' | 'train' | 'results' | 'runs';

/** A ready-made spec offered by the core. */
export interface Template {
  id: string;
  label: string;
  spec: AnyModelSpec;
}

/** A short message for the status line (saved, opened, failed…). */
export interface Notice {
  kind: 'info' | 'error';
  text: string;
}

/**
 * After this long without an answer the header says so. Calls are not abandoned: the socket client queues
 * them until it connects, so a slow start recovers by itself when the answers arrive.
 */
const SLOW_AFTER_MS = 10_000;

/** The model shown at startup: the lesson's CNN, ready to train on Fashion-MNIST. */
const STARTUP_TEMPLATE_ID = 'lesson-cnn';

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String(e.message) : String(e));

export class AppState {
  title = 'CNN Workbench';
  view = $state<View>('model');
  /** How the Model view shows the network: the layer list or the canvas of blocks and wires. */
  modelLayout = $state<'list' | 'canvas'>('list');

  /**
   * `connecting` until the first calls answer (`slow` when that takes long: a cold start on a busy machine
   * loads tfjs first); `offline` when every call failed, with the reason in `connectionError`.
   */
  connection = $state<'connecting' | 'slow' | 'ready' | 'offline'>('connecting');
  connectionError = $state<string | null>(null);
  backend = $state.raw<BackendInfo | null>(null);
  datasets = $state.raw<DatasetInfo[]>([]);
  templates = $state.raw<Template[]>([]);
  notice = $state.raw<Notice | null>(null);

  /** The project being edited: spec, hyperparameters, dataset — what Train starts from. */
  readonly project: ProjectState;
  /** The canvas' positions, selection and clipboard: kept while the Model view switches between list and canvas. */
  readonly canvas: CanvasState;
  readonly api: () => WorkbenchApi;
  /** The live run (dashboard, results) and the run list: training.svelte.ts, runs.svelte.ts. */
  readonly training = new TrainingState(() => this.api());
  readonly runs = new RunsState(() => this.api());

  /** `api` is injectable for a throwaway harness; the app uses the real client. */
  constructor(api: () => WorkbenchApi = getApi) {
    this.api = api;
    this.project = new ProjectState(api);
    this.canvas = new CanvasState(this.project);
  }

  /**
   * First contact with the services: backend, datasets, templates, and a first summary. Never throws.
   * Each call is judged on its own, so one unfinished service does not hide the others; only when none
   * answers are the services called unreachable.
   */
  async connect(): Promise<void> {
    this.connection = 'connecting';
    // The previous session's work first (autosave), so the startup model never replaces it.
    if (this.project.pristine && this.project.restore()) {
      const at = this.project.restoredAt ? timeOf(this.project.restoredAt) : '';
      this.say('info', `Restored your work from this browser${at ? ` (last change at ${at})` : ''}.`);
    }
    this.project.scheduleSummary();
    let api: WorkbenchApi;
    try {
      api = this.api();
    } catch (e) {
      this.connection = 'offline';
      this.connectionError = messageOf(e);
      return;
    }
    this.#listenToMenu(api);
    const slow = setTimeout(() => {
      if (this.connection === 'connecting') this.connection = 'slow';
    }, SLOW_AFTER_MS);
    // A run in flight (started before a reload, or by another window) is followed at once, paused included.
    void this.training.attach();
    const [backend, datasets, templates] = await Promise.allSettled([api.training.getBackend(), api.datasets.listDatasets(), api.model.listTemplates()]);
    clearTimeout(slow);
    const failures: string[] = [];
    if (backend.status === 'fulfilled') this.backend = backend.value;
    else failures.push(`backend: ${messageOf(backend.reason)}`);
    if (datasets.status === 'fulfilled') {
      this.datasets = datasets.value;
      this.project.datasets = datasets.value;
      const current = this.project.datasetId;
      if (!current || (datasets.value.length > 0 && !datasets.value.some((d) => d.id === current))) {
        this.project.datasetId = datasets.value.find((d) => d.id === DEFAULT_DATASET_ID)?.id ?? datasets.value[0]?.id ?? null;
      }
    } else failures.push(`datasets: ${messageOf(datasets.reason)}`);
    if (templates.status === 'fulfilled') {
      this.templates = templates.value;
      // Start where the lesson starts, unless the user has begun something else meanwhile.
      const lesson = this.templates.find((t) => t.id === STARTUP_TEMPLATE_ID);
      if (lesson && this.project.pristine) this.project.startWith(lesson.spec);
    } else failures.push(`templates: ${messageOf(templates.reason)}`);

    if (failures.length === 3) {
      this.connection = 'offline';
      this.connectionError = failures.join('; ');
    } else {
      this.connection = 'ready';
      this.connectionError = null;
      if (failures.length > 0) this.say('error', `Some services did not answer — ${failures.join('; ')}`);
    }
  }

  /**
   * Handle an application-menu command (Electron) in an area that owns it, e.g. the results view for
   * `model.export`. The project and edit commands are handled here. Returns a function that unregisters.
   */
  handleMenuCommand(command: MenuCommand, handler: () => void): () => void {
    this.#menuHandlers.set(command, handler);
    return () => {
      if (this.#menuHandlers.get(command) === handler) this.#menuHandlers.delete(command);
    };
  }

  // Handlers are looked up when a command arrives, never rendered: a plain Map is enough.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #menuHandlers = new Map<MenuCommand, () => void>();
  #menuSubscribed = false;

  #listenToMenu(api: WorkbenchApi): void {
    if (this.#menuSubscribed || !api.app) return;
    this.#menuSubscribed = true;
    api.app.onMenuCommand((command) => this.#runMenuCommand(command));
  }

  #runMenuCommand(command: MenuCommand): void {
    const custom = this.#menuHandlers.get(command);
    if (custom) return custom();
    switch (command) {
      case 'project.new':
        this.view = 'model';
        return this.project.newProject();
      case 'project.open':
        this.view = 'model';
        return void openProject(this);
      case 'project.save':
        return void saveProject(this);
      case 'edit.undo':
        return this.project.undo();
      case 'edit.redo':
        return this.project.redo();
      case 'model.export':
        return this.#exportCurrentRun();
      case 'dataset.import':
        this.view = 'data';
        return void this.importDataset().catch((e: unknown) => this.say('error', `Import failed: ${messageOf(e)}`));
      default:
        this.say('info', `"${command}" is not available in this view`);
    }
  }

  /**
   * File ▸ Export Model… (Ctrl+E): the export panel of the run on screen — the run open in Runs, else the run
   * just trained (shown in Results) — or a note saying what to do first.
   */
  #exportCurrentRun(): void {
    const sel = this.runs.selection;
    const opened = sel.kind === 'one' && this.runs.details[sel.id]?.evaluation ? sel.id : null;
    if (opened && (this.view === 'runs' || !this.training.finished)) {
      this.view = 'runs';
      return requestExport(opened);
    }
    if (this.training.finished) {
      this.view = 'results';
      return requestExport(this.training.finished.runId);
    }
    this.say('info', 'Export Model… needs a trained run: train one, or open a finished run in Runs.');
  }

  /**
   * Import a dataset (Electron: a dialog when `path` is omitted; browser mode: a path under the server's data
   * roots), refresh the list and select it. Throws with the service's reason.
   */
  async importDataset(path?: string): Promise<DatasetInfo | null> {
    const info = await this.api().datasets.importDataset(path);
    if (info) {
      await this.refreshDatasets();
      this.project.datasetId = info.id;
      this.say('info', `Imported ${info.name}: ${info.trainCount.toLocaleString('en-US')} train / ${info.testCount.toLocaleString('en-US')} test images`);
    }
    return info;
  }

  /** Re-read the dataset list (after an import). */
  async refreshDatasets(): Promise<void> {
    this.datasets = await this.api().datasets.listDatasets();
    this.project.datasets = this.datasets;
  }

  /** Show a status message; errors stay until replaced, info fades after a few seconds. */
  say(kind: Notice['kind'], text: string): void {
    const notice = { kind, text };
    this.notice = notice;
    if (kind === 'info') {
      setTimeout(() => {
        if (this.notice === notice) this.notice = null;
      }, 4000);
    }
  }
}
