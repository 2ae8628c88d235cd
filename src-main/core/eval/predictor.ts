/**
 * The one place that decides how a trained model infers: the native inference pass (native/trainer.cc,
 * `Trainer::Infer`) when the native backend is active and it covers every layer, else tfjs' predict(). Validation,
 * test evaluation, predict and the export checks all go through `createPredictor`, so they agree with each other
 * and get the fast path together.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../shared/contract';
import type { DtypePolicy } from '../../shared/spec';
import { currentBackend } from '../backend';
import { createNativeForward, type NativeProfile } from '../train/fused';

/** A model's inference, in inference mode (Dropout off, BatchNorm on its moving statistics). */
export interface Predictor {
  /** Which path predicts, and why not the native one when it does not: for logs and run.json. */
  readonly description: string;
  /** True when the native inference pass runs. */
  readonly native: boolean;
  /**
   * Outputs (class probabilities) of the first `n` images of `x` (NHWC float32, scaled), as a new flat
   * `n × outputs` array. Uses the model's weights as they were when the predictor was made.
   */
  predict(x: Float32Array, n: number): Float32Array;
  /** Where the native pass's time went since the last reset, by layer category; null for tfjs. */
  profile(reset?: boolean): NativeProfile | null;
  /** Frees the native buffers now; the predictor is unusable afterwards. */
  dispose(): void;
}

/** Images per tfjs predict() call: bounds tfjs' activation memory (the lesson CNN: ~50 MB per conv layer at 500). */
const TFJS_BATCH = 500;

/**
 * A predictor for `model` (one image input [h, w, c], one output) on `backend` (the one `initBackend` chose, by
 * default). The model's weights are copied at creation: make a new predictor after they change. `dtypePolicy`
 * 'mixed_bfloat16': the native pass runs the convolutions that train in bfloat16 in it (a run's validation and test
 * evaluation, as Keras predicts under its policy); predict, explain and the export checks stay float32.
 */
export function createPredictor(model: tf.LayersModel, backend: BackendInfo | null = currentBackend(), dtypePolicy: DtypePolicy = 'float32'): Predictor {
  const [, h, w, c] = model.inputs[0]!.shape as [null, number, number, number];
  const per = h * w * c;
  const outputs = (model.outputs[0]!.shape as (number | null)[]).slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  const check = (x: Float32Array, n: number): void => {
    if (!Number.isInteger(n) || n < 0 || x.length < n * per) {
      throw new RangeError(`predict: ${n} image(s) of ${h}×${w}×${c} need ${n * per} values, received ${x.length}`);
    }
  };
  const plan = createNativeForward(model, backend, dtypePolicy);
  if (plan.ok) {
    const { forward } = plan;
    return {
      description: forward.description,
      native: true,
      predict(x, n) {
        check(x, n);
        const y = new Float32Array(n * outputs);
        forward.infer(x, n, y);
        return y;
      },
      profile: (reset) => forward.profile(reset),
      dispose: () => forward.dispose(),
    };
  }
  return {
    description: `tfjs predict (${plan.reason})`,
    native: false,
    predict(x, n) {
      check(x, n);
      const y = new Float32Array(n * outputs);
      for (let start = 0; start < n; start += TFJS_BATCH) {
        const m = Math.min(TFJS_BATCH, n - start);
        // predict() runs layers with training=false.
        const out = tf.tidy(() => model.predict(tf.tensor4d(x.subarray(start * per, (start + m) * per), [m, h, w, c]), { batchSize: m }) as tf.Tensor);
        y.set(out.dataSync() as Float32Array, start * outputs);
        out.dispose();
      }
      return y;
    },
    profile: () => null,
    dispose: () => undefined,
  };
}
