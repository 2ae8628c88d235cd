/**
 * Which layers the editor's augmentation preview applies: the preprocessing and augmentation layers (palette
 * group "Preprocessing & augmentation") right after the input, as Keras users place them. Shared so the
 * renderer shows the panel for exactly the models the worker can preview.
 */
import { LAYER_INFO } from './layers/index';
import type { LayerSpec } from './spec';

const isPreprocessing = (className: string): boolean =>
  Object.hasOwn(LAYER_INFO, className) && LAYER_INFO[className as keyof typeof LAYER_INFO].palette === 'Preprocessing & augmentation';

/** Indices of the leading preprocessing layers (an InputLayer first is skipped); [] when there are none. */
export function leadingAugmentation(layers: readonly LayerSpec[]): number[] {
  const out: number[] = [];
  for (const [i, layer] of layers.entries()) {
    if (i === 0 && layer.class_name === 'InputLayer') continue;
    if (!isPreprocessing(layer.class_name)) break;
    out.push(i);
  }
  return out;
}
