import type * as tf from '@tensorflow/tfjs';
import type { OptimizerSpec, SpecIssue } from '../../shared/spec';
import { checkOptimizerField, isOptimizerField } from '../../shared/optimizers';
import { SpecError } from './errors';
import { optimizerRegistry } from './registry';


/**
 * The tfjs optimizer for `opt`, with Keras 3's default for every omitted field (adam: lr 1e-3, β1 0.9,
 * β2 0.999, ε 1e-7; sgd: lr 0.01, momentum 0, nesterov false; rmsprop: lr 1e-3, ρ 0.9, ε 1e-7;
 * adagrad: lr 1e-3, initial accumulator 0.1; adamax: lr 1e-3, β1 0.9, β2 0.999, ε 1e-7). Throws `SpecError`
 * naming the field and the value for an unknown optimizer or an out-of-range value.
 */
export function createOptimizer(opt: OptimizerSpec): tf.Optimizer {
  const issue = (field: string, received: unknown, message: string): SpecIssue => ({
    severity: 'error',
    layerIndex: null,
    layerName: null,
    field,
    received: JSON.stringify(received) ?? String(received),
    message: `optimizer ${field} = ${JSON.stringify(received) ?? String(received)}: ${message}`,
  });
  let entry;
  try {
    entry = optimizerRegistry.get(opt?.class_name);
  } catch (err) {
    throw new SpecError([issue('class_name', opt?.class_name, (err as Error).message)], 'Invalid optimizer');
  }
  const config = (opt.config ?? {}) as Record<string, unknown>;
  const issues: SpecIssue[] = [];
  for (const [key, v] of Object.entries(config)) {
    if (v === undefined) continue;
    const why = isOptimizerField(key) ? checkOptimizerField(key, v) : `unknown field for the ${entry.name} optimizer`;
    if (why) issues.push(issue(key, v, why));
  }
  if (issues.length > 0) throw new SpecError(issues, 'Invalid optimizer');
  return entry.create(opt.config ?? { learning_rate: entry.defaults.learning_rate });
}

/** tfjs optimizers keep the rate in a `learningRate` field; SGD and Momentum also cache it as a tensor. */
interface WithLearningRate {
  learningRate: number;
  setLearningRate?: (lr: number) => void;
}

/** The optimizer's current learning rate (for progress events and ReduceLROnPlateau). */
export function getLearningRate(optimizer: tf.Optimizer): number {
  return (optimizer as unknown as WithLearningRate).learningRate;
}

/**
 * Changes the learning rate of a live tfjs optimizer in place, keeping its moment estimates — what Keras'
 * ReduceLROnPlateau does by assigning `optimizer.learning_rate`. tfjs has no public setter on most optimizers:
 * Adam, Adamax, RMSProp and Adagrad read the `learningRate` field at every step, while SGD/Momentum cache it in
 * a tensor that only `setLearningRate` refreshes.
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new RangeError(`learning rate = ${learningRate} must be a number > 0`);
  }
  const o = optimizer as unknown as WithLearningRate;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(learningRate);
  else o.learningRate = learningRate;
}
