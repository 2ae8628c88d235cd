/**
 * The run list and what the user opened from it: one run's detail, or two runs side by side. Details are
 * cached by id because a finished run never changes.
 */
import type { RunAnnotation, RunDetail, RunSummary, WorkbenchApi } from '$shared/contract';
import { getApi } from '../api/client';
import { errorMessage } from './metrics-format';

/** Columns the list sorts by. */
export type RunSortKey = 'createdAt' | 'name' | 'params' | 'learningRate' | 'batchSize' | 'trainImages' | 'bestValAccuracy' | 'testAccuracy' | 'durationSeconds';

/** The name a run is shown by: the user's, else the model's. */
export const runName = (r: Pick<RunSummary, 'title' | 'modelName'>): string => r.title ?? r.modelName;

/** Where a run's weights came from, when it started from a model file: fine-tuned, or scored as opened (0 epochs). */
export const startedFromText = (r: Pick<RunSummary, 'startedFrom' | 'epochsRun'>): string =>
  r.startedFrom === null ? '' : r.epochsRun === 0 ? `scored as opened from ${r.startedFrom}` : `fine-tuned from ${r.startedFrom}`;

/** Sorts runs by a column; missing values (a run without a test accuracy) always last. */
export function sortRuns(runs: readonly RunSummary[], key: RunSortKey, descending: boolean): RunSummary[] {
  const value = (r: RunSummary): string | number | null => (key === 'name' ? runName(r).toLowerCase() : r[key]);
  return [...runs].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    const order = x < y ? -1 : x > y ? 1 : 0;
    return (descending ? -order : order) || b.createdAt.localeCompare(a.createdAt);
  });
}

/** What the runs view shows below the list. */
export type RunsSelection = { kind: 'none' } | { kind: 'one'; id: string } | { kind: 'compare'; ids: [string, string] };

export class RunsState {
  runs = $state.raw<RunSummary[]>([]);
  /** True until the first load answers, so the view shows "Loading" rather than "No runs yet". */
  loading = $state(false);
  loaded = $state(false);
  error = $state<string | null>(null);
  /** Ids ticked for comparison, in the order they were ticked. */
  checked = $state.raw<string[]>([]);
  selection = $state.raw<RunsSelection>({ kind: 'none' });
  details = $state.raw<Record<string, RunDetail>>({});
  detailError = $state<string | null>(null);
  sortKey = $state<RunSortKey>('createdAt');
  descending = $state(true);
  readonly sorted = $derived(sortRuns(this.runs, this.sortKey, this.descending));

  #api: () => WorkbenchApi;

  constructor(api: () => WorkbenchApi = getApi) {
    this.#api = api;
  }

  /** Reloads the list, newest first. */
  async refresh(): Promise<void> {
    this.loading = true;
    try {
      const runs = await this.#api().runs.listRuns();
      this.runs = [...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      this.checked = this.checked.filter((id) => runs.some((r) => r.id === id));
      this.error = null;
    } catch (e) {
      this.error = `Could not list runs: ${errorMessage(e)}`;
    } finally {
      this.loading = false;
      this.loaded = true;
    }
  }

  /** Ticks or unticks a run for comparison; ticking a third drops the oldest tick. */
  toggleChecked(id: string): void {
    this.checked = this.checked.includes(id) ? this.checked.filter((c) => c !== id) : [...this.checked, id].slice(-2);
  }

  async open(id: string): Promise<void> {
    this.selection = { kind: 'one', id };
    await this.#load([id]);
  }

  async compare(): Promise<void> {
    if (this.checked.length !== 2) return;
    // A is the older run, so the diff reads as "what changed since".
    const created = (id: string) => this.runs.find((r) => r.id === id)?.createdAt ?? '';
    const [x, y] = this.checked;
    const ids: [string, string] = created(x) <= created(y) ? [x, y] : [y, x];
    this.selection = { kind: 'compare', ids };
    await this.#load(ids);
  }

  close(): void {
    this.selection = { kind: 'none' };
  }

  /** Click on a column header: sort by it, or flip the order when it already is the key. */
  sortBy(key: RunSortKey): void {
    if (this.sortKey === key) this.descending = !this.descending;
    else {
      this.sortKey = key;
      this.descending = key !== 'name';
    }
  }

  /** Renames a run or sets its notes; the list and any open detail follow. Throws with the service's reason. */
  async annotate(id: string, annotation: RunAnnotation): Promise<void> {
    const summary = await this.#api().runs.annotateRun(id, annotation);
    this.runs = this.runs.map((r) => (r.id === id ? summary : r));
    const detail = this.details[id];
    if (detail) this.details = { ...this.details, [id]: { ...detail, title: summary.title, notes: summary.notes } };
  }

  /** Deletes a run; it leaves the list, the ticks and the selection. Throws with the service's reason. */
  async remove(id: string): Promise<void> {
    await this.#api().runs.deleteRun(id);
    this.runs = this.runs.filter((r) => r.id !== id);
    this.checked = this.checked.filter((c) => c !== id);
    const sel = this.selection;
    if ((sel.kind === 'one' && sel.id === id) || (sel.kind === 'compare' && sel.ids.includes(id))) this.selection = { kind: 'none' };
    const { [id]: _gone, ...rest } = this.details;
    this.details = rest;
  }

  /** One run's detail, loaded if needed (the results view's run picker). */
  async detail(id: string): Promise<RunDetail | null> {
    await this.#load([id]);
    return this.details[id] ?? null;
  }

  async #load(ids: string[]): Promise<void> {
    this.detailError = null;
    try {
      const missing = ids.filter((id) => !this.details[id] || this.details[id].status === 'running' || this.details[id].status === 'paused');
      const loaded = await Promise.all(missing.map((id) => this.#api().runs.getRun(id)));
      if (loaded.length) this.details = { ...this.details, ...Object.fromEntries(loaded.map((d) => [d.id, d])) };
    } catch (e) {
      this.detailError = `Could not open run: ${errorMessage(e)}`;
    }
  }
}
