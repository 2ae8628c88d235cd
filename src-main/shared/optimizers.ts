/**
 * One definition per optimizer, and one rule per optimizer field: what the hyperparameter form, the wire schema
 * (services/schemas.ts), the core's validation (train/hyperparameters.ts, model/optimizer.ts), the fused step
 * and the Keras/R code export all read. Before this, four validators disagreed (momentum 1.5 passed the form
 * and the wire, then failed inside the worker) and an unknown optimizer was exported as Adam without a word.
 */
import type { OptimizerName, OptimizerSpec } from './spec';

/** The optional fields an optimizer config may carry (besides learning_rate). */
export type OptimizerField = Exclude<keyof OptimizerSpec['config'], 'learning_rate'>;

/** How one numeric optimizer field is bounded (inclusive unless the matching ...Exclusive is set). */
export interface NumberRule {
  kind: 'number';
  min: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  help: string;
}
export interface BoolRule {
  kind: 'bool';
  help: string;
}
export type OptimizerFieldRule = NumberRule | BoolRule;

const unit = (help: string): NumberRule => ({ kind: 'number', min: 0, max: 1, maxExclusive: true, help });

/** Every field's rule, learning_rate included. */
export const OPTIMIZER_FIELD_RULES: Readonly<Record<OptimizerField | 'learning_rate', OptimizerFieldRule>> = {
  learning_rate: { kind: 'number', min: 0, minExclusive: true, help: 'Step size of each update.' },
  beta_1: unit('Decay of the running mean of gradients.'),
  beta_2: unit('Decay of the running mean of squared gradients.'),
  epsilon: { kind: 'number', min: 0, minExclusive: true, help: 'Added to denominators for numerical stability.' },
  // Keras only asks momentum ≥ 0, but at 1 or more the velocity never decays and training diverges.
  momentum: unit('Fraction of the previous update kept (0 = plain SGD).'),
  nesterov: { kind: 'bool', help: 'Nesterov momentum: look ahead along the velocity.' },
  rho: unit('Decay of the running mean of squared gradients.'),
  initial_accumulator_value: { kind: 'number', min: 0, help: 'Starting value of the squared-gradient sums.' },
};

/** One optimizer: its Keras names, the fields it reads with Keras 3's defaults. */
export interface OptimizerInfo {
  name: OptimizerName;
  /** The Keras 3 class (keras.optimizers.X). */
  kerasClass: string;
  /** The keras3 (R) constructor. */
  rFunction: string;
  /** Keras 3's default for every field it reads. */
  defaults: { learning_rate: number } & Partial<Record<OptimizerField, number | boolean>>;
}

/** Every optimizer; the compiler refuses a name in OPTIMIZER_NAMES without an entry. */
export const OPTIMIZERS: Readonly<Record<OptimizerName, OptimizerInfo>> = {
  adam: { name: 'adam', kerasClass: 'Adam', rFunction: 'optimizer_adam', defaults: { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 } },
  sgd: { name: 'sgd', kerasClass: 'SGD', rFunction: 'optimizer_sgd', defaults: { learning_rate: 0.01, momentum: 0, nesterov: false } },
  rmsprop: { name: 'rmsprop', kerasClass: 'RMSprop', rFunction: 'optimizer_rmsprop', defaults: { learning_rate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7 } },
  adagrad: { name: 'adagrad', kerasClass: 'Adagrad', rFunction: 'optimizer_adagrad', defaults: { learning_rate: 0.001, initial_accumulator_value: 0.1, epsilon: 1e-7 } },
  adamax: { name: 'adamax', kerasClass: 'Adamax', rFunction: 'optimizer_adamax', defaults: { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 } },
};

/** "in [0, 1)", "> 0", "≥ 0": a rule's range as the messages say it. */
export function ruleRangeText(rule: NumberRule): string {
  if (rule.max !== undefined) return `in ${rule.minExclusive ? '(' : '['}${rule.min}, ${rule.max}${rule.maxExclusive ? ')' : ']'}`;
  return rule.minExclusive ? `> ${rule.min}` : `≥ ${rule.min}`;
}

/** Why `value` is not acceptable for optimizer field `field`, or null when it is. */
export function checkOptimizerField(field: OptimizerField | 'learning_rate', value: unknown): string | null {
  const rule = OPTIMIZER_FIELD_RULES[field];
  if (rule.kind === 'bool') return typeof value === 'boolean' ? null : 'must be true or false';
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (rule.minExclusive ? value > rule.min : value >= rule.min) &&
    (rule.max === undefined || (rule.maxExclusive ? value < rule.max : value <= rule.max));
  return ok ? null : `must be a number ${ruleRangeText(rule)}`;
}

export const isOptimizerField = (key: string): key is OptimizerField | 'learning_rate' => Object.prototype.hasOwnProperty.call(OPTIMIZER_FIELD_RULES, key);
