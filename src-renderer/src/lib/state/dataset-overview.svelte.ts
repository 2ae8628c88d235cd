/**
 * The dataset view's data: one dataset's overview (per-class counts, thumbnails, skipped files), fetched once
 * per dataset and kept while the view is open. A later request for another dataset wins over an earlier one
 * still in flight.
 */
import type { DatasetOverview, WorkbenchApi } from '$shared/contract';
import { errorMessage } from './metrics-format';

/** Training thumbnails shown per class. */
export const THUMBNAILS_PER_CLASS = 8;

export class DatasetOverviewState {
  overview = $state.raw<DatasetOverview | null>(null);
  /** The dataset being fetched, or null. */
  loading = $state<string | null>(null);
  error = $state<string | null>(null);

  constructor(private readonly api: () => WorkbenchApi) {}

  /** Fetches `datasetId`'s overview unless it is on screen already (`force`: again, e.g. after a re-import). */
  async load(datasetId: string, force = false): Promise<void> {
    if (!force && (this.overview?.datasetId === datasetId || this.loading === datasetId)) return;
    this.loading = datasetId;
    this.error = null;
    try {
      const overview = await this.api().datasets.describeDataset(datasetId, THUMBNAILS_PER_CLASS);
      if (this.loading === datasetId) this.overview = overview;
    } catch (e) {
      if (this.loading === datasetId) this.error = `Could not read the dataset: ${errorMessage(e)}`;
    } finally {
      if (this.loading === datasetId) this.loading = null;
    }
  }
}
