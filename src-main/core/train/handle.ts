/**
 * The `TrainerHandle` over a real tfjs model and optimizer: what callbacks use to read/restore weights and to
 * change the learning rate in place (through the model core's get/setLearningRate, which know that SGD caches
 * -lr in a tensor while Adam & co. read it on every step).
 */
import * as tf from '@tensorflow/tfjs';
import type { EpochEvent } from '../../shared/contract';
import { getLearningRate, setLearningRate } from '../model';
import type { TrainerHandle } from './callbacks';

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
