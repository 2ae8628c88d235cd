/**
 * Filters as images: the first convolution's kernels as they are, and for any convolution the input that
 * excites one filter most, found by regularised gradient ascent from seeded noise.
 */
import * as tf from '@tensorflow/tfjs';
import type { FilterImage } from '../../shared/contract';
import { mulberry32 } from '../data/random';
import { applyRange, inputShape, layersOf } from './network';

/** The first Conv2D's kernels, one image per output filter (kernel height × width × input channels, raw weights). */
export function firstConvKernels(model: tf.LayersModel): { layer: string; filters: FilterImage[] } {
  const conv = layersOf(model).find((l) => l.getClassName() === 'Conv2D');
  if (!conv) throw new Error('the model has no Conv2D layer, so it has no kernels to show');
  const kernel = conv.getWeights()[0]!;
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const w = kernel.dataSync();
  const filters: FilterImage[] = [];
  for (let f = 0; f < cout; f++) {
    const values = new Array<number>(kh * kw * cin);
    for (let p = 0; p < kh * kw * cin; p++) values[p] = w[p * cout + f]!;
    filters.push({ filter: f, width: kw, height: kh, channels: cin, values });
  }
  return { layer: conv.name, filters };
}

/** Settings of `exciteFilters`; the defaults take ~a second for a small CNN's layer on two cores. */
export interface ExciteOptions {
  steps?: number;
  /** Step length, in pixel units of the normalised gradient. */
  stepSize?: number;
  /** L2 decay per step, pulling pixels back towards grey. */
  decay?: number;
  /** Blur every this many steps (keeps the image from turning into high-frequency noise). */
  blurEvery?: number;
  seed?: number;
}

/** A 3×3 box blur per channel (same padding), as a depthwise convolution. */
function blur(x: tf.Tensor4D): tf.Tensor4D {
  const c = x.shape[3];
  const k = tf.fill([3, 3, c, 1], 1 / 9) as tf.Tensor4D;
  return tf.depthwiseConv2d(x, k, 1, 'same');
}

/**
 * For each of `filters` of layer `layerName` (a convolution or any layer with feature maps): an input image in
 * [0, 1] that makes that filter's mean activation large. Starts at grey plus seeded noise (the same seed gives
 * the same images), ascends the normalised gradient, decays towards grey, blurs now and then, clips to [0, 1].
 */
export function exciteFilters(model: tf.LayersModel, layerName: string, filters: number[], opts: ExciteOptions = {}): FilterImage[] {
  const layers = layersOf(model);
  const at = layers.findIndex((l) => l.name === layerName);
  if (at < 0) throw new Error(`the model has no layer named ${JSON.stringify(layerName)}; its layers are ${layers.map((l) => l.name).join(', ')}`);
  const [h, w, c] = inputShape(model);
  const steps = opts.steps ?? 40;
  const stepSize = opts.stepSize ?? 0.05;
  const decay = opts.decay ?? 0.01;
  const blurEvery = opts.blurEvery ?? 4;
  const probe = tf.tidy(() => applyRange(layers, tf.zeros([1, h, w, c]), 0, at + 1));
  const probeShape = probe.shape;
  probe.dispose();
  if (probeShape.length !== 4) throw new Error(`layer ${layerName} has no feature maps (output shape [${probeShape.join(', ')}])`);
  const channels = probeShape[3]!;
  for (const f of filters) {
    if (!Number.isInteger(f) || f < 0 || f >= channels) throw new RangeError(`layer ${layerName} has ${channels} filters (0–${channels - 1}); there is no filter ${f}`);
  }
  return filters.map((f) => {
    const rng = mulberry32((opts.seed ?? 1) * 7919 + f);
    const noise = Float32Array.from({ length: h * w * c }, () => 0.5 + (rng() - 0.5) * 0.2);
    let x = tf.tensor4d(noise, [1, h, w, c]);
    const objective = (img: tf.Tensor): tf.Tensor => {
      const a = applyRange(layers, img, 0, at + 1) as tf.Tensor4D;
      return a.slice([0, 0, 0, f], [1, a.shape[1], a.shape[2], 1]).mean();
    };
    const grad = tf.grad(objective);
    for (let s = 0; s < steps; s++) {
      const next = tf.tidy(() => {
        const g = grad(x);
        const norm = tf.sqrt(tf.mean(tf.square(g))).add(1e-8);
        let y = x.add(g.div(norm).mul(stepSize)) as tf.Tensor4D;
        y = y.sub(0.5).mul(1 - decay).add(0.5) as tf.Tensor4D;
        if (blurEvery > 0 && (s + 1) % blurEvery === 0) y = blur(y);
        return tf.clipByValue(y, 0, 1) as tf.Tensor4D;
      });
      x.dispose();
      x = next;
    }
    const values = Array.from(x.dataSync());
    x.dispose();
    return { filter: f, width: w, height: h, channels: c, values };
  });
}
