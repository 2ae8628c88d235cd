/**
 * What the network makes of one image: every layer's output, Grad-CAM and gradient saliency maps for any
 * class. Inputs are one preprocessed image (height × width × channels floats, as `preprocessImage` returns).
 */
import * as tf from '@tensorflow/tfjs';
import type { Activations, ClassMap, ClassProbability, LayerActivation } from '../../shared/contract';
import { resizePlane } from '../predict/image';
import { applyRange, classScores, gradCamLayer, inputShape, isShown, layersOf } from './network';

/** How many classes `Activations.top` lists. */
export const TOP_CLASSES = 5;

function imageTensor(model: tf.LayersModel, image: Float32Array): tf.Tensor4D {
  const [h, w, c] = inputShape(model);
  if (image.length !== h * w * c) throw new Error(`the image has ${image.length} values; the model takes ${h}×${w}×${c} = ${h * w * c}`);
  return tf.tensor4d(image, [1, h, w, c]);
}

function checkClass(classIndex: number, classNames: string[]): void {
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classNames.length) {
    throw new RangeError(`class ${classIndex} does not exist: the model has ${classNames.length} classes (0–${classNames.length - 1})`);
  }
}

/** The top `k` classes of a probability row, best first. */
export function topClasses(probabilities: ArrayLike<number>, classNames: string[], k = TOP_CLASSES): ClassProbability[] {
  return Array.from(probabilities, (probability, classIndex) => ({ classIndex, className: classNames[classIndex] ?? `class ${classIndex}`, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

/** Every shown layer's output for one image (see `isShown`), the class probabilities and the top classes. */
export function layerActivations(model: tf.LayersModel, image: Float32Array, classNames: string[]): Activations {
  const layers = layersOf(model);
  const outputs: { layer: tf.layers.Layer; t: tf.Tensor }[] = [];
  const probs = tf.tidy(() => {
    let x: tf.Tensor = imageTensor(model, image);
    for (const layer of layers) {
      x = layer.apply(x, { training: false }) as tf.Tensor;
      if (isShown(layer)) outputs.push({ layer, t: tf.keep(x) });
    }
    return x;
  });
  try {
    const result: LayerActivation[] = outputs.map(({ layer, t }) => ({
      name: layer.name,
      className: layer.getClassName(),
      shape: t.shape.slice(1),
      values: Array.from(t.dataSync()),
    }));
    const probabilities = Array.from(probs.dataSync());
    return { layers: result, probabilities, top: topClasses(probabilities, classNames) };
  } finally {
    tf.dispose([probs, ...outputs.map((o) => o.t)]);
  }
}

/** The class probabilities for one image. */
export function classProbabilities(model: tf.LayersModel, image: Float32Array): number[] {
  const p = tf.tidy(() => model.predict(imageTensor(model, image)) as tf.Tensor);
  try {
    return Array.from(p.dataSync());
  } finally {
    p.dispose();
  }
}

/** The pre-softmax score of class `classIndex` for one image (what the maps differentiate). */
export function classScore(model: tf.LayersModel, image: Float32Array, classIndex: number): number {
  return tf.tidy(() => classScores(layersOf(model), imageTensor(model, image), 0).dataSync()[classIndex]!);
}

/** d score(class) / d input for one image: height × width × channels, signed. */
export function inputGradient(model: tf.LayersModel, image: Float32Array, classIndex: number): Float32Array {
  const layers = layersOf(model);
  return tf.tidy(() => {
    const score = (x: tf.Tensor): tf.Tensor => classScores(layers, x, 0).slice([0, classIndex], [1, 1]).sum();
    return Float32Array.from(tf.grad(score)(imageTensor(model, image)).dataSync());
  });
}

/**
 * Gradient saliency (Simonyan et al. 2014): per pixel, the largest |d score / d input| over its channels —
 * which pixels, nudged, would move the class score most.
 */
export function saliencyMap(model: tf.LayersModel, image: Float32Array, classIndex: number, classNames: string[]): ClassMap {
  checkClass(classIndex, classNames);
  const [h, w, c] = inputShape(model);
  const g = inputGradient(model, image, classIndex);
  const values = new Array<number>(h * w).fill(0);
  for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) values[p] = Math.max(values[p]!, Math.abs(g[p * c + k]!));
  return { method: 'saliency', classIndex, className: classNames[classIndex]!, layer: 'input', width: w, height: h, values };
}

/**
 * Grad-CAM (Selvaraju et al. 2017) on the last convolution (see `gradCamLayer`): each channel weighted by the
 * mean gradient of the class score over its map, summed, rectified, and resized to the input (bilinear).
 */
export function gradCam(model: tf.LayersModel, image: Float32Array, classIndex: number, classNames: string[]): ClassMap {
  checkClass(classIndex, classNames);
  const layers = layersOf(model);
  const at = gradCamLayer(layers);
  if (at < 0) throw new Error('Grad-CAM needs a convolution layer and this model has none; use the saliency map');
  const [h, w] = inputShape(model);
  const { cam, ch, cw } = tf.tidy(() => {
    const a = applyRange(layers, imageTensor(model, image), 0, at + 1) as tf.Tensor4D;
    const score = (maps: tf.Tensor): tf.Tensor => classScores(layers, maps, at + 1).slice([0, classIndex], [1, 1]).sum();
    const g = tf.grad(score)(a);
    const weights = tf.mean(g, [1, 2], true); // [1, 1, 1, channels]
    const m = tf.relu(tf.sum(tf.mul(a, weights), 3)).squeeze([0]); // [h', w']
    return { cam: Float32Array.from(m.dataSync()), ch: a.shape[1], cw: a.shape[2] };
  });
  const resized = resizePlane(cam, ch, cw, h, w);
  return {
    method: 'gradcam',
    classIndex,
    className: classNames[classIndex]!,
    layer: layers[at]!.name,
    width: w,
    height: h,
    values: Array.from(resized, (v) => Math.max(0, v)),
  };
}
