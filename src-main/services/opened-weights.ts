/**
 * The weights of model files opened in the UI (`model.openModelFile`), held here so a run can start from them
 * (`startTraining({ startFromWeights: id })`) without the renderer carrying megabytes of floats back. Only the
 * last few files are kept: a model's weights can be hundreds of MB, and an older id is refused by name.
 */
import { randomUUID } from 'node:crypto';
import type { ImportedWeight } from '../core/model/import';
import type { OpenedWeightsInfo } from '../shared/contract';

/** An id the services no longer (or never) held: the user opens the file again. */
export class OpenedWeightsError extends Error {
  override name = 'OpenedWeightsError';
}

export interface HeldWeights {
  source: string;
  weights: ImportedWeight[];
}

export class OpenedWeightsStore {
  readonly #held = new Map<string, HeldWeights>();

  constructor(private readonly keep = 3) {}

  /** Holds `weights` read from `source`; the oldest held set is dropped past `keep`. */
  hold(source: string, weights: ImportedWeight[]): OpenedWeightsInfo {
    const id = `w-${randomUUID()}`;
    this.#held.set(id, { source, weights });
    for (const old of this.#held.keys()) {
      if (this.#held.size <= this.keep) break;
      this.#held.delete(old);
    }
    return { id, source, arrays: weights.length, values: weights.reduce((n, w) => n + w.data.length, 0) };
  }

  /** The weights held under `id`; an id no longer (or never) held is refused, saying to open the file again. */
  get(id: string): HeldWeights {
    const held = this.#held.get(id);
    if (!held) {
      throw new OpenedWeightsError(
        `startFromWeights: the weights of that model file are no longer held here (the app restarted, or ${this.keep} other files were opened since): open the file again`,
      );
    }
    return held;
  }
}
