/**
 * Comparing an exported model, reloaded, with the in-app model on the same images: how often the top class
 * agrees and the largest difference in any probability.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { createPredictor, type Predictor } from '../eval/predictor';
import { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './onnx';

/** A batch of preprocessed images: float32 NHWC, `count × height × width × channels`. */
export interface ImageBatch {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** Agreement between two sets of per-image probability vectors. */
export interface Agreement {
  checked: number;
  /** Fraction (0–1) of images whose argmax is the same. */
  argmaxAgreement: number;
  /** Largest |p_a − p_b| over all images and classes. */
  maxAbsDiff: number;
}

/**
 * The in-app model's outputs on the batch, through `createPredictor`: the native inference pass where it runs
 * (what validation, evaluation and predict use), else tfjs.
 */
export function predictInApp(model: tf.LayersModel, batch: ImageBatch): Float32Array {
  return predictWith(createPredictor(model), batch);
}

/** Runs a tfjs model over the batch with tfjs itself (an exported model as its users will run it). */
export function predictTfjs(model: tf.LayersModel, batch: ImageBatch): Float32Array {
  return predictWith(createPredictor(model, null), batch);
}

function predictWith(predictor: Predictor, batch: ImageBatch): Float32Array {
  try {
    return predictor.predict(batch.data, batch.shape[0]);
  } finally {
    predictor.dispose();
  }
}

/** Runs a serialized ONNX model with ONNX Runtime (CPU) on an NHWC float32 batch; returns the flat output. */
export async function runOnnx(modelBytes: Uint8Array, data: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  try {
    const feeds = { [ONNX_INPUT_NAME]: new ort.Tensor('float32', data, shape) };
    const result = await session.run(feeds);
    const out = result[ONNX_OUTPUT_NAME];
    if (!out) throw new Error(`the ONNX model has no output named '${ONNX_OUTPUT_NAME}'`);
    return Float32Array.from(out.data as Float32Array);
  } finally {
    await session.release();
  }
}

/** Compares two flat `[count, classes]` probability arrays. */
export function compareProbabilities(expected: Float32Array, got: Float32Array, count: number): Agreement {
  if (expected.length !== got.length) {
    throw new Error(`output sizes differ: the in-app model gives ${expected.length} values, the export ${got.length}`);
  }
  const k = count === 0 ? 0 : expected.length / count;
  let agree = 0;
  let maxAbsDiff = 0;
  for (let n = 0; n < count; n++) {
    let a = 0;
    let b = 0;
    for (let i = 0; i < k; i++) {
      const e = expected[n * k + i]!;
      const g = got[n * k + i]!;
      // NaN in either is a disagreement, never silently ignored by Math.max.
      const d = Number.isNaN(e) || Number.isNaN(g) ? Infinity : Math.abs(e - g);
      if (d > maxAbsDiff) maxAbsDiff = d;
      if (e > expected[n * k + a]!) a = i;
      if (g > got[n * k + b]!) b = i;
    }
    if (a === b) agree++;
  }
  return { checked: count, argmaxAgreement: count === 0 ? 0 : agree / count, maxAbsDiff };
}
