/**
 * The hyperparameter form's model: what the user typed (strings, so a half-typed "1e-" is kept as typed),
 * parsed and checked into `Hyperparameters` — or into per-field reasons why not.
 *
 * Rules follow what Keras itself accepts (e.g. ReduceLROnPlateau raises on factor ≥ 1), plus one that Keras
 * only discovers at the end of the first epoch: a `val_*` monitor with no validation split.
 */
import type { DtypePolicy, Hyperparameters, MonitorMode, MonitorName, OptimizerName } from '$shared/spec';
import { OPTIMIZER_NAMES } from '$shared/spec';
import { OPTIMIZER_FIELD_RULES, OPTIMIZERS, type OptimizerField } from '$shared/optimizers';

/** Everything the form edits, flat, as typed. Optional optimizer fields left empty take Keras' defaults. */
export interface HyperparameterDraft {
  optimizer: OptimizerName;
  learning_rate: string;
  beta_1: string;
  beta_2: string;
  epsilon: string;
  momentum: string;
  nesterov: boolean;
  rho: string;
  initial_accumulator_value: string;
  batch_size: string;
  epochs: string;
  validation_split: string;
  seed: string;
  /** Keras' dtype policy: 'float32', or 'mixed_bfloat16' (convolutions in bfloat16 where the CPU has it). */
  dtype_policy: DtypePolicy;
  es_enabled: boolean;
  es_monitor: MonitorName;
  es_mode: MonitorMode;
  es_patience: string;
  es_min_delta: string;
  es_restore: boolean;
  rlr_enabled: boolean;
  rlr_monitor: MonitorName;
  rlr_mode: MonitorMode;
  rlr_factor: string;
  rlr_patience: string;
  rlr_min_lr: string;
  rlr_min_delta: string;
  rlr_cooldown: string;
  /** Quick runs: use only the first N images; empty = all. */
  limit_train: string;
  limit_test: string;
}

export type DraftField = keyof HyperparameterDraft;

/** What a valid draft becomes. */
export interface ParsedDraft {
  hyperparameters: Hyperparameters;
  limitTrain: number | null;
  limitTest: number | null;
}

/** Result of checking a draft: a value when every field is valid, and a reason per invalid field. */
export interface DraftCheck {
  value: ParsedDraft | null;
  errors: Partial<Record<DraftField, string>>;
  /** Values that run but are probably not meant (1e9 epochs, learning rate 5): said, not refused. */
  warnings: Partial<Record<DraftField, string>>;
}

/** What the form knows beyond itself: the chosen dataset's size. */
export interface DraftContext {
  trainImages?: number | null;
  testImages?: number | null;
}

/**
 * Past these a run cannot finish or cannot fit: a batch's activations grow with its size (the lesson's CNN
 * needs ~90 KB per image in its first convolution alone, so 16,384 images is ~1.5 GB), and a million
 * epochs of even 100 images is years on a CPU.
 */
export const MAX_BATCH_SIZE = 16_384;
export const MAX_EPOCHS = 100_000;

/** Which optional fields each optimizer takes, with Keras' defaults (shown as placeholders): from shared/optimizers.ts. */
export const OPTIMIZER_FIELDS: Record<OptimizerName, Partial<Record<OptimizerField, number | boolean>>> = Object.fromEntries(
  OPTIMIZER_NAMES.map((name) => {
    const { learning_rate: _lr, ...fields } = OPTIMIZERS[name].defaults;
    return [name, fields];
  }),
) as Record<OptimizerName, Partial<Record<OptimizerField, number | boolean>>>;

/** The form's rule for an optimizer field: its one rule in shared/optimizers.ts. */
function optimizerRule(field: OptimizerField | 'learning_rate'): Rule {
  const r = OPTIMIZER_FIELD_RULES[field];
  if (r.kind !== 'number') throw new Error(`${field} is not a number field`);
  return { min: r.min, max: r.max, minExclusive: r.minExclusive, maxExclusive: r.maxExclusive, optional: field !== 'learning_rate' };
}

/** Human labels, used both on the form and inside messages so they match what the user sees. */
export const FIELD_LABELS: Record<DraftField, string> = {
  optimizer: 'optimizer',
  learning_rate: 'learning rate',
  beta_1: 'beta_1',
  beta_2: 'beta_2',
  epsilon: 'epsilon',
  momentum: 'momentum',
  nesterov: 'nesterov',
  rho: 'rho',
  initial_accumulator_value: 'initial accumulator value',
  batch_size: 'batch size',
  epochs: 'epochs',
  validation_split: 'validation split',
  seed: 'seed',
  dtype_policy: 'precision (dtype policy)',
  es_enabled: 'early stopping',
  es_monitor: 'monitor',
  es_mode: 'mode',
  es_patience: 'patience',
  es_min_delta: 'min delta',
  es_restore: 'restore best weights',
  rlr_enabled: 'reduce LR on plateau',
  rlr_monitor: 'monitor',
  rlr_mode: 'mode',
  rlr_factor: 'factor',
  rlr_patience: 'patience',
  rlr_min_lr: 'min LR',
  rlr_min_delta: 'min delta',
  rlr_cooldown: 'cooldown',
  limit_train: 'train image limit',
  limit_test: 'test image limit',
};

const text = (n: number | undefined): string => (n === undefined ? '' : String(n));

/** The form's starting text for some hyperparameters (e.g. the lesson's). Disabled callbacks keep the lesson's values to re-enable. */
export function toDraft(h: Hyperparameters, limits: { limitTrain?: number | null; limitTest?: number | null } = {}): HyperparameterDraft {
  const o = h.optimizer.config;
  const es = h.early_stopping;
  const rlr = h.reduce_lr_on_plateau;
  return {
    optimizer: h.optimizer.class_name,
    learning_rate: text(o.learning_rate),
    beta_1: text(o.beta_1),
    beta_2: text(o.beta_2),
    epsilon: text(o.epsilon),
    momentum: text(o.momentum),
    nesterov: o.nesterov ?? false,
    rho: text(o.rho),
    initial_accumulator_value: text(o.initial_accumulator_value),
    batch_size: text(h.batch_size),
    epochs: text(h.epochs),
    validation_split: text(h.validation_split),
    seed: text(h.seed),
    dtype_policy: h.dtype_policy ?? 'float32',
    es_enabled: es !== null,
    es_monitor: es?.monitor ?? 'val_accuracy',
    es_mode: es?.mode ?? 'max',
    es_patience: text(es?.patience ?? 5),
    es_min_delta: text(es?.min_delta ?? 0),
    es_restore: es?.restore_best_weights ?? true,
    rlr_enabled: rlr !== null,
    rlr_monitor: rlr?.monitor ?? 'val_loss',
    rlr_mode: rlr?.mode ?? 'min',
    rlr_factor: text(rlr?.factor ?? 0.5),
    rlr_patience: text(rlr?.patience ?? 2),
    rlr_min_lr: text(rlr?.min_lr ?? 1e-5),
    rlr_min_delta: text(rlr?.min_delta ?? 1e-4),
    rlr_cooldown: text(rlr?.cooldown ?? 0),
    limit_train: text(limits.limitTrain ?? undefined),
    limit_test: text(limits.limitTest ?? undefined),
  };
}

interface Rule {
  /** Whole numbers only. */
  integer?: boolean;
  min?: number;
  minExclusive?: boolean;
  max?: number;
  maxExclusive?: boolean;
  /** Empty text means "not set" (Keras default / no limit) instead of an error. */
  optional?: boolean;
}

/** Describe a rule as the end of a sentence: "must be a whole number ≥ 1", "must be in (0, 1)". */
function describe(rule: Rule): string {
  const kind = rule.integer ? 'a whole number' : 'a number';
  if (rule.min !== undefined && rule.max !== undefined) {
    return `must be ${kind} in ${rule.minExclusive ? '(' : '['}${rule.min}, ${rule.max}${rule.maxExclusive ? ')' : ']'}`;
  }
  if (rule.min !== undefined) return `must be ${kind} ${rule.minExclusive ? '>' : '≥'} ${rule.min}`;
  return `must be ${kind}`;
}

/** Parse one field's text; returns the number, `undefined` for an allowed empty field, or an error message. */
export function parseNumber(label: string, raw: string, rule: Rule): number | undefined | { error: string } {
  const t = raw.trim();
  if (t === '') return rule.optional ? undefined : { error: `${label} is required (${describe(rule).replace(/^must be /, '')})` };
  const n = Number(t);
  const bad =
    !Number.isFinite(n) ||
    (rule.integer && !Number.isInteger(n)) ||
    (rule.min !== undefined && (rule.minExclusive ? n <= rule.min : n < rule.min)) ||
    (rule.max !== undefined && (rule.maxExclusive ? n >= rule.max : n > rule.max));
  return bad ? { error: `${label} ${describe(rule)}, received "${t}"` } : n;
}

const RULES: Partial<Record<DraftField, Rule>> = {
  learning_rate: optimizerRule('learning_rate'),
  beta_1: optimizerRule('beta_1'),
  beta_2: optimizerRule('beta_2'),
  epsilon: optimizerRule('epsilon'),
  momentum: optimizerRule('momentum'),
  rho: optimizerRule('rho'),
  initial_accumulator_value: optimizerRule('initial_accumulator_value'),
  batch_size: { integer: true, min: 1, max: MAX_BATCH_SIZE },
  epochs: { integer: true, min: 1, max: MAX_EPOCHS },
  validation_split: { min: 0, max: 1, maxExclusive: true },
  // The core seeds a 32-bit generator and refuses larger seeds: say so here, not after pressing Train.
  seed: { integer: true, min: 0, max: 2 ** 32 - 1 },
  es_patience: { integer: true, min: 0 },
  es_min_delta: { min: 0 },
  rlr_factor: { min: 0, max: 1, minExclusive: true, maxExclusive: true },
  rlr_patience: { integer: true, min: 0 },
  rlr_min_lr: { min: 0 },
  rlr_min_delta: { min: 0 },
  rlr_cooldown: { integer: true, min: 0 },
  limit_train: { integer: true, min: 1, optional: true },
  limit_test: { integer: true, min: 1, optional: true },
};

/** Check a whole draft: only fields that apply (the chosen optimizer's, enabled callbacks') are checked. */
export function checkDraft(d: HyperparameterDraft, context: DraftContext = {}): DraftCheck {
  const errors: Partial<Record<DraftField, string>> = {};
  const warnings: Partial<Record<DraftField, string>> = {};
  const num = (field: DraftField): number | undefined => {
    const rule = RULES[field];
    const raw = d[field];
    if (!rule || typeof raw !== 'string') return undefined;
    const r = parseNumber(FIELD_LABELS[field], raw, rule);
    if (typeof r === 'object') {
      errors[field] = r.error;
      return undefined;
    }
    return r;
  };

  const applicable = OPTIMIZER_FIELDS[d.optimizer];
  const optimizerConfig: Hyperparameters['optimizer']['config'] = { learning_rate: num('learning_rate') ?? NaN };
  for (const key of ['beta_1', 'beta_2', 'epsilon', 'momentum', 'rho', 'initial_accumulator_value'] as const) {
    if (!(key in applicable)) continue;
    const v = num(key);
    if (v !== undefined) optimizerConfig[key] = v;
  }
  if ('nesterov' in applicable && d.nesterov) optimizerConfig.nesterov = true;

  const validationSplit = num('validation_split');
  const needsValidation = (enabled: boolean, monitor: MonitorName, field: DraftField): void => {
    if (enabled && monitor.startsWith('val_') && validationSplit === 0) {
      errors[field] = `monitor ${monitor} needs a validation split > 0 (validation split is 0)`;
    }
  };
  needsValidation(d.es_enabled, d.es_monitor, 'es_monitor');
  needsValidation(d.rlr_enabled, d.rlr_monitor, 'rlr_monitor');

  const hyperparameters: Hyperparameters = {
    optimizer: { class_name: d.optimizer, config: optimizerConfig },
    loss: 'categorical_crossentropy',
    batch_size: num('batch_size') ?? NaN,
    epochs: num('epochs') ?? NaN,
    validation_split: validationSplit ?? NaN,
    seed: num('seed') ?? NaN,
    // float32 is the default: left out so a float32 run's hyperparameters read as before.
    ...(d.dtype_policy === 'float32' ? {} : { dtype_policy: d.dtype_policy }),
    early_stopping: d.es_enabled
      ? {
          monitor: d.es_monitor,
          mode: d.es_mode,
          patience: num('es_patience') ?? NaN,
          min_delta: num('es_min_delta') ?? NaN,
          restore_best_weights: d.es_restore,
        }
      : null,
    reduce_lr_on_plateau: d.rlr_enabled
      ? {
          monitor: d.rlr_monitor,
          mode: d.rlr_mode,
          factor: num('rlr_factor') ?? NaN,
          patience: num('rlr_patience') ?? NaN,
          min_lr: num('rlr_min_lr') ?? NaN,
          min_delta: num('rlr_min_delta') ?? NaN,
          cooldown: num('rlr_cooldown') ?? NaN,
        }
      : null,
  };
  const limitTrain = num('limit_train') ?? null;
  const limitTest = num('limit_test') ?? null;
  warn(d, hyperparameters, { limitTrain, limitTest }, context, errors, warnings);
  if (Object.keys(errors).length > 0) return { value: null, errors, warnings };
  return { value: { hyperparameters, limitTrain, limitTest }, errors, warnings };
}

const count = (n: number): string => n.toLocaleString('en-US');

/** Warnings for values that run but are probably not meant; each says why. Only fields without an error. */
function warn(
  d: HyperparameterDraft,
  h: Hyperparameters,
  limits: { limitTrain: number | null; limitTest: number | null },
  context: DraftContext,
  errors: Partial<Record<DraftField, string>>,
  warnings: Partial<Record<DraftField, string>>,
): void {
  const say = (field: DraftField, message: string): void => {
    if (!errors[field]) warnings[field] = message;
  };
  const lr = h.optimizer.config.learning_rate;
  const adaptive = d.optimizer !== 'sgd';
  if (lr > (adaptive ? 0.1 : 1)) {
    say('learning_rate', `${lr} is very high for ${d.optimizer} (its default is ${adaptive ? '0.001' : '0.01'}): the loss will likely diverge to NaN`);
  }
  if (h.epochs > 1000) say('epochs', `${count(h.epochs)} epochs is far beyond a lesson's 10–100: see the time estimate next to Train`);
  const trainImages = context.trainImages ?? null;
  const available = trainImages === null ? null : Math.min(trainImages, limits.limitTrain ?? Infinity);
  const fitImages = available === null ? null : Math.floor(available * (1 - (Number.isFinite(h.validation_split) ? h.validation_split : 0)));
  if (fitImages !== null && h.batch_size > fitImages) {
    say('batch_size', `batch size ${count(h.batch_size)} is more than the ${count(fitImages)} training images: each epoch is one partial batch`);
  } else if (h.batch_size > 1024) {
    say('batch_size', `batch size ${count(h.batch_size)} needs much memory and usually generalises worse (Keras' default is 32)`);
  }
  if (trainImages !== null && limits.limitTrain !== null && limits.limitTrain > trainImages) {
    say('limit_train', `the dataset has only ${count(trainImages)} training images: all of them are used`);
  }
  const testImages = context.testImages ?? null;
  if (testImages !== null && limits.limitTest !== null && limits.limitTest > testImages) {
    say('limit_test', `the dataset has only ${count(testImages)} test images: all of them are used`);
  }
}
