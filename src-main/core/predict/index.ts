/**
 * Prediction on new images with a run's trained model: decode, preprocess as the export's preprocessing.json
 * says (see ./image.ts), run the in-app model, return the top-3 classes with their probabilities.
 */
import type { Prediction } from '../../shared/contract';
import { createPredictor } from '../eval/predictor';
import { loadRunModel } from '../runs/model-io';
import { readRunInfo } from '../export/run-info';
import { decodeImage, preprocessImage, type PreprocessOptions } from './image';

export { decodeImage, preprocessImage, resizePlane, ImageDecodeError, type DecodedImage, type PreprocessOptions } from './image';

/** How many classes a prediction lists. */
export const TOP_K = 3;

/**
 * Predicts each image (encoded PNG/JPEG bytes) with the trained model of `runDir`. Every image is decoded
 * before the model runs, so one corrupt file fails the call with an error naming that file.
 */
export async function predictImages(
  runDir: string,
  images: { name: string; bytes: Uint8Array }[],
  opts: PreprocessOptions = {},
): Promise<Prediction[]> {
  if (images.length === 0) return [];
  const decoded = images.map((im) => decodeImage(im.name, im.bytes));
  const model = await loadRunModel(runDir);
  try {
    const [, h, w, c] = model.inputs[0]!.shape as [null, number, number, number];
    const per = h * w * c;
    const batch = new Float32Array(images.length * per);
    decoded.forEach((d, i) => batch.set(preprocessImage(d, h, w, c, opts), i * per));
    const predictor = createPredictor(model);
    let values: Float32Array;
    try {
      values = predictor.predict(batch, images.length);
    } finally {
      predictor.dispose();
    }
    const k = values.length / images.length;
    const { classNames } = await readRunInfo(runDir, k);
    return images.map((im, i) => {
      const row = Array.from(values.subarray(i * k, (i + 1) * k));
      const top = row
        .map((probability, classIndex) => ({ classIndex, className: classNames[classIndex]!, probability }))
        .sort((a, b) => b.probability - a.probability)
        .slice(0, TOP_K);
      return { source: im.name, top };
    });
  } finally {
    model.dispose();
  }
}
