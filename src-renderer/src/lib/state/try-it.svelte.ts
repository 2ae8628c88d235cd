/**
 * The "Try it" panel of one run: images the user drops or picks, a drawing, or a random test image, each
 * predicted by the run's model in the services' worker, with the image as the model sees it.
 */
import type { Prediction, WorkbenchApi } from '$shared/contract';
import { getApi } from '../api/client';
import { errorMessage } from './metrics-format';

/** An image the user gave, kept encoded so the invert toggle can ask again. */
export interface TriedImage {
  name: string;
  base64: string;
  prediction: Prediction;
}

/** Most files predicted in one go (the service takes at most 64 per call). */
export const MAX_FILES = 64;

/** Bytes → base64, in slices (String.fromCharCode over a whole photo overflows the call stack). */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** True for files the services decode: PNG and JPEG, by type or by name. */
export function isImageFile(file: { name: string; type: string }): boolean {
  return /^image\/(png|jpeg)$/.test(file.type) || /\.(png|jpe?g)$/i.test(file.name);
}

export class TryItState {
  invert = $state(false);
  items = $state.raw<TriedImage[]>([]);
  busy = $state(false);
  error = $state<string | null>(null);
  drawing = $state.raw<Prediction | null>(null);
  drawingError = $state<string | null>(null);
  random = $state.raw<Prediction | null>(null);
  randomBusy = $state(false);

  readonly #api: () => WorkbenchApi;
  /** The drawing waiting to be predicted while one is in flight: only the latest matters. */
  #nextDrawing: string | null = null;
  #drawingInFlight = false;
  /** Bumped by a clear: answers for strokes drawn before it are dropped. */
  #drawingGeneration = 0;

  constructor(
    readonly runId: string,
    api: () => WorkbenchApi = getApi,
  ) {
    this.#api = api;
  }

  /** Predicts dropped or picked files; anything that is not PNG/JPEG is named and left out. */
  async addFiles(files: File[]): Promise<void> {
    const images = files.filter(isImageFile);
    const skipped = files.filter((f) => !isImageFile(f)).map((f) => f.name);
    this.error = skipped.length ? `Not a PNG or JPEG, left out: ${skipped.join(', ')}` : null;
    if (images.length === 0) return;
    if (images.length > MAX_FILES) {
      this.error = `${images.length} images at once is too many: pick at most ${MAX_FILES}.`;
      return;
    }
    const encoded = await Promise.all(images.map(async (f) => ({ name: f.name, base64: toBase64(new Uint8Array(await f.arrayBuffer())) })));
    await this.#predict(encoded, (predicted) => (this.items = [...predicted, ...this.items].slice(0, MAX_FILES)));
  }

  /** Turns inversion on or off and predicts the images again under it. */
  async setInvert(invert: boolean): Promise<void> {
    this.invert = invert;
    const current = this.items.map(({ name, base64 }) => ({ name, base64 }));
    if (current.length) await this.#predict(current, (predicted) => (this.items = predicted));
  }

  clear(): void {
    this.items = [];
    this.error = null;
  }

  async #predict(images: { name: string; base64: string }[], apply: (items: TriedImage[]) => void): Promise<void> {
    this.busy = true;
    try {
      const predictions = await this.#api().exports.predict(this.runId, images, { invert: this.invert });
      apply(images.map((im, i) => ({ ...im, prediction: predictions[i]! })));
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Predicts the drawing (a PNG, base64) as the user draws: one request at a time, and while one is out only
   * the newest drawing waits, so a fast hand never queues up stale strokes.
   */
  predictDrawing(pngBase64: string): void {
    this.#nextDrawing = pngBase64;
    if (!this.#drawingInFlight) void this.#drainDrawing();
  }

  clearDrawing(): void {
    this.#nextDrawing = null;
    this.#drawingGeneration++;
    this.drawing = null;
    this.drawingError = null;
  }

  async #drainDrawing(): Promise<void> {
    this.#drawingInFlight = true;
    try {
      while (this.#nextDrawing !== null) {
        const base64 = this.#nextDrawing;
        const generation = this.#drawingGeneration;
        this.#nextDrawing = null;
        try {
          const [p] = await this.#api().exports.predict(this.runId, [{ name: 'drawing', base64 }]);
          // A clear while this was out wins: the answer is for strokes no longer on the canvas.
          if (p && generation === this.#drawingGeneration) this.drawing = p;
          this.drawingError = null;
        } catch (e) {
          this.drawingError = errorMessage(e);
        }
      }
    } finally {
      this.#drawingInFlight = false;
    }
  }

  /** A random image of the run's test set, predicted, with its true class. */
  async randomTestImage(testCount: number): Promise<void> {
    if (testCount < 1 || this.randomBusy) return;
    this.randomBusy = true;
    try {
      const index = Math.floor(Math.random() * testCount);
      const [p] = await this.#api().exports.predictTestImages(this.runId, [index]);
      this.random = p ?? null;
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.randomBusy = false;
    }
  }
}
