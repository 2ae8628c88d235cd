/**
 * Exporting one run from the app: the chosen format, progress while the worker writes and verifies, then the
 * report and the files; in browser mode the export is written under the run's exports/ folder and offered as
 * a .zip download. Also the app-wide "open the export panel" request of File ▸ Export Model… (Ctrl+E).
 */
import type { ExportFormat, ExportProgress, ExportResult, WorkbenchApi } from '$shared/contract';
import { getApi } from '../api/client';
import { errorMessage } from './metrics-format';

/**
 * File ▸ Export Model… for a run: set by the app state, consumed by that run's export panel when it is on
 * screen (it may mount only after the view switches, so the request waits for it).
 */
export const exportRequest = $state<{ runId: string | null; pending: boolean }>({ runId: null, pending: false });

/** Asks the export panel of `runId` to open and take focus. */
export function requestExport(runId: string): void {
  exportRequest.runId = runId;
  exportRequest.pending = true;
}

/** A browser-mode export folder name: what the service accepts (letters, digits, '.', '-', '_', space). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$/;

export class ExportState {
  format = $state<ExportFormat>('onnx');
  /** Browser mode: the folder under the run's exports/; follows the format until the user types one. */
  folderName = $state('onnx');
  folderEdited = $state(false);
  busy = $state(false);
  progress = $state.raw<ExportProgress | null>(null);
  result = $state.raw<ExportResult | null>(null);
  /** The folder name the shown result was written under (browser mode), for the zip download. */
  resultName = $state<string | null>(null);
  error = $state<string | null>(null);
  notice = $state<string | null>(null);
  downloading = $state(false);

  readonly #api: () => WorkbenchApi;

  constructor(
    readonly runId: string,
    api: () => WorkbenchApi = getApi,
  ) {
    this.#api = api;
  }

  get browser(): boolean {
    return this.#api().kind === 'browser';
  }

  /** Why the folder name cannot be used, or null. */
  get nameProblem(): string | null {
    if (!this.browser) return null;
    const name = this.folderName.trim();
    if (!name) return 'Give the export folder a name.';
    if (!NAME.test(name) || name.includes('..')) return 'Use letters, digits, spaces, ".", "-" or "_" (at most 64), no slashes.';
    return null;
  }

  setFormat(format: ExportFormat): void {
    this.format = format;
    if (!this.folderEdited) this.folderName = format;
  }

  setFolderName(name: string): void {
    this.folderName = name;
    this.folderEdited = true;
  }

  /** Writes and verifies the export in the services' worker; progress arrives as events meanwhile. */
  async run(): Promise<void> {
    if (this.busy || this.nameProblem) return;
    const api = this.#api();
    const format = this.format;
    const name = this.browser ? this.folderName.trim() : undefined;
    this.busy = true;
    this.error = null;
    this.notice = null;
    this.result = null;
    this.progress = { runId: this.runId, format, stage: 'loading', message: 'starting the export' };
    const off = api.exports.onExportProgress((p) => {
      if (p.runId === this.runId && p.format === format) this.progress = p;
    });
    try {
      const result = await api.exports.exportModel(this.runId, format, name);
      if (result === null) this.notice = 'Export cancelled: no folder was chosen.';
      else {
        this.result = result;
        this.resultName = name ?? null;
      }
    } catch (e) {
      this.error = `Export failed: ${errorMessage(e)}`;
    } finally {
      off();
      this.busy = false;
      this.progress = null;
    }
  }

  /** Browser mode: the export folder as a .zip, saved by the browser. */
  async download(): Promise<void> {
    if (!this.resultName || this.downloading) return;
    this.downloading = true;
    try {
      const archive = await this.#api().exports.zipExport(this.runId, this.resultName);
      const bytes = Uint8Array.from(atob(archive.base64), (c) => c.charCodeAt(0));
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/zip' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = archive.fileName;
      a.click();
      // The click has started the download synchronously; the URL is no longer needed after this tick.
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      this.notice = `Downloaded ${archive.fileName}`;
    } catch (e) {
      this.error = `Download failed: ${errorMessage(e)}`;
    } finally {
      this.downloading = false;
    }
  }
}
