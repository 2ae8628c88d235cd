/**
 * A layer's key settings in a few words ("32 3×3 same relu"), so a row of the stack tells a relu Activation
 * from a linear one without opening its form, and the run comparison names layers the same way.
 *
 * Deliberately a small pure function of the spec: when each layer class gets its own definition module, the
 * definition's "what the row shows" can replace it without touching the components that call it.
 */
import type { LayerSpec } from '$shared/spec';

const size = (v: unknown): string => (Array.isArray(v) ? v.join('×') : typeof v === 'number' ? `${v}×${v}` : '');
const isOne = (v: unknown): boolean => v === 1 || (Array.isArray(v) && v.every((x) => x === 1));

/** The settings that tell layers of one class apart, in the order Keras' constructor takes them. */
export function layerCaptionParts(layer: LayerSpec): string[] {
  const c = layer.config;
  const parts: string[] = [];
  if (c.filters !== undefined) parts.push(String(c.filters));
  if (c.units !== undefined) parts.push(String(c.units));
  if (c.depth_multiplier !== undefined && c.depth_multiplier !== 1) parts.push(`×${c.depth_multiplier}`);
  if (c.kernel_size !== undefined) parts.push(size(c.kernel_size));
  if (c.pool_size !== undefined) parts.push(`pool ${size(c.pool_size)}`);
  if (c.strides !== undefined && c.strides !== null && !isOne(c.strides)) parts.push(`stride ${size(c.strides)}`);
  if (c.dilation_rate !== undefined && !isOne(c.dilation_rate)) parts.push(`dilation ${size(c.dilation_rate)}`);
  if (c.rate !== undefined) parts.push(`rate ${c.rate}`);
  if (typeof c.padding === 'string') parts.push(c.padding);
  else if (c.padding !== undefined && layer.class_name === 'ZeroPadding2D') parts.push(`pad ${JSON.stringify(c.padding)}`);
  if (c.negative_slope !== undefined) parts.push(`slope ${c.negative_slope}`);
  else if (c.alpha !== undefined) parts.push(`slope ${c.alpha}`);
  // An Activation layer without `activation` is Keras' linear one: say so rather than show nothing.
  if (c.activation !== undefined) parts.push(c.activation);
  else if (layer.class_name === 'Activation') parts.push('linear');
  if (c.shape !== undefined) parts.push(`(${c.shape.join(', ')})`);
  if (c.trainable === false) parts.push('frozen');
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
