/**
 * The "Inside" view's state for one test image of one run: what the worker computed (activations, class maps,
 * kernels, the embedding map) and what is still loading or failed. Each question is asked once and kept.
 */
import type { Activations, ClassMap, Embedding, ExplainMethod, KernelImages } from '$shared/contract';
import { getApi } from '../api/client';
import { errorMessage } from './metrics-format';

export class InsideState {
  activations = $state.raw<Activations | null>(null);
  kernels = $state.raw<KernelImages | null>(null);
  embedding = $state.raw<Embedding | null>(null);
  /** Class maps by `method:classIndex`. */
  // Replaced whole on every change ($state.raw), never mutated in place, so a plain Map is reactive enough.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  maps = $state.raw<Map<string, ClassMap>>(new Map());
  errors = $state<Record<string, string>>({});
  loadingEmbedding = $state(false);

  constructor(
    readonly runId: string,
    readonly testIndex: number,
  ) {}

  static key(method: ExplainMethod, classIndex: number): string {
    return `${method}:${classIndex}`;
  }

  /** Activations and kernels first (fast), then the embedding map. */
  async load(): Promise<void> {
    const api = getApi();
    await Promise.all([
      api.inside.activations(this.runId, { testIndex: this.testIndex }).then(
        (a) => (this.activations = a),
        (e: unknown) => (this.errors = { ...this.errors, activations: errorMessage(e) }),
      ),
      api.inside.kernels(this.runId).then(
        (k) => (this.kernels = k),
        (e: unknown) => (this.errors = { ...this.errors, kernels: errorMessage(e) }),
      ),
    ]);
  }

  async loadMap(method: ExplainMethod, classIndex: number): Promise<void> {
    const key = InsideState.key(method, classIndex);
    if (this.maps.has(key)) return;
    try {
      const map = await getApi().inside.classMap(this.runId, { testIndex: this.testIndex }, method, classIndex);
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a new Map replaces the $state.raw value
      this.maps = new Map(this.maps).set(key, map);
    } catch (e) {
      this.errors = { ...this.errors, [key]: errorMessage(e) };
    }
  }

  async loadEmbedding(method: 'pca' | 'umap'): Promise<void> {
    this.loadingEmbedding = true;
    try {
      this.embedding = await getApi().inside.embedding(this.runId, method, 1);
      const { embedding: _, ...rest } = this.errors;
      this.errors = rest;
    } catch (e) {
      this.errors = { ...this.errors, embedding: errorMessage(e) };
    } finally {
      this.loadingEmbedding = false;
    }
  }
}
