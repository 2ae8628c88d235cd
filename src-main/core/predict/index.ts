/**
 * Prediction on new images with a run's trained model: decode, preprocess as the export's preprocessing.json
 * says (see ./image.ts), run the in-app model, return the top-3 classes with their probabilities.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { Prediction } from '../../shared/contract';
import { createPredictor } from '../eval/predictor';
import { loadRunModel } from '../runs/model-io';
import { readRunInfo } from '../export/run-info';
import { loadRunData } from '../data/provenance';
import { decodeImage, preprocessImage, type PreprocessOptions } from './image';

export { decodeImage, preprocessImage, resizePlane, ImageDecodeError, type DecodedImage, type PreprocessOptions } from './image';

/** How many classes a prediction lists. */
export const TOP_K = 3;

/** Options for `predictImages`. */
export interface PredictImagesOptions extends PreprocessOptions {
  /** Also return each image as the model sees it (0–255), for the UI to show. */
  withInput?: boolean;
}

/** The model's input for one image, back in 0–255 for display. */
function inputOf(batch: Float32Array, i: number, h: number, w: number, c: number): NonNullable<Prediction['input']> {
  const per = h * w * c;
  return { width: w, height: h, channels: c, pixels: Array.from(batch.subarray(i * per, (i + 1) * per), (v) => Math.round(v * 255)) };
}

/** Runs the model on a prepared NHWC batch and ranks the classes of each image. */
async function classify(
  runDir: string,
  model: LayersModel,
  batch: Float32Array,
  sources: string[],
  withInput: boolean,
): Promise<Prediction[]> {
  const [, h, w, c] = model.inputs[0]!.shape as [null, number, number, number];
  const predictor = createPredictor(model);
  let values: Float32Array;
  try {
    values = predictor.predict(batch, sources.length);
  } finally {
    predictor.dispose();
  }
  const k = values.length / sources.length;
  const { classNames } = await readRunInfo(runDir, k);
  return sources.map((source, i) => {
    const row = Array.from(values.subarray(i * k, (i + 1) * k));
    const top = row
      .map((probability, classIndex) => ({ classIndex, className: classNames[classIndex]!, probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, TOP_K);
    return withInput ? { source, top, input: inputOf(batch, i, h, w, c) } : { source, top };
  });
}

/**
 * Predicts each image (encoded PNG/JPEG bytes) with the trained model of `runDir`. Every image is decoded
 * before the model runs, so one corrupt file fails the call with an error naming that file.
 */
export async function predictImages(
  runDir: string,
  images: { name: string; bytes: Uint8Array }[],
  opts: PredictImagesOptions = {},
): Promise<Prediction[]> {
  if (images.length === 0) return [];
  const decoded = images.map((im) => decodeImage(im.name, im.bytes));
  const model = await loadRunModel(runDir);
  try {
    const [, h, w, c] = model.inputs[0]!.shape as [null, number, number, number];
    const per = h * w * c;
    const batch = new Float32Array(images.length * per);
    decoded.forEach((d, i) => batch.set(preprocessImage(d, h, w, c, opts), i * per));
    return await classify(runDir, model, batch, images.map((im) => im.name), opts.withInput === true);
  } finally {
    model.dispose();
  }
}

/** A run's test image that cannot be had: the run's data is missing or changed, or the index is out of range. */
export class TestImageError extends Error {
  override name = 'TestImageError';
}

/**
 * Predicts test images of the run's own data (found where the run recorded it, checked by fingerprint) and
 * returns each with its true class and the image as the model sees it.
 */
export async function predictTestImages(runDir: string, indices: number[]): Promise<Prediction[]> {
  if (indices.length === 0) return [];
  const model = await loadRunModel(runDir);
  try {
    const k = Number(model.outputs[0]!.shape[1] ?? 0);
    const info = await readRunInfo(runDir, k);
    const data = await loadRunData(info.data);
    if (!data.ok) throw new TestImageError(`no test images for run ${info.runId}: ${data.reason}`);
    const test = data.dataset.test;
    const [, h, w, c] = model.inputs[0]!.shape as [null, number, number, number];
    if (test.height !== h || test.width !== w || test.channels !== c) {
      throw new TestImageError(`the run's test images are ${test.height}×${test.width}×${test.channels} but the model takes ${h}×${w}×${c}`);
    }
    const per = h * w * c;
    const batch = new Float32Array(indices.length * per);
    indices.forEach((index, i) => {
      if (!Number.isInteger(index) || index < 0 || index >= test.count) {
        throw new TestImageError(`test image ${index} is outside the run's ${test.count} test images`);
      }
      for (let p = 0; p < per; p++) batch[i * per + p] = test.images[index * per + p]! / 255;
    });
    const predictions = await classify(runDir, model, batch, indices.map((i) => `test image ${i}`), true);
    return predictions.map((p, i) => {
      const label = test.labels[indices[i]!]!;
      return { ...p, truth: { classIndex: label, className: info.classNames[label] ?? `class ${label}` } };
    });
  } finally {
    model.dispose();
  }
}
