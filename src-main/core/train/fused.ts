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
import type { DtypePolicy, OptimizerName, OptimizerSpec } from '../../shared/spec';
import { loadAddon, type NativeAddon } from '../backend/native';
import { FUSED_ACTIVATION, FusedUnsupported, layerCoreFor, type TfConfig } from '../model/layers/index';
import { AugmentPass, splitPreprocessing } from './augment-pass';
import { fusedGraph } from './fused-graph';

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
  /** Where the steps' time went since the last reset (the bench's split). */
  profile(reset?: boolean): NativeProfile;
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

/** The layer categories of the native profile, in the addon's order (native/trainer.h, kProfileConv …). */
export const PROFILE_CATEGORIES = ['convolutions', 'BatchNorm', 'pooling', 'Dense', 'activations, Dropout, Flatten, padding'] as const;
export type ProfileCategory = (typeof PROFILE_CATEGORIES)[number];

/** Wall-clock seconds inside the addon since the last reset, by layer category and pass. */
export interface NativeProfile {
  forward: Record<ProfileCategory, number>;
  backward: Record<ProfileCategory, number>;
  inference: Record<ProfileCategory, number>;
  /** Softmax cross-entropy and its gradient. */
  loss: number;
  /** The optimizer update of every weight. */
  optimizer: number;
  steps: number;
  imagesInferred: number;
}

function readProfile(lib: NativeAddon, handle: unknown, reset: boolean): NativeProfile {
  const p = lib.trainerProfile(handle, reset);
  const n = PROFILE_CATEGORIES.length;
  const part = (at: number) => Object.fromEntries(PROFILE_CATEGORIES.map((c, i) => [c, p[at + i]!])) as Record<ProfileCategory, number>;
  return { forward: part(0), backward: part(n), inference: part(2 * n), loss: p[3 * n]!, optimizer: p[3 * n + 1]!, steps: p[3 * n + 2]!, imagesInferred: p[3 * n + 3]! };
}

export type FusedPlan = { ok: true; trainer: FusedTrainer } | { ok: false; reason: string };

class Unsupported extends Error {}

function noExtras(layer: tf.layers.Layer, c: TfConfig, inference: boolean): void {
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') throw new Unsupported(`layer '${layer.name}': ${String(c.dataFormat)}`);
  // Regularizers, constraints and frozen weights only change training; the inference pass runs them all.
  if (inference) return;
  for (const key of ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint',
    'betaRegularizer', 'gammaRegularizer', 'betaConstraint', 'gammaConstraint', 'depthwiseRegularizer', 'pointwiseRegularizer',
    'depthwiseConstraint', 'pointwiseConstraint']) {
    if (c[key] !== null && c[key] !== undefined) throw new Unsupported(`layer '${layer.name}': ${key}`);
  }
  if (!layer.trainable) throw new Unsupported(`layer '${layer.name}' is frozen (trainable: false)`);
}

/** The addon's code list for one tfjs layer (see native/trainer.cc), from its layer definition; or throws Unsupported. */
function encode(layer: tf.layers.Layer, last: boolean, inference = false): number[] {
  const c = layer.getConfig() as TfConfig;
  noExtras(layer, c, inference);
  const core = layerCoreFor(layer.getClassName());
  if (!core) throw new Unsupported(`${layer.getClassName()} layers`);
  if ('unsupported' in core.fused) throw new Unsupported(core.fused.unsupported);
  if ('augment' in core.fused) throw new Unsupported(`layer '${layer.name}': ${layer.getClassName()} after other layers (the native augmentation pass runs only the leading preprocessing layers)`);
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
    private readonly augment: AugmentPass | null,
    precision: string,
  ) {
    this.description = `fused native training step (${convolutions} convolutions, ${precision}, one call per batch${augment ? `; ${augment.description}` : ''})`;
  }

  step(x: Float32Array, labels: Int32Array, n: number, lr: number): FusedStepResult {
    const input = this.augment ? this.augment.training(x, n) : x;
    const [loss, accuracy, finite] = this.lib.trainerStep(this.handle, input, labels, n, lr);
    return { loss: loss!, accuracy: accuracy!, finite: finite === 1 };
  }

  pullFromModel(): void {
    this.layers.forEach((layer, i) => {
      layer.getWeights().forEach((w, j) => this.lib.trainerParam(this.handle, i, j, w.dataSync() as Float32Array, true));
    });
  }

  profile(reset = false): NativeProfile {
    return readProfile(this.lib, this.handle, reset);
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

/** The addon computes every shape itself: it must agree with tfjs on each layer's output and weights (else why not). */
function layoutMismatch(lib: NativeAddon, handle: unknown, layers: tf.layers.Layer[]): string | null {
  const layout = lib.trainerLayout(handle);
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const shape = (layer.outputShape as (number | null)[]).slice(1);
    const size = shape.reduce<number>((a, d) => a * (d ?? 0), 1);
    const mine = layout[i]!;
    const sizes = layer.getWeights().map((w) => w.size);
    if (mine.shape.reduce((a, d) => a * d, 1) !== size || JSON.stringify(mine.params) !== JSON.stringify(sizes)) {
      return `layer '${layer.name}': the fused step computed output ${mine.shape} / weights ${mine.params}, tfjs ${shape} / ${sizes}`;
    }
  }
  return null;
}

/**
 * A fused trainer for `model` (already built, weights initialised) when the native backend is active and every
 * layer, activation and the optimizer are covered; else the reason why not.
 * `CNN_WORKBENCH_FUSED=0` turns it off (to compare against the tfjs layers path). `addon`: another build of the
 * addon than the loaded one (the bench's paired A/B). `dtypePolicy`: Keras' policy (spec.ts, `DTYPE_POLICIES`).
 */
export function createFusedTrainer(
  model: tf.LayersModel,
  optimizer: OptimizerSpec,
  seed: number,
  maxBatch: number,
  backend: BackendInfo,
  options: { addon?: NativeAddon; dtypePolicy?: DtypePolicy } = {},
): FusedPlan {
  const { addon, dtypePolicy = 'float32' } = options;
  if (process.env.CNN_WORKBENCH_FUSED === '0') return { ok: false, reason: 'CNN_WORKBENCH_FUSED=0' };
  if (backend.name !== 'native') return { ok: false, reason: `the ${backend.name} backend trains through tfjs layers` };
  const lib = addon ?? loadAddon();
  const convolutions = lib.info().convolutions || 'im2col + OpenBLAS';
  let layers: tf.layers.Layer[];
  let pass: AugmentPass | null;
  let codes: number[][];
  let opt: number[];
  let graph: number[][] | null;
  try {
    ({ layers, pass } = preprocessing(lib, model));
    graph = fusedGraph(model, layers);
    codes = layers.map((l, i) => encode(l, i === layers.length - 1));
    opt = optimizerCode(optimizer);
  } catch (err) {
    if (err instanceof Unsupported || err instanceof FusedUnsupported) return { ok: false, reason: `the fused step does not cover ${err.message}` };
    throw err;
  }
  if (layers.at(-1) && codes.at(-1)!.at(-1) !== FUSED_ACTIVATION.softmax) return { ok: false, reason: 'the fused step needs a softmax output' };
  const input = model.inputs[0]!.shape.slice(1);
  if (input.length !== 3 || input.some((d) => typeof d !== 'number')) return { ok: false, reason: 'the fused step needs an image input [h, w, c]' };
  let handle: unknown;
  try {
    handle = lib.trainerCreate(codes, input as number[], maxBatch, opt, seed, graph, PRECISION_CODE[dtypePolicy]);
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  const mismatch = layoutMismatch(lib, handle, layers);
  if (mismatch) {
    lib.trainerDispose(handle);
    return { ok: false, reason: mismatch };
  }
  const trainer = new NativeFusedTrainer(lib, handle, layers, convolutions, pass, precisionNote(lib, handle, dtypePolicy, layers));
  trainer.pullFromModel();
  return { ok: true, trainer };
}

/** The addon's precision code of each dtype policy (native/trainer.h, `Precision`). */
const PRECISION_CODE: Record<DtypePolicy, number> = { float32: 0, mixed_bfloat16: 1 };

/** What a trainer made under `policy` computes in, for its description (and so the run's log): which convolutions
 *  run in bfloat16 (the addon's layout says), or why none does under mixed_bfloat16. */
function precisionNote(lib: NativeAddon, handle: unknown, policy: DtypePolicy, layers: tf.layers.Layer[]): string {
  if (policy === 'float32') return 'float32';
  const layout = lib.trainerLayout(handle);
  const oneDnn = lib.info().convolutions !== '';
  const convs = layers.filter((l) => l.getClassName() === 'Conv2D');
  const bf16 = layers.filter((_, i) => layout[i]?.bf16 === true);
  if (bf16.length === 0) {
    const why = convs.length === 0 ? 'the model has no Conv2D layer' : convs.every((l) => (l.getWeights()[0]?.shape[2] ?? 0) < 4)
      ? 'its convolutions have fewer than 4 input channels' : !oneDnn ? 'its convolutions do not run on oneDNN here'
      : 'this CPU has no bfloat16 instructions (AVX512_BF16 or AMX)';
    return `mixed_bfloat16 asked, float32 throughout: ${why}`;
  }
  return `mixed_bfloat16: ${bf16.length} of ${convs.length} convolutions in bfloat16 (${bf16.map((l) => l.name).join(', ')}), the rest float32`;
}

// ---- the inference pass (native/trainer.cc, Trainer::Infer): validation, evaluation, predict and export checks

/** A model's inference pass in native code (BatchNorm on moving statistics, Dropout off), as tfjs' predict(). */
export interface NativeForward {
  readonly description: string;
  /** Writes the outputs of `n` images (NHWC, scaled) into `y` (n × outputs). Uses the weights of the last `pullFromModel`. */
  infer(x: Float32Array, n: number, y: Float32Array): void;
  /** Copies every weight of the model into the native pass. */
  pullFromModel(): void;
  /** Where the inference time went since the last reset. */
  profile(reset?: boolean): NativeProfile;
  dispose(): void;
}

export type NativeForwardPlan = { ok: true; forward: NativeForward } | { ok: false; reason: string };

/**
 * The native inference pass for `model` when the native backend is active and the fused step's encoding covers
 * every layer (frozen layers, regularizers and any output activation included: they only matter to training);
 * else why not. Its weights are the model's at creation. `CNN_WORKBENCH_FUSED=0` turns it off too.
 */
export function createNativeForward(model: tf.LayersModel, backend: BackendInfo | null, dtypePolicy: DtypePolicy = 'float32'): NativeForwardPlan {
  if (process.env.CNN_WORKBENCH_FUSED === '0') return { ok: false, reason: 'CNN_WORKBENCH_FUSED=0' };
  if (backend?.name !== 'native') return { ok: false, reason: `the ${backend?.name ?? 'default'} backend predicts through tfjs` };
  const input = model.inputs[0]?.shape.slice(1) ?? [];
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || input.length !== 3 || input.some((d) => typeof d !== 'number'))
    return { ok: false, reason: 'the native pass needs one image input [h, w, c] and one output' };
  const lib = loadAddon();
  let layers: tf.layers.Layer[];
  let pass: AugmentPass | null;
  let codes: number[][];
  let graph: number[][] | null;
  try {
    ({ layers, pass } = preprocessing(lib, model));
    graph = fusedGraph(model, layers);
    codes = layers.map((l, i) => encode(l, i === layers.length - 1, true));
  } catch (err) {
    if (err instanceof Unsupported || err instanceof FusedUnsupported) return { ok: false, reason: `the native pass does not cover ${err.message}` };
    throw err;
  }
  let handle: unknown;
  try {
    // maxBatch 1: the training buffers stay tiny; Infer works in chunks in buffers of its own. Adam's codes are unused.
    handle = lib.trainerCreate(codes, input as number[], 1, [1, 0.9, 0.999, 1e-7], 0, graph, PRECISION_CODE[dtypePolicy]);
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  const mismatch = layoutMismatch(lib, handle, layers);
  const uncovered = mismatch ? -1 : lib.trainerInferCheck(handle);
  if (mismatch || uncovered >= 0) {
    lib.trainerDispose(handle);
    return { ok: false, reason: mismatch ?? `the native pass does not cover ${layers[uncovered]!.getClassName()} layers` };
  }
  const convolutions = lib.info().convolutions || 'im2col + OpenBLAS';
  const forward: NativeForward = {
    description: `native inference pass (${convolutions} convolutions, ${precisionNote(lib, handle, dtypePolicy, layers)}, BatchNorm folded into them${pass ? `; leading ${pass.description} at inference: Rescaling only` : ''})`,
    infer: pass?.appliesAtInference ? rescaledInfer(lib, handle, pass, input as number[], layers.at(-1)!) : (x, n, y) => lib.trainerInfer(handle, x, n, y),
    pullFromModel: () => layers.forEach((layer, i) => layer.getWeights().forEach((w, j) => lib.trainerParam(handle, i, j, w.dataSync() as Float32Array, true))),
    profile: (reset = false) => readProfile(lib, handle, reset),
    dispose: () => lib.trainerDispose(handle),
  };
  forward.pullFromModel();
  return { ok: true, forward };
}

/** The model's layers after its leading preprocessing ones, and the native pass that runs those (null: none lead). */
function preprocessing(lib: NativeAddon, model: tf.LayersModel): { layers: tf.layers.Layer[]; pass: AugmentPass | null } {
  const all = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const { leading, rest } = splitPreprocessing(all);
  if (rest.length === 0) throw new Unsupported('a model of preprocessing layers only');
  const shape = model.inputs[0]!.shape.slice(1) as [number, number, number];
  return { layers: rest, pass: leading.length > 0 ? new AugmentPass(lib, leading, shape) : null };
}

/** Images per chunk through the Rescaling pass before inference: bounds the copy (≈ 12 MB for 32×32×3). */
const RESCALE_CHUNK = 1024;

/** Inference behind the pass's Rescaling, chunk by chunk (the caller's images stay as they are). */
function rescaledInfer(lib: NativeAddon, handle: unknown, pass: AugmentPass, input: number[], last: tf.layers.Layer): NativeForward['infer'] {
  const per = input.reduce((a, d) => a * d, 1);
  const outputs = (last.outputShape as (number | null)[]).slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  return (x, n, y) => {
    const scratch = new Float32Array(Math.min(n, RESCALE_CHUNK) * per);
    for (let start = 0; start < n; start += RESCALE_CHUNK) {
      const m = Math.min(RESCALE_CHUNK, n - start);
      pass.inference(x.subarray(start * per, (start + m) * per), m, scratch);
      lib.trainerInfer(handle, scratch, m, y.subarray(start * outputs, (start + m) * outputs));
    }
  };
}
