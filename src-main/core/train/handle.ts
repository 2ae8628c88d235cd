/**
 * The `TrainerHandle` over a real tfjs model and optimizer: what callbacks use to read/restore weights and to
 * change the learning rate in place.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpochEvent } from '../../shared/contract';
import type { TrainerHandle } from './callbacks';

interface LearningRateHolder {
  learningRate: number;
  setLearningRate?: (lr: number) => void;
}

/** The optimizer's current learning rate (every tfjs optimizer keeps it in `learningRate`). */
export function getLearningRate(optimizer: tf.Optimizer): number {
  const lr = (optimizer as unknown as LearningRateHolder).learningRate;
  if (typeof lr !== 'number') throw new Error(`optimizer ${optimizer.getClassName()} has no numeric learningRate`);
  return lr;
}

/**
 * Changes the learning rate in place, keeping the optimizer's state (Adam's moments, momentum).
 * SGD/Momentum cache `-lr` in a scalar tensor, so they must go through their `setLearningRate`;
 * Adam, Adamax, RMSProp and Adagrad read `this.learningRate` on every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const holder = optimizer as unknown as LearningRateHolder;
  if (typeof holder.setLearningRate === 'function') holder.setLearningRate(lr);
  else holder.learningRate = lr;
}

/** A TrainerHandle over `model` (its compiled optimizer) that collects the epoch's events and log lines. */
export class ModelTrainerHandle implements TrainerHandle {
  stopTraining = false;
  events: EpochEvent[] = [];

  constructor(
    readonly model: tf.LayersModel,
    private readonly onLog: (line: string) => void = () => {},
  ) {}

  getWeights(): tf.Tensor[] {
    // getWeights() returns the variables' own tensors; clone so later training steps cannot change the copy.
    return this.model.getWeights().map((w) => w.clone());
  }

  setWeights(weights: tf.Tensor[]): void {
    this.model.setWeights(weights);
  }

  getLearningRate(): number {
    return getLearningRate(this.model.optimizer);
  }

  setLearningRate(lr: number): void {
    setLearningRate(this.model.optimizer, lr);
  }

  addEvent(event: EpochEvent): void {
    this.events.push(event);
  }

  /** Returns and clears the events recorded since the last call. */
  takeEvents(): EpochEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  log(line: string): void {
    this.onLog(line);
  }
}
