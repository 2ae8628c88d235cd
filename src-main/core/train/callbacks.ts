/**
 * Keras-style training callbacks, structured like tfjs-layers' (a CallbackList of async hooks), with the two
 * the lesson needs implemented the way Keras 3 implements them:
 *   keras/src/callbacks/early_stopping.py and keras/src/callbacks/reduce_lr_on_plateau.py.
 * tfjs-layers' EarlyStopping cannot restore the best weights and it has no ReduceLROnPlateau at all.
 *
 * Epoch numbers passed to the hooks are 0-based, as in Keras; events and user-facing text are 1-based.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpochEvent } from '../../shared/contract';
import type { EarlyStoppingSpec, MonitorMode, MonitorName, ReduceLrSpec } from '../../shared/spec';
import { finiteOrString, fromJsonNumber, type JsonValue } from '../runs/checkpoint';

/** Metrics available at an epoch end (Keras' `logs`). Validation metrics are absent without a validation set. */
export type EpochLogs = Partial<Record<MonitorName | 'learning_rate', number>>;

/** Per-batch logs: running means over the epoch so far, like Keras' progress bar. */
export interface BatchLogs {
  loss: number;
  accuracy: number;
  size: number;
  /** This batch's own loss, and whether every weight is still finite after its step (absent: not checked). */
  batchLoss?: number;
  weightsFinite?: boolean;
}

/** What a callback carries across a checkpoint: its counters (JSON) and the weights it holds, if any. */
export interface CallbackState {
  json: JsonValue;
  weights: tf.Tensor[] | null;
}

/** What a callback may read or change in the running training (Keras: `self.model`). */
export interface TrainerHandle {
  /** Set to true to end training after the current epoch (Keras: `model.stop_training`). */
  stopTraining: boolean;
  /** A copy of every weight (trainable and not, e.g. BatchNorm moving statistics), as Keras' get_weights(). */
  getWeights(): tf.Tensor[];
  /** Overwrites every weight; the caller keeps ownership of `weights`. */
  setWeights(weights: tf.Tensor[]): void;
  getLearningRate(): number;
  setLearningRate(lr: number): void;
  /** Records something that happened in this epoch (drawn on the curves, written to history). */
  addEvent(event: EpochEvent): void;
  /** One line for the log (the CLI prints it, the UI shows it). */
  log(line: string): void;
}

/** Base class: every hook is optional and may be async. */
export abstract class Callback {
  protected trainer!: TrainerHandle;

  /** Called once by the CallbackList before training. */
  setTrainer(trainer: TrainerHandle): void {
    this.trainer = trainer;
  }

  async onTrainBegin(): Promise<void> {}
  async onTrainEnd(): Promise<void> {}
  async onEpochBegin(_epoch: number): Promise<void> {}
  async onEpochEnd(_epoch: number, _logs: EpochLogs): Promise<void> {}
  async onBatchBegin(_batch: number): Promise<void> {}
  async onBatchEnd(_batch: number, _logs: BatchLogs): Promise<void> {}
  /** Frees tensors the callback holds (called once after training, also after a failure). */
  dispose(): void {}
  /** Its state for a checkpoint (BackupAndRestore); the caller disposes the weights. Stateless: nothing. */
  getState(): CallbackState {
    return { json: null, weights: null };
  }
  /** Puts a state from `getState` back, after `onTrainBegin` of a resumed run; it takes ownership of `weights`. */
  setState(_state: CallbackState): void {}
}

/** Calls each callback's hook in order, awaiting each (Keras calls them in list order too). */
export class CallbackList {
  constructor(readonly callbacks: Callback[]) {}

  setTrainer(trainer: TrainerHandle): void {
    for (const c of this.callbacks) c.setTrainer(trainer);
  }
  async onTrainBegin(): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin();
  }
  async onTrainEnd(): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd();
  }
  async onEpochBegin(epoch: number): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin(epoch);
  }
  async onEpochEnd(epoch: number, logs: EpochLogs): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd(epoch, logs);
  }
  async onBatchBegin(batch: number): Promise<void> {
    for (const c of this.callbacks) await c.onBatchBegin(batch);
  }
  async onBatchEnd(batch: number, logs: BatchLogs): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd(batch, logs);
  }
  dispose(): void {
    for (const c of this.callbacks) c.dispose();
  }
  /** Every callback's state, in list order (the caller disposes the weights). */
  getState(): CallbackState[] {
    return this.callbacks.map((c) => c.getState());
  }
  /** Puts states from `getState` back, in list order; the callbacks take ownership of the weights. */
  setState(states: CallbackState[]): void {
    if (states.length !== this.callbacks.length) throw new RangeError(`${states.length} callback states for ${this.callbacks.length} callbacks`);
    this.callbacks.forEach((c, i) => c.setState(states[i]!));
  }
}

/**
 * Keras' 'auto' mode: losses are minimised, accuracies maximised. (Keras 3 EarlyStopping asks the metric's
 * direction; ReduceLROnPlateau checks for "acc" in the name. For our four monitors both give this answer.)
 */
export function resolveMode(monitor: string, mode: MonitorMode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return monitor.includes('acc') ? 'max' : 'min';
}

/** Keras EarlyStopping arguments; `baseline` and `start_from_epoch` are Keras extras our spec does not expose. */
export interface EarlyStoppingOptions extends EarlyStoppingSpec {
  baseline?: number | null;
  start_from_epoch?: number;
}

/**
 * Stops training when the monitored metric has stopped improving; optionally restores the best weights.
 *
 * Keras semantics kept exactly:
 * - `min_delta` is taken as |min_delta| and negated in 'min' mode, so an improvement is
 *   `current - min_delta` beating `best` in the mode's direction.
 * - `wait` is incremented BEFORE the improvement test and reset to 0 on an improvement (only if the baseline
 *   is also beaten); training stops when `wait >= patience` on an epoch > 0 without improvement.
 * - With restore_best_weights the weights of the first monitored epoch are kept even if it does not beat
 *   the baseline, and at the end of training — stopped early OR run to the last epoch — the best weights
 *   are put back (Keras 3 restores in on_train_end whenever it holds best weights).
 */
/**
 * The weights of a callback's best epoch so far (EarlyStopping's restore_best_weights, the divergence guard):
 * taken at an improving epoch, put back at the end, carried through a checkpoint.
 */
export class BestWeights {
  private weights: tf.Tensor[] | null = null;

  get held(): boolean {
    return this.weights !== null;
  }

  /** Replaces the held weights with the model's current ones. */
  take(trainer: TrainerHandle): void {
    this.dispose();
    this.weights = trainer.getWeights();
  }

  /** Puts the held weights into the model; false when none are held. */
  restore(trainer: TrainerHandle): boolean {
    if (this.weights === null) return false;
    trainer.setWeights(this.weights);
    return true;
  }

  /** A copy for a checkpoint (the caller owns it). */
  copy(): tf.Tensor[] | null {
    return this.weights ? this.weights.map((w) => w.clone()) : null;
  }

  /** Holds `weights` from a checkpoint instead (taking ownership). */
  load(weights: tf.Tensor[] | null): void {
    this.dispose();
    this.weights = weights;
  }

  dispose(): void {
    if (this.weights) tf.dispose(this.weights);
    this.weights = null;
  }
}

export class EarlyStopping extends Callback {
  readonly monitor: MonitorName;
  readonly patience: number;
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  private readonly mode: 'min' | 'max';
  private readonly minDelta: number;
  wait = 0;
  /** 0-based epoch at which training was stopped; 0 = not stopped (as Keras). */
  stoppedEpoch = 0;
  /** 0-based epoch of the best monitored value. */
  bestEpoch = 0;
  best: number;
  /** True once at least one epoch had the monitored value. */
  sawMonitor = false;
  /** True when onTrainEnd put the best weights back. */
  restored = false;
  private readonly bestWeights = new BestWeights();

  constructor(options: EarlyStoppingOptions) {
    super();
    this.monitor = options.monitor;
    this.patience = options.patience;
    this.baseline = options.baseline ?? null;
    this.restoreBestWeights = options.restore_best_weights;
    this.startFromEpoch = options.start_from_epoch ?? 0;
    this.mode = resolveMode(options.monitor, options.mode);
    this.minDelta = this.mode === 'min' ? -Math.abs(options.min_delta) : Math.abs(options.min_delta);
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  private isImprovement(value: number, reference: number): boolean {
    return this.mode === 'min' ? value - this.minDelta < reference : value - this.minDelta > reference;
  }

  /** The best monitored value seen, or null before any epoch had it. */
  get bestValue(): number | null {
    return this.sawMonitor ? this.best : null;
  }

  override async onTrainBegin(): Promise<void> {
    // Keras resets these so an instance can be reused (but keeps `best`, as Keras does).
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestWeights.dispose();
    this.bestEpoch = 0;
    this.restored = false;
  }

  override async onEpochEnd(epoch: number, logs: EpochLogs): Promise<void> {
    const current = logs[this.monitor];
    if (current === undefined || epoch < this.startFromEpoch) {
      if (current === undefined) this.trainer.log(`EarlyStopping: monitored metric '${this.monitor}' is not available`);
      return;
    }
    this.sawMonitor = true;
    if (this.restoreBestWeights && !this.bestWeights.held) {
      // If best weights were never set, the current weights are the best (Keras).
      this.bestWeights.take(this.trainer);
      this.bestEpoch = epoch;
    }
    this.wait += 1;
    if (this.isImprovement(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights.take(this.trainer);
      this.trainer.addEvent({ kind: 'best', monitor: this.monitor, value: current });
      if (this.baseline === null || this.isImprovement(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.trainer.stopTraining = true;
      this.trainer.addEvent({
        kind: 'early_stop',
        bestEpoch: this.bestEpoch + 1,
        restored: this.restoreBestWeights && this.bestWeights.held,
      });
      this.trainer.log(`Epoch ${epoch + 1}: early stopping (no improvement in ${this.monitor} for ${this.wait} epochs)`);
    }
  }

  override async onTrainEnd(): Promise<void> {
    if (this.restoreBestWeights && this.bestWeights.held) {
      this.trainer.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.restored = this.bestWeights.restore(this.trainer);
    }
    this.bestWeights.dispose();
  }

  override dispose(): void {
    this.bestWeights.dispose();
  }

  override getState(): CallbackState {
    return {
      json: { wait: this.wait, stoppedEpoch: this.stoppedEpoch, bestEpoch: this.bestEpoch, best: finiteOrString(this.best), sawMonitor: this.sawMonitor },
      weights: this.bestWeights.copy(),
    };
  }

  override setState(state: CallbackState): void {
    const j = (state.json ?? {}) as Record<string, JsonValue>;
    this.wait = fromJsonNumber(j.wait);
    this.stoppedEpoch = fromJsonNumber(j.stoppedEpoch);
    this.bestEpoch = fromJsonNumber(j.bestEpoch);
    this.best = fromJsonNumber(j.best);
    this.sawMonitor = j.sawMonitor === true;
    this.bestWeights.load(state.weights);
  }
}

/**
 * Multiplies the learning rate by `factor` when the monitored metric has not improved for `patience` epochs.
 *
 * Keras semantics kept exactly: improvement is `current < best - min_delta` ('min') or `current > best +
 * min_delta` ('max'), with min_delta used as given (not abs); during cooldown each epoch decrements the
 * counter and resets `wait`; a reduction happens only while `lr > float32(min_lr)`, to `max(lr·factor,
 * min_lr)`, and starts the cooldown. The optimizer's learning rate is changed in place, so Adam keeps its
 * moment estimates (as Keras does).
 */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: MonitorName;
  readonly factor: number;
  readonly patience: number;
  readonly minLr: number;
  readonly minDelta: number;
  readonly cooldown: number;
  private readonly mode: 'min' | 'max';
  wait = 0;
  cooldownCounter = 0;
  best: number;

  constructor(options: ReduceLrSpec) {
    super();
    if (!(options.factor < 1)) {
      throw new RangeError(`ReduceLROnPlateau does not support a factor >= 1.0. Received factor=${options.factor}`);
    }
    this.monitor = options.monitor;
    this.factor = options.factor;
    this.patience = options.patience;
    this.minLr = options.min_lr;
    this.minDelta = options.min_delta;
    this.cooldown = options.cooldown;
    this.mode = resolveMode(options.monitor, options.mode);
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  private reset(): void {
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.cooldownCounter = 0;
    this.wait = 0;
  }

  private improves(current: number): boolean {
    return this.mode === 'min' ? current < this.best - this.minDelta : current > this.best + this.minDelta;
  }

  inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  override async onTrainBegin(): Promise<void> {
    this.reset();
  }

  override getState(): CallbackState {
    return { json: { wait: this.wait, cooldownCounter: this.cooldownCounter, best: finiteOrString(this.best) }, weights: null };
  }

  override setState(state: CallbackState): void {
    const j = (state.json ?? {}) as Record<string, JsonValue>;
    this.wait = fromJsonNumber(j.wait);
    this.cooldownCounter = fromJsonNumber(j.cooldownCounter);
    this.best = fromJsonNumber(j.best);
  }

  override async onEpochEnd(epoch: number, logs: EpochLogs): Promise<void> {
    logs.learning_rate = this.trainer.getLearningRate();
    const current = logs[this.monitor];
    if (current === undefined) {
      this.trainer.log(`ReduceLROnPlateau: monitored metric '${this.monitor}' is not available`);
      return;
    }
    if (this.inCooldown()) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (this.improves(current)) {
      this.best = current;
      this.wait = 0;
    } else if (!this.inCooldown()) {
      this.wait += 1;
      if (this.wait >= this.patience) {
        // Keras' learning rate lives in a float32 variable and is compared with float32(min_lr): compare the
        // same way, or a rate already at min_lr would be "reduced" from 1e-5 to 1e-5 forever.
        const oldLr = this.trainer.getLearningRate();
        if (Math.fround(oldLr) > Math.fround(this.minLr)) {
          const newLr = Math.max(oldLr * this.factor, this.minLr);
          this.trainer.setLearningRate(newLr);
          this.trainer.addEvent({ kind: 'lr_reduced', from: oldLr, to: newLr });
          this.trainer.log(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${newLr}.`);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/** The callbacks a Hyperparameters object asks for, in the lesson's order (EarlyStopping, then ReduceLROnPlateau). */
export function callbacksFor(h: {
  early_stopping: EarlyStoppingSpec | null;
  reduce_lr_on_plateau: ReduceLrSpec | null;
}): { list: Callback[]; earlyStopping: EarlyStopping | null } {
  const earlyStopping = h.early_stopping ? new EarlyStopping(h.early_stopping) : null;
  const list: Callback[] = [];
  if (earlyStopping) list.push(earlyStopping);
  if (h.reduce_lr_on_plateau) list.push(new ReduceLROnPlateau(h.reduce_lr_on_plateau));
  return { list, earlyStopping };
}
