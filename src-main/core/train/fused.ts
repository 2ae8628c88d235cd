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
import type { OptimizerSpec } from '../../shared/spec';
import { loadAddon, type NativeAddon } from '../backend/native';

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
  /** The optimizer's state (two slots per weight, empty for non-trainable ones) and counters, for checkpoints. */
  getOptimizerState(): FusedOptimizerState;
  /** Puts a state from `getOptimizerState` back (same model); throws naming the weight when a size differs. */
  setOptimizerState(state: FusedOptimizerState): void;
}

/** The fused step's optimizer state: slot arrays in layer / weight / slot order, [optimizer steps, Dropout calls]. */
export interface FusedOptimizerState {
  slots: Float32Array[];
  counters: [number, number];
}

export type FusedPlan = { ok: true; trainer: FusedTrainer } | { ok: false; reason: string };

const ACT: Record<string, number> = { linear: 0, relu: 1, softmax: 2, elu: 3, selu: 4, gelu: 5, swish: 6, sigmoid: 7, tanh: 8 };
const CONV = 1;
const DENSE = 2;
const BATCH_NORM = 3;
const ACTIVATION = 4;
const MAX_POOL = 5;
const DROPOUT = 6;
const FLATTEN = 7;
const AVG_POOL = 8;
const GLOBAL_AVG_POOL = 9;
const GLOBAL_MAX_POOL = 10;
const ZERO_PAD = 11;
const SPATIAL_DROPOUT = 12;
const LEAKY_RELU = 13;

type Config = Record<string, unknown>;

class Unsupported extends Error {}

function pair(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
  throw new Unsupported(`unexpected size ${JSON.stringify(v)}`);
}

function activation(layer: tf.layers.Layer, c: Config, last: boolean): number {
  const name = String(c.activation ?? 'linear');
  const code = ACT[name];
  if (code === undefined) throw new Unsupported(`layer '${layer.name}': activation '${name}'`);
  if (code === ACT.softmax && !last) throw new Unsupported(`layer '${layer.name}': softmax before the last layer`);
  return code;
}

function noExtras(layer: tf.layers.Layer, c: Config): void {
  for (const key of ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint',
    'betaRegularizer', 'gammaRegularizer', 'betaConstraint', 'gammaConstraint']) {
    if (c[key] !== null && c[key] !== undefined) throw new Unsupported(`layer '${layer.name}': ${key}`);
  }
  if (!layer.trainable) throw new Unsupported(`layer '${layer.name}' is frozen (trainable: false)`);
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') throw new Unsupported(`layer '${layer.name}': ${String(c.dataFormat)}`);
}

/** The addon's code list for one tfjs layer (see native/trainer.cc), or throws Unsupported. */
function encode(layer: tf.layers.Layer, last: boolean): number[] {
  const c = layer.getConfig() as Config;
  noExtras(layer, c);
  switch (layer.getClassName()) {
    case 'Conv2D': {
      const [kh, kw] = pair(c.kernelSize);
      const [sh, sw] = pair(c.strides);
      const [dh, dw] = pair(c.dilationRate ?? 1);
      const act = activation(layer, c, last);
      if (act === ACT.softmax) throw new Unsupported(`layer '${layer.name}': softmax on a convolution`);
      return [CONV, Number(c.filters), kh, kw, sh, sw, dh, dw, c.padding === 'same' ? 1 : 0, c.useBias === false ? 0 : 1, act];
    }
    case 'Dense':
      return [DENSE, Number(c.units), c.useBias === false ? 0 : 1, activation(layer, c, last)];
    case 'BatchNormalization': {
      const axis = c.axis;
      if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3)))
        throw new Unsupported(`layer '${layer.name}': BatchNormalization axis ${JSON.stringify(axis)}`);
      return [BATCH_NORM, Number(c.momentum), Number(c.epsilon), c.center === false ? 0 : 1, c.scale === false ? 0 : 1];
    }
    case 'Activation':
      return [ACTIVATION, activation(layer, c, last)];
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const [ph, pw] = pair(c.poolSize);
      const [sh, sw] = pair(c.strides ?? c.poolSize);
      return [layer.getClassName() === 'MaxPooling2D' ? MAX_POOL : AVG_POOL, ph, pw, sh, sw, c.padding === 'same' ? 1 : 0];
    }
    case 'GlobalAveragePooling2D':
      return [GLOBAL_AVG_POOL];
    case 'GlobalMaxPooling2D':
      return [GLOBAL_MAX_POOL];
    case 'ZeroPadding2D': {
      const p = c.padding;
      if (!Array.isArray(p) || p.length !== 2) throw new Unsupported(`layer '${layer.name}': padding ${JSON.stringify(p)}`);
      const [top, bottom] = pair(p[0]);
      const [left, right] = pair(p[1]);
      return [ZERO_PAD, top, bottom, left, right];
    }
    case 'LeakyReLU':
      return [LEAKY_RELU, Number(c.alpha ?? 0.3)];
    case 'SpatialDropout2D':
      return [SPATIAL_DROPOUT, Number(c.rate)];
    case 'Dropout':
      if (c.noiseShape !== null && c.noiseShape !== undefined) throw new Unsupported(`layer '${layer.name}': Dropout noise_shape`);
      return [DROPOUT, Number(c.rate)];
    case 'Flatten':
      return [FLATTEN];
    default:
      throw new Unsupported(`${layer.getClassName()} layers`);
  }
}

/** The addon's optimizer codes, with the defaults createOptimizer uses (Keras 3's). */
function optimizerCode(opt: OptimizerSpec): number[] {
  const c = opt.config;
  switch (opt.class_name) {
    case 'adam':
      return [1, c.beta_1 ?? 0.9, c.beta_2 ?? 0.999, c.epsilon ?? 1e-7];
    case 'sgd':
      return [2, c.momentum ?? 0, c.nesterov ? 1 : 0, 0];
    case 'rmsprop':
      return [3, c.rho ?? 0.9, c.momentum ?? 0, c.epsilon ?? 1e-7];
    case 'adagrad':
      return [4, c.initial_accumulator_value ?? 0.1, 0, 1e-7]; // tfjs adds its backend's epsilon, 1e-7
    case 'adamax':
      return [5, c.beta_1 ?? 0.9, c.beta_2 ?? 0.999, c.epsilon ?? 1e-7];
    default:
      throw new Unsupported(`the ${String(opt.class_name)} optimizer`);
  }
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

  getOptimizerState(): FusedOptimizerState {
    const slots: Float32Array[] = [];
    this.eachSlot((i, j, slot, size) => {
      const data = new Float32Array(size);
      this.lib.trainerParam(this.handle, i, j, data, false, slot);
      slots.push(data);
    });
    return { slots, counters: this.lib.trainerCounters(this.handle) };
  }

  setOptimizerState(state: FusedOptimizerState): void {
    let k = 0;
    this.eachSlot((i, j, slot, size) => {
      const data = state.slots[k++];
      if (!data || (data.length !== size && data.length !== 0)) {
        throw new RangeError(`optimizer state: layer '${this.layers[i]!.name}' weight ${j} slot ${slot} has ${size} values, the state ${data?.length ?? 'none'}`);
      }
      this.lib.trainerParam(this.handle, i, j, data, true, slot);
    });
    if (k !== state.slots.length) throw new RangeError(`optimizer state: ${state.slots.length} slot arrays for a model with ${k}`);
    this.lib.trainerCounters(this.handle, state.counters);
  }

  /** Calls `fn` for both optimizer slots of every weight; `size` is 0 for a non-trainable weight (no slots). */
  private eachSlot(fn: (layer: number, weight: number, slot: number, size: number) => void): void {
    this.layers.forEach((layer, i) => {
      const trainable = new Set(layer.trainableWeights.map((w) => w.name));
      layer.weights.forEach((w, j) => {
        const size = trainable.has(w.name) ? w.shape.reduce<number>((a, d) => a * (d ?? 1), 1) : 0;
        for (const slot of [1, 2]) fn(i, j, slot, size);
      });
    });
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
  if (layers.at(-1) && codes.at(-1)!.at(-1) !== ACT.softmax) return { ok: false, reason: 'the fused step needs a softmax output' };
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
