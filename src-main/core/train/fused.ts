/**
 * The fused training step: on the native backend, a whole training step of a supported Sequential model
 * (forward, categorical cross-entropy on its softmax, backward, optimizer update) runs as one call into the
 * addon (native/trainer.cc) instead of ~600 tfjs kernel calls. The tfjs model stays the source of truth between
 * epochs: weights go into the trainer when an epoch starts (`pullFromModel`) and back when it ends
 * (`pushToModel`), so validation, callbacks (EarlyStopping's restore), evaluation and saving are unchanged.
 *
 * Models or optimizers it does not cover train through tfjs layers as before; `reason` says why.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../shared/contract';
import type { OptimizerName, OptimizerSpec } from '../../shared/spec';
import { loadAddon, type NativeAddon } from '../backend/native';
import { FUSED_ACTIVATION, FusedUnsupported, layerCoreFor, type TfConfig } from '../model/layers/index';

/** One step's figures, as tfjs' trainOnBatch reports them (loss and accuracy on the batch). */
export interface FusedStepResult {
  loss: number;
  accuracy: number;
  /** False when any weight became NaN or infinite in this step. */
  finite: boolean;
}

/** A model's training step in native code. */
export interface FusedTrainer {
  /** One line for logs and run.json. */
  readonly description: string;
  /** One step on `n` images (NHWC, scaled) with integer labels, at learning rate `lr`. */
  step(x: Float32Array, labels: Int32Array, n: number, lr: number): FusedStepResult;
  /** Copies every weight of the model (BatchNorm moving statistics included) into the trainer. */
  pullFromModel(): void;
  /** Copies every weight of the trainer into the model. */
  pushToModel(): void;
  /** Frees the native buffers (activations, gradients, optimizer slots) now rather than at garbage collection. */
  dispose(): void;
}

export type FusedPlan = { ok: true; trainer: FusedTrainer } | { ok: false; reason: string };

class Unsupported extends Error {}

function noExtras(layer: tf.layers.Layer, c: TfConfig): void {
  for (const key of ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint',
    'betaRegularizer', 'gammaRegularizer', 'betaConstraint', 'gammaConstraint']) {
    if (c[key] !== null && c[key] !== undefined) throw new Unsupported(`layer '${layer.name}': ${key}`);
  }
  if (!layer.trainable) throw new Unsupported(`layer '${layer.name}' is frozen (trainable: false)`);
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') throw new Unsupported(`layer '${layer.name}': ${String(c.dataFormat)}`);
}

/** The addon's code list for one tfjs layer (see native/trainer.cc), from its layer definition; or throws Unsupported. */
function encode(layer: tf.layers.Layer, last: boolean): number[] {
  const c = layer.getConfig() as TfConfig;
  noExtras(layer, c);
  const core = layerCoreFor(layer.getClassName());
  if (!core) throw new Unsupported(`${layer.getClassName()} layers`);
  if ('unsupported' in core.fused) throw new Unsupported(core.fused.unsupported);
  try {
    return core.fused.encode(layer, c, last);
  } catch (err) {
    if (err instanceof FusedUnsupported) throw new Unsupported(err.message);
    throw err;
  }
}

/** The addon's optimizer codes, with Keras 3's defaults (shared/optimizers.ts); every optimizer must have one. */
const FUSED_OPTIMIZER: Readonly<Record<OptimizerName, (c: OptimizerSpec['config']) => number[]>> = {
  adam: (c) => [1, c.beta_1 ?? 0.9, c.beta_2 ?? 0.999, c.epsilon ?? 1e-7],
  sgd: (c) => [2, c.momentum ?? 0, c.nesterov ? 1 : 0, 0],
  rmsprop: (c) => [3, c.rho ?? 0.9, c.momentum ?? 0, c.epsilon ?? 1e-7],
  adagrad: (c) => [4, c.initial_accumulator_value ?? 0.1, 0, 1e-7], // tfjs adds its backend's epsilon, 1e-7
  adamax: (c) => [5, c.beta_1 ?? 0.9, c.beta_2 ?? 0.999, c.epsilon ?? 1e-7],
};

function optimizerCode(opt: OptimizerSpec): number[] {
  const code = Object.prototype.hasOwnProperty.call(FUSED_OPTIMIZER, opt.class_name) ? FUSED_OPTIMIZER[opt.class_name] : undefined;
  if (!code) throw new Unsupported(`the ${String(opt.class_name)} optimizer`);
  return code(opt.config);
}

class NativeFusedTrainer implements FusedTrainer {
  readonly description: string;

  constructor(
    private readonly lib: NativeAddon,
    private readonly handle: unknown,
    private readonly layers: tf.layers.Layer[],
    convolutions: string,
  ) {
    this.description = `fused native training step (${convolutions} convolutions, one call per batch)`;
  }

  step(x: Float32Array, labels: Int32Array, n: number, lr: number): FusedStepResult {
    const [loss, accuracy, finite] = this.lib.trainerStep(this.handle, x, labels, n, lr);
    return { loss: loss!, accuracy: accuracy!, finite: finite === 1 };
  }

  pullFromModel(): void {
    this.layers.forEach((layer, i) => {
      layer.getWeights().forEach((w, j) => this.lib.trainerParam(this.handle, i, j, w.dataSync() as Float32Array, true));
    });
  }

  dispose(): void {
    this.lib.trainerDispose(this.handle);
  }

  pushToModel(): void {
    this.layers.forEach((layer, i) => {
      const current = layer.getWeights();
      if (current.length === 0) return;
      const next = current.map((w, j) => {
        const data = new Float32Array(w.size);
        this.lib.trainerParam(this.handle, i, j, data, false);
        return tf.tensor(data, w.shape, 'float32');
      });
      layer.setWeights(next);
      tf.dispose(next);
    });
  }
}

/**
 * A fused trainer for `model` (already built, weights initialised) when the native backend is active and every
 * layer, activation and the optimizer are covered; else the reason why not.
 * `CNN_WORKBENCH_FUSED=0` turns it off (to compare against the tfjs layers path).
 */
export function createFusedTrainer(model: tf.LayersModel, optimizer: OptimizerSpec, seed: number, maxBatch: number, backend: BackendInfo): FusedPlan {
  if (process.env.CNN_WORKBENCH_FUSED === '0') return { ok: false, reason: 'CNN_WORKBENCH_FUSED=0' };
  if (backend.name !== 'native') return { ok: false, reason: `the ${backend.name} backend trains through tfjs layers` };
  const lib = loadAddon();
  const convolutions = lib.info().convolutions || 'im2col + OpenBLAS';
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  let codes: number[][];
  let opt: number[];
  try {
    codes = layers.map((l, i) => encode(l, i === layers.length - 1));
    opt = optimizerCode(optimizer);
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, reason: `the fused step does not cover ${err.message}` };
    throw err;
  }
  if (layers.at(-1) && codes.at(-1)!.at(-1) !== FUSED_ACTIVATION.softmax) return { ok: false, reason: 'the fused step needs a softmax output' };
  const input = model.inputs[0]!.shape.slice(1);
  if (input.length !== 3 || input.some((d) => typeof d !== 'number')) return { ok: false, reason: 'the fused step needs an image input [h, w, c]' };
  let handle: unknown;
  try {
    handle = lib.trainerCreate(codes, input as number[], maxBatch, opt, seed);
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  // The addon computes every shape itself: it must agree with tfjs on each layer's output and weights.
  const layout = lib.trainerLayout(handle);
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const shape = (layer.outputShape as (number | null)[]).slice(1);
    const size = shape.reduce<number>((a, d) => a * (d ?? 0), 1);
    const mine = layout[i]!;
    const sizes = layer.getWeights().map((w) => w.size);
    if (mine.shape.reduce((a, d) => a * d, 1) !== size || JSON.stringify(mine.params) !== JSON.stringify(sizes)) {
      lib.trainerDispose(handle);
      return { ok: false, reason: `layer '${layer.name}': the fused step computed output ${mine.shape} / weights ${mine.params}, tfjs ${shape} / ${sizes}` };
    }
  }
  const trainer = new NativeFusedTrainer(lib, handle, layers, convolutions);
  trainer.pullFromModel();
  return { ok: true, trainer };
}
