/** The augmentation preview asks again only when this key changes (see augmentation-preview.svelte.ts). */
import { leadingAugmentation } from '$shared/augmentation-preview';
import type { AnyModelSpec } from '$shared/spec';

/** What a preview depends on, as a string: equal keys, equal pictures. */
export function previewKey(spec: AnyModelSpec, datasetId: string, imageIndex: number, seed: number): string | null {
  const indices = leadingAugmentation(spec.config.layers);
  if (indices.length === 0) return null;
  return JSON.stringify([spec.config.layers.slice(0, indices[indices.length - 1]! + 1), datasetId, imageIndex, seed]);
}
