/**
 * The run list and what the user opened from it: one run's detail, or two runs side by side. Details are
 * cached by id because a finished run never changes.
 */
import type { RunDetail, RunSummary, WorkbenchApi } from '$shared/contract';
import { getApi } from '../api/client';
import { errorMessage } from './metrics-format';

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
