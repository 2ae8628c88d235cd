/**
 * Validation of `Hyperparameters` (zod): every problem at once, each naming the field path and the value
 * received, e.g. `hyperparameters.batch_size: must be an integer >= 1 (received 0)`.
 */
import { z } from 'zod';
import { checkOptimizerField, OPTIMIZER_FIELD_RULES, type OptimizerField } from '../../shared/optimizers';
import { DTYPE_POLICIES, MAX_BATCH_SIZE, MONITOR_MODES, MONITOR_NAMES, OPTIMIZER_NAMES, type Hyperparameters } from '../../shared/spec';

/** Thrown by `validateHyperparameters`; `issues` lists each problem with its field path and received value. */
export class HyperparameterError extends Error {
  override name = 'HyperparameterError';
  constructor(readonly issues: { field: string; received: string; message: string }[]) {
    super(
      issues.length === 1
        ? `Invalid hyperparameters: ${issues[0]!.message}`
        : `Invalid hyperparameters (${issues.length} problems):\n${issues.map((i) => `  - ${i.message}`).join('\n')}`,
    );
  }
}

const positiveInt = z.number().int('must be an integer').min(1, 'must be an integer >= 1');
const nonNegativeInt = z.number().int('must be an integer').min(0, 'must be an integer >= 0');
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const oneOf = (names: readonly string[]) => `must be one of ${names.map((n) => `'${n}'`).join(', ')}`;
const monitor = z.enum(MONITOR_NAMES, oneOf(MONITOR_NAMES));
const mode = z.enum(MONITOR_MODES, oneOf(MONITOR_MODES));

/** A zod check for one optimizer field, from its one rule in shared/optimizers.ts. */
const optimizerField = (field: OptimizerField | 'learning_rate') =>
  OPTIMIZER_FIELD_RULES[field].kind === 'bool'
    ? z.boolean('must be true or false')
    : z.number('must be a number').superRefine((v, ctx) => {
        const why = checkOptimizerField(field, v);
        if (why) ctx.addIssue({ code: 'custom', message: why });
      });

/**
 * An optimizer config: every field checked by its shared rule. The services' wire schema uses this same schema,
 * so the form, the wire and the core accept exactly the same values.
 */
export const optimizerConfigSchema = z.strictObject({
  learning_rate: optimizerField('learning_rate'),
  beta_1: optimizerField('beta_1').optional(),
  beta_2: optimizerField('beta_2').optional(),
  epsilon: optimizerField('epsilon').optional(),
  momentum: optimizerField('momentum').optional(),
  nesterov: optimizerField('nesterov').optional(),
  rho: optimizerField('rho').optional(),
  initial_accumulator_value: optimizerField('initial_accumulator_value').optional(),
} satisfies Record<OptimizerField | 'learning_rate', z.ZodType>);

const schema = z.strictObject({
  optimizer: z.strictObject({
    class_name: z.enum(OPTIMIZER_NAMES, oneOf(OPTIMIZER_NAMES)),
    config: optimizerConfigSchema,
  }),
  loss: z.literal('categorical_crossentropy', "must be 'categorical_crossentropy'"),
  batch_size: positiveInt.max(MAX_BATCH_SIZE, `must be at most ${MAX_BATCH_SIZE}`),
  epochs: positiveInt,
  validation_split: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)'),
  seed: z.number().int('must be an integer').min(0, 'must be an integer >= 0').max(2 ** 32 - 1, 'must be < 2^32'),
  early_stopping: z
    .strictObject({
      monitor,
      mode,
      patience: nonNegativeInt,
      min_delta: finite,
      restore_best_weights: z.boolean(),
    })
    .nullable(),
  reduce_lr_on_plateau: z
    .strictObject({
      monitor,
      mode,
      factor: z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1): Keras does not support a factor >= 1'),
      patience: nonNegativeInt,
      min_lr: z.number().min(0, 'must be >= 0'),
      min_delta: finite,
      cooldown: nonNegativeInt,
    })
    .nullable(),
  divergence: z
    .strictObject({
      patience: positiveInt,
      loss_ceiling_fraction: z.number().gt(0, 'must be in (0, 1]').max(1, 'must be in (0, 1]'),
      chance_margin: z.number().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)'),
    })
    .nullable()
    .optional(),
  dtype_policy: z.enum(DTYPE_POLICIES, oneOf(DTYPE_POLICIES)).optional(),
});

function valueAt(input: unknown, pathParts: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of pathParts) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/**
 * Checks that `h` is a complete, sensible `Hyperparameters` (types, ranges, known names, no unknown fields)
 * and returns it typed. Throws `HyperparameterError` listing every problem with its field and value.
 */
export function validateHyperparameters(h: unknown): Hyperparameters {
  const result = schema.safeParse(h);
  if (result.success) return result.data as Hyperparameters;
  const issues = result.error.issues.flatMap((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
    return keys.map((p) => {
      const field = ['hyperparameters', ...p.map(String)].join('.');
      const received = show(valueAt(h, p));
      const what =
        issue.code === 'unrecognized_keys'
          ? 'is not a known field'
          : issue.code === 'invalid_type' && valueAt(h, p) === undefined
            ? 'is required'
            : issue.message;
      return { field, received, message: `${field}: ${what} (received ${received})` };
    });
  });
  throw new HyperparameterError(issues);
}
