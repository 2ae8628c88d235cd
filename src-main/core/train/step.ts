/**
 * The training step as a strategy: what `runTraining`'s loop calls once per batch, whichever engine runs it.
 *
 *   - `FusedTrainStep`: the native addon's whole-model step (forward, loss, backward, update in one call);
 *   - `TfjsTrainStep`: tfjs layers' `trainOnBatch`.
 *
 * The tfjs model stays the source of truth between epochs for both: `beginEpoch` takes the model's weights
 * (callbacks may have changed them), `endEpoch` puts the trained ones back, so validation, callbacks,
 * evaluation and saving never need to know which step ran.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../shared/contract';
import type { Hyperparameters, AnyModelSpec, SpecIssue } from '../../shared/spec';
import { gatherBatch, toTensors, type ImageSet } from '../data';
import { SpecError } from '../model';
import { createFusedTrainer, type FusedTrainer } from './fused';

/** One batch's figures: the batch's loss and accuracy, and whether every weight is still finite. */
export interface StepResult {
  loss: number;
  accuracy: number;
  finite: boolean;
}

/** The optimizer's state as plain arrays (slots, iteration counts), for checkpoints. */
export interface StepState {
  /** 'fused' or 'tfjs': one's state does not fit the other. */
  kind: string;
  counters: number[];
  arrays: { name: string; shape: number[]; data: Float32Array }[];
}

/** A training step over one model: Keras' `train_step`, chosen once per run. */
export interface TrainStep {
  /** One line for logs, run.json and progress ("fused native training step (…)" / "tfjs layers trainOnBatch (…)"). */
  readonly description: string;
  /** Before an epoch's first batch: start from the model's current weights. */
  beginEpoch(): void;
  /** One optimizer step on the images `indices` of the training set, at learning rate `lr`. */
  step(indices: Int32Array, lr: number): Promise<StepResult>;
  /** After an epoch's last batch (or a stop mid-epoch): the model gets the trained weights. */
  endEpoch(): void;
  /** The optimizer's state (call between epochs). */
  getState(): Promise<StepState>;
  /** Puts a state from `getState` of the same model and step kind back (before the first epoch of a resumed run). */
  setState(state: StepState): Promise<void>;
  /** Frees what the step holds (native buffers); called once, also after a failure. */
  dispose(): void;
}

/** The native fused step: batches are gathered into buffers it owns, sized for the largest batch it can see. */
class FusedTrainStep implements TrainStep {
  readonly description: string;
  private readonly x: Float32Array;
  private readonly labels: Int32Array;

  constructor(
    private readonly trainer: FusedTrainer,
    private readonly set: ImageSet,
    private readonly numClasses: number,
    maxBatch: number,
  ) {
    this.description = trainer.description;
    this.x = new Float32Array(maxBatch * set.height * set.width * set.channels);
    this.labels = new Int32Array(maxBatch);
  }

  beginEpoch(): void {
    this.trainer.pullFromModel();
  }

  step(indices: Int32Array, lr: number): Promise<StepResult> {
    gatherBatch(this.set, indices, this.numClasses, this.x, this.labels);
    return Promise.resolve(this.trainer.step(this.x, this.labels, indices.length, lr));
  }

  endEpoch(): void {
    this.trainer.pushToModel();
  }

  getState(): Promise<StepState> {
    const { slots, counters } = this.trainer.getOptimizerState();
    return Promise.resolve({ kind: 'fused', counters, arrays: slots.map((data, i) => ({ name: `slot${i}`, shape: [data.length], data })) });
  }

  setState(state: StepState): Promise<void> {
    if (state.kind !== 'fused') throw new RangeError(`the optimizer state was saved by the ${state.kind} step, this run trains with the fused step`);
    const [steps, dropoutCalls] = state.counters;
    this.trainer.setOptimizerState({ slots: state.arrays.map((a) => a.data), counters: [steps ?? 0, dropoutCalls ?? 0] });
    return Promise.resolve();
  }

  dispose(): void {
    this.trainer.dispose();
  }
}

/** tfjs layers' trainOnBatch on the compiled model (its optimizer, Dropout and BatchNorm in training mode). */
class TfjsTrainStep implements TrainStep {
  readonly description: string;

  constructor(
    private readonly model: tf.LayersModel,
    private readonly set: ImageSet,
    private readonly numClasses: number,
    reason: string,
  ) {
    this.description = `tfjs layers trainOnBatch (${reason})`;
  }

  beginEpoch(): void {}

  async step(indices: Int32Array, _lr: number): Promise<StepResult> {
    const { x, y } = toTensors(this.set, indices, this.numClasses);
    let out: number | number[];
    try {
      out = await this.model.trainOnBatch(x, y);
    } finally {
      x.dispose();
      y.dispose();
    }
    const [loss, accuracy] = (Array.isArray(out) ? out : [out, NaN]) as [number, number];
    // tfjs clips probabilities inside the loss, so diverged (Inf/NaN) weights can still report a finite
    // loss (-log 1e-7 ≈ 16.1): check the weights themselves too. One reduction per batch, cheap next to a step.
    const finite = Number.isFinite(loss) ? await weightsAreFinite(this.model) : false;
    return { loss, accuracy, finite };
  }

  endEpoch(): void {}

  async getState(): Promise<StepState> {
    // tfjs optimizers list their iteration count first, then their slot variables (created at the first step).
    const named = await this.model.optimizer.getWeights();
    const arrays = await Promise.all(named.map(async (w) => ({ name: w.name, shape: w.tensor.shape, data: (await w.tensor.data()) as Float32Array })));
    for (const [key, v] of hiddenCounters(this.model.optimizer)) arrays.push({ name: HIDDEN + key, shape: [], data: (await v.data()) as Float32Array });
    return { kind: 'tfjs', counters: [], arrays };
  }

  async setState(state: StepState): Promise<void> {
    if (state.kind !== 'tfjs') throw new RangeError(`the optimizer state was saved by the ${state.kind} step, this run trains with tfjs layers`);
    const named = state.arrays.filter((a) => !a.name.startsWith(HIDDEN)).map((a) => ({ name: a.name, tensor: tf.tensor(a.data, a.shape, 'float32') }));
    try {
      await this.model.optimizer.setWeights(named);
    } finally {
      tf.dispose(named.map((n) => n.tensor));
    }
    const hidden = hiddenCounters(this.model.optimizer);
    for (const a of state.arrays) {
      const v = a.name.startsWith(HIDDEN) ? hidden.get(a.name.slice(HIDDEN.length)) : undefined;
      if (!v) continue;
      const value = tf.scalar(a.data[0]!, 'float32');
      v.assign(value);
      value.dispose();
    }
  }

  dispose(): void {}
}

const HIDDEN = '#';

/**
 * Running products tfjs' Adam / Adamax keep outside getWeights() (β1^t, β2^t, Adamax's step): setWeights
 * recomputes them as pow(β, t + 1), which differs from the running product in the last bits, so a resumed run
 * would drift from the uninterrupted one. Saved and put back as they are.
 */
function hiddenCounters(optimizer: tf.Optimizer): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  const fields = optimizer as unknown as Record<string, unknown>;
  for (const key of ['accBeta1', 'accBeta2', 'iteration']) {
    const v = fields[key];
    if (v instanceof tf.Variable) out.set(key, v);
  }
  return out;
}

/** True when every weight of `model` is finite (a sum over all of them is NaN/Inf otherwise, or overflows only when diverging anyway). */
async function weightsAreFinite(model: tf.LayersModel): Promise<boolean> {
  const total = tf.tidy(() => tf.addN(model.trainableWeights.map((w) => tf.sum(w.read()))));
  const [v] = await total.data();
  total.dispose();
  return Number.isFinite(v);
}

/**
 * tfjs cannot compute gradients of dilated convolutions ("dilation rates greater than 1 are not yet supported in
 * gradients"); the fused native step can. Where the fused step is not used, such a layer is refused up front,
 * named, instead of failing at the first batch with tfjs' message.
 */
function checkDifferentiable(model: tf.LayersModel, spec: AnyModelSpec, fusedReason: string): void {
  const issues: SpecIssue[] = [];
  spec.config.layers.forEach((layer, i) => {
    const d = layer.config.dilation_rate;
    const rates = Array.isArray(d) ? d : [d ?? 1];
    if (!['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D'].includes(layer.class_name) || rates.every((r) => r === 1)) return;
    const name = typeof layer.config.name === 'string' ? layer.config.name : (model.layers[i]?.name ?? '');
    issues.push({
      severity: 'error',
      layerIndex: i,
      layerName: name,
      field: 'dilation_rate',
      received: JSON.stringify(d),
      message: `Layer ${i} '${name}': dilation_rate ${JSON.stringify(d)} trains only on the native backend's fused step (tfjs cannot compute the gradients of dilated convolutions), which is not used here: ${fusedReason}`,
    });
  });
  if (issues.length > 0) throw new SpecError(issues, 'The model cannot be trained here');
}

/**
 * The fastest step `model` (compiled, weights initialised) can train with here: the fused native step when the
 * backend and the model allow it, else tfjs layers (a model tfjs cannot differentiate is refused, named).
 * `maxBatch` is the largest batch the loop will pass: min(batch size, training images), so buffers follow the
 * data, not a batch size larger than the set.
 */
export function createTrainStep(
  model: tf.LayersModel,
  spec: AnyModelSpec,
  h: Hyperparameters,
  backend: BackendInfo,
  train: ImageSet,
  numClasses: number,
  maxBatch: number,
): TrainStep {
  const fused = createFusedTrainer(model, h.optimizer, h.seed, maxBatch, backend, { dtypePolicy: h.dtype_policy });
  if (fused.ok) return new FusedTrainStep(fused.trainer, train, numClasses, maxBatch);
  checkDifferentiable(model, spec, fused.reason);
  // tfjs layers compute in float32 only: a mixed_bfloat16 run says so in its log rather than failing.
  const policy = h.dtype_policy === 'mixed_bfloat16' ? '; mixed_bfloat16 needs the fused native step: float32 throughout' : '';
  return new TfjsTrainStep(model, train, numClasses, fused.reason + policy);
}
