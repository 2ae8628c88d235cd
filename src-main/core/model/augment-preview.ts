/**
 * The editor's augmentation preview: one training image through the model's leading preprocessing and
 * augmentation layers (Rescaling, RandomFlip, …) in training mode, as a batch of copies, so each copy gets its
 * own draw from the layers' seeded generators — the same seed, the same eight pictures. Only those leading
 * layers are built: the rest of the model may still be unfinished while the user edits.
 */
import * as tf from '@tensorflow/tfjs';
import type { AugmentationPreview, ImageSample } from '../../shared/contract';
import { leadingAugmentation } from '../../shared/augmentation-preview';
import type { AnyModelSpec, SpecIssue } from '../../shared/spec';
import { getImages } from '../data/samples';
import type { ImageSet } from '../data/types';
import { makeLayer } from './build';
import { SpecError } from './errors';
import { withDefaults } from './spec';
import { analyzeSpec } from './validate';

/** How many augmented copies a preview shows. */
export const PREVIEW_DRAWS = 8;

/** A float image batch [n, h, w, c] as one `ImageSample` per image, 0–255; values outside [0, 1] are min–max stretched. */
function toSamples(batch: tf.Tensor4D, label: number, index: number): { samples: ImageSample[]; stretched: boolean } {
  const [n, h, w, c] = batch.shape;
  const values = batch.dataSync();
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const stretched = lo < -1e-6 || hi > 1 + 1e-6;
  const [offset, scale] = stretched && hi > lo ? [lo, 255 / (hi - lo)] : [0, 255];
  const per = h * w * c;
  const samples = Array.from({ length: n }, (_, k) => {
    const bytes = new Uint8Array(per);
    for (let p = 0; p < per; p++) bytes[p] = Math.max(0, Math.min(255, Math.round((values[k * per + p]! - offset) * scale)));
    return { index, label, width: w, height: h, channels: c, pixelsBase64: Buffer.from(bytes).toString('base64') };
  });
  return { samples, stretched };
}

/**
 * Image `imageIndex` of `set` (pixels scaled to [0, 1], as training feeds them) through the leading
 * preprocessing layers of `spec`, `draws` times. Throws SpecError naming the layer when one of those layers is
 * misconfigured, or when the model has none.
 */
export function previewAugmentation(spec: AnyModelSpec, set: ImageSet, imageIndex: number, seed: number, draws = PREVIEW_DRAWS): AugmentationPreview {
  const [original] = getImages(set, [imageIndex]);
  const full = withDefaults(spec);
  const indices = leadingAugmentation(full.config.layers);
  if (indices.length === 0) {
    throw new SpecError(
      [{ severity: 'error', layerIndex: null, layerName: null, field: null, received: null, message: 'the model has no augmentation layer right after its input: add RandomFlip, RandomRotation, … to preview' }],
      'Nothing to preview',
    );
  }
  const last = indices[indices.length - 1]!;
  const errors = analyzeSpec(spec).issues.filter((i: SpecIssue) => i.severity === 'error' && i.layerIndex !== null && i.layerIndex <= last && !i.incomplete);
  if (errors.length > 0) throw new SpecError(errors, 'Cannot preview the augmentation');
  const layers = indices.map((i) => makeLayer(full.config.layers[i]!.class_name, full.config.layers[i]!.config, i, seed));
  const out = tf.tidy(() => {
    const one = tf.tensor4d(Buffer.from(original!.pixelsBase64, 'base64'), [1, set.height, set.width, set.channels], 'float32').div(255);
    let x = tf.tile(one, [draws, 1, 1, 1]) as tf.Tensor4D;
    for (const layer of layers) x = layer.apply(x, { training: true }) as tf.Tensor4D;
    return x;
  });
  const { samples, stretched } = toSamples(out, original!.label, imageIndex);
  out.dispose();
  for (const layer of layers) layer.dispose();
  return {
    layers: indices.map((i) => ({ name: String(full.config.layers[i]!.config.name), className: full.config.layers[i]!.class_name })),
    seed,
    original: original!,
    draws: samples,
    displayNote: stretched ? 'the layers output values outside 0–1 (a Rescaling?): each picture is stretched from its lowest to its highest value' : null,
  };
}
