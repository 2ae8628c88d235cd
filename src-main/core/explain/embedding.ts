/**
 * The embedding map: every test image's penultimate-layer output (what the classifier's last layer sees),
 * projected to 2-D by PCA or UMAP, with its true and predicted class.
 */
import * as tf from '@tensorflow/tfjs';
import type { Embedding } from '../../shared/contract';
import type { ImageSet } from '../data/types';
import { applyRange, layersOf, penultimateLayer } from './network';
import { pca, umap2d, type Features } from './projection';

/** Images per forward pass when computing features. */
const BATCH = 256;
/** Dimensions UMAP works on: the features' top principal components (the usual speed-up; keeps the structure). */
const UMAP_INPUT_DIMS = 32;

/** Penultimate-layer features and predicted classes of `indices` of `set`. */
export function penultimateFeatures(model: tf.LayersModel, set: ImageSet, indices: number[]): { layer: string; features: Features; predicted: number[] } {
  const layers = layersOf(model);
  const at = penultimateLayer(layers);
  if (at < 0) throw new Error('the model has a single layer, so it has no penultimate layer to project');
  const per = set.height * set.width * set.channels;
  const chunks: Float32Array[] = [];
  const predicted: number[] = [];
  let d = 0;
  for (let start = 0; start < indices.length; start += BATCH) {
    const batch = indices.slice(start, start + BATCH);
    const pixels = new Float32Array(batch.length * per);
    batch.forEach((idx, b) => {
      for (let p = 0; p < per; p++) pixels[b * per + p] = set.images[idx * per + p]! / 255;
    });
    const [feat, pred] = tf.tidy(() => {
      const x = tf.tensor4d(pixels, [batch.length, set.height, set.width, set.channels]);
      const h = applyRange(layers, x, 0, at + 1);
      const flat = h.reshape([batch.length, -1]);
      const out = applyRange(layers, h, at + 1, layers.length);
      return [flat, out.argMax(-1)] as [tf.Tensor, tf.Tensor];
    });
    d = feat.shape[1]!;
    chunks.push(Float32Array.from(feat.dataSync()));
    predicted.push(...Array.from(pred.dataSync()));
    tf.dispose([feat, pred]);
  }
  const values = new Float32Array(indices.length * d);
  let off = 0;
  for (const c of chunks) {
    values.set(c, off);
    off += c.length;
  }
  return { layer: layers[at]!.name, features: { n: indices.length, d, values }, predicted };
}

/** Settings of `embedTestSet`. */
export interface EmbedOptions {
  method: 'pca' | 'umap';
  seed?: number;
  /** Project at most this many test images (the first ones); default all. */
  maxPoints?: number;
  /** UMAP optimisation epochs (see `umap2d`). */
  umapEpochs?: number;
}

/** Projects the test set's penultimate features to 2-D. The same model, data, method and seed give the same map. */
export function embedTestSet(model: tf.LayersModel, test: ImageSet, classNames: string[], opts: EmbedOptions): Embedding {
  const seed = opts.seed ?? 1;
  const count = Math.min(test.count, opts.maxPoints ?? test.count);
  if (count < 3) throw new Error(`an embedding map needs at least 3 test images; the run's test set has ${test.count}`);
  const indices = Array.from({ length: count }, (_, i) => i);
  const { layer, features, predicted } = penultimateFeatures(model, test, indices);
  let x: number[];
  let y: number[];
  if (opts.method === 'pca') {
    const { scores, k } = pca(features, 2, seed);
    x = indices.map((i) => scores[i * k]!);
    y = indices.map((i) => (k > 1 ? scores[i * k + 1]! : 0));
  } else {
    const reduced = features.d > UMAP_INPUT_DIMS ? pca(features, UMAP_INPUT_DIMS, seed) : null;
    const input: Features = reduced ? { n: count, d: reduced.k, values: reduced.scores } : features;
    ({ x, y } = umap2d(input, { seed, nEpochs: opts.umapEpochs }));
  }
  return {
    method: opts.method,
    layer,
    dimensions: features.d,
    seed,
    classNames,
    indices,
    x,
    y,
    truth: indices.map((i) => test.labels[i]!),
    predicted,
  };
}
