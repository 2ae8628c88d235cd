/**
 * The editor's augmentation preview: asks the worker for one training image under the model's leading
 * augmentation layers, eight seeded draws. Asked again only when what it depends on changes (those layers'
 * settings, the dataset, the image, the seed) — not on every edit further down the model — and a little after
 * the last keystroke, so typing a factor does not queue a request per digit.
 */
import type { AugmentationPreview, WorkbenchApi } from '$shared/contract';
import type { AnyModelSpec } from '$shared/spec';
import { previewKey } from '../editor/preview-key';
import { errorMessage } from './metrics-format';

const DEBOUNCE_MS = 250;

export class AugmentationPreviewState {
  preview = $state.raw<AugmentationPreview | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);
  seed = $state(1);
  imageIndex = $state(0);
  #key: string | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly api: () => WorkbenchApi) {}

  /** Schedules a preview of `spec` on `datasetId` unless the one on screen (or on its way) already shows it. */
  request(spec: AnyModelSpec, datasetId: string): void {
    const key = previewKey(spec, datasetId, this.imageIndex, this.seed);
    if (key === null || key === this.#key) return;
    this.#key = key;
    if (this.#timer) clearTimeout(this.#timer);
    const { seed, imageIndex } = this;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.loading = true;
      this.api()
        .model.previewAugmentation(spec, datasetId, imageIndex, seed)
        .then((p) => {
          if (this.#key !== key) return;
          this.preview = p;
          this.error = null;
        })
        .catch((e: unknown) => {
          if (this.#key === key) this.error = errorMessage(e);
        })
        .finally(() => {
          if (this.#key === key) this.loading = false;
        });
    }, DEBOUNCE_MS);
  }

  /** Eight new draws of the same image. */
  newDraws(): void {
    this.seed = 1 + Math.floor(Math.random() * (2 ** 31 - 2));
  }

  /** Another training image (among the first `count`), same layers. */
  anotherImage(count: number): void {
    if (count > 1) this.imageIndex = (this.imageIndex + 1 + Math.floor(Math.random() * (count - 1))) % count;
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#key = null;
  }
}
