/**
 * A layer's key settings in a few words ("32 3×3 same relu"), so a row of the stack tells a relu Activation
 * from a linear one without opening its form, and the run comparison names layers the same way.
 *
 * Each layer class's definition (src-main/shared/layers) says what its row shows; this adds what every layer has.
 */
import type { LayerSpec } from '$shared/spec';
import { LAYER_INFO } from '$shared/layers/index';

/** The settings that tell layers of one class apart: the layer definition's caption, plus "frozen". */
export function layerCaptionParts(layer: LayerSpec): string[] {
  const parts = LAYER_INFO[layer.class_name].caption(layer.config).split(' ').filter((p) => p !== '');
  if (layer.config.trainable === false) parts.push('frozen');
  return parts;
}

/** The row caption: key settings only (the row shows the class name beside it). */
export function layerCaption(layer: LayerSpec): string {
  return layerCaptionParts(layer).join(' ');
}

/** Class name and key settings: "Conv2D 32 3×3 same relu". */
export function describeLayer(layer: LayerSpec): string {
  return [layer.class_name, ...layerCaptionParts(layer)].join(' ');
}
