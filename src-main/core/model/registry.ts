/**
 * Name → implementation registries, one per family, modelled on Keras' `activations.get` and tfjs'
 * `serialization.ts`: `get(name)` either returns the entry or throws an error quoting the value received and
 * listing the known names, so a typo in a spec never turns into a raw tfjs stack trace.
 */
import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';
import type { ActivationName, LayerClassName, OptimizerName, OptimizerSpec } from '../../shared/spec';
import { ACTIVATIONS, LAYER_CLASS_NAMES, OPTIMIZER_NAMES } from '../../shared/spec';
import { INITIALIZERS, LAYER_FIELDS } from '../../shared/layer-fields';
import type { InitializerName } from '../../shared/layer-fields';
import type { FieldDescriptor } from '../../shared/spec';

// tfjs is loaded on the first *use* of an entry, not on import: spec checks (the editor's live summary, the
// check before a run starts) import this registry in the app's main process, and loading tfjs there stalls
// its event loop for 0.5–0.9 s. Same module instance as `import '@tensorflow/tfjs'` elsewhere (Node's CJS cache).
const require = createRequire(import.meta.url);
let loaded: typeof TF | null = null;
const tfjs = (): typeof TF => (loaded ??= require('@tensorflow/tfjs') as typeof TF);

/** Python-style quoting as Keras prints it: 'relu6' for strings, JSON for anything else. */
function quote(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v));
}

/** A read-only name → entry map whose `get` explains what was wrong. */
export class Registry<K extends string, V> {
  /**
   * @param family what the names are ("activation", "layer class", …), used in error messages.
   * @param entries the registered names and their entries, in listing order.
   */
  constructor(
    readonly family: string,
    private readonly entries: ReadonlyMap<K, V>,
  ) {}

  /** The entry for `name`; throws `Unknown <family>: '<name>'. Known: a, b, …` for anything else. */
  get(name: unknown): V {
    if (typeof name === 'string' && this.entries.has(name as K)) return this.entries.get(name as K) as V;
    throw new Error(`Unknown ${this.family}: ${quote(name)}. Known: ${this.list().join(', ')}`);
  }

  /** True when `name` is registered. */
  has(name: unknown): name is K {
    return typeof name === 'string' && this.entries.has(name as K);
  }

  /** Every registered name, in a stable order. */
  list(): K[] {
    return [...this.entries.keys()];
  }
}

// ---------------------------------------------------------------- activations

/** tfjs' identifier for an activation (tfjs spells a few differently from Keras). */
export type TfActivationIdentifier = 'elu' | 'linear' | 'relu' | 'selu' | 'sigmoid' | 'softmax' | 'tanh' | 'swish' | 'gelu';

/** What the workbench knows about one activation. */
export interface ActivationEntry {
  name: ActivationName;
  /**
   * The tfjs activation that computes the same function. tfjs' `gelu` is the exact erf form, which is Keras'
   * default (`approximate=False`); tfjs' `swish` is x·sigmoid(x), Keras' `swish`/`silu`.
   */
  tfjs: TfActivationIdentifier;
}

/** Keras activation names → tfjs activations. */
export const activationRegistry = new Registry<ActivationName, ActivationEntry>(
  'activation',
  new Map(ACTIVATIONS.map((name) => [name, { name, tfjs: name }])),
);

// ---------------------------------------------------------------- initializers

/** tfjs' Initializer class (not exported by name from @tensorflow/tfjs). */
export type TfInitializer = ReturnType<typeof TF.initializers.zeros>;

/** Keras initializer names → seeded tfjs initializers, with Keras 3's default parameters. */
export const initializerRegistry = new Registry<InitializerName, (seed: number) => TfInitializer>(
  'initializer',
  new Map<InitializerName, (seed: number) => TfInitializer>(
    INITIALIZERS.map((name): [InitializerName, (seed: number) => TfInitializer] => {
      switch (name) {
        case 'glorot_uniform':
          return [name, (seed) => tfjs().initializers.glorotUniform({ seed })];
        case 'glorot_normal':
          return [name, (seed) => tfjs().initializers.glorotNormal({ seed })];
        case 'he_uniform':
          return [name, (seed) => tfjs().initializers.heUniform({ seed })];
        case 'he_normal':
          return [name, (seed) => tfjs().initializers.heNormal({ seed })];
        case 'lecun_uniform':
          return [name, (seed) => tfjs().initializers.leCunUniform({ seed })];
        case 'lecun_normal':
          return [name, (seed) => tfjs().initializers.leCunNormal({ seed })];
        case 'random_normal':
          return [name, (seed) => tfjs().initializers.randomNormal({ mean: 0, stddev: 0.05, seed })];
        case 'random_uniform':
          return [name, (seed) => tfjs().initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed })];
        case 'truncated_normal':
          return [name, (seed) => tfjs().initializers.truncatedNormal({ mean: 0, stddev: 0.05, seed })];
        case 'zeros':
          return [name, () => tfjs().initializers.zeros()];
        case 'ones':
          return [name, () => tfjs().initializers.ones()];
      }
    }),
  ),
);

// ---------------------------------------------------------------- layers

/** What the workbench knows about one layer class (construction lives in build.ts, shape inference in validate.ts). */
export interface LayerEntry {
  className: LayerClassName;
  fields: readonly FieldDescriptor[];
}

/** Keras layer class names → their fields (auto-naming lives in shared/layer-names). */
export const layerRegistry = new Registry<LayerClassName, LayerEntry>(
  'layer class',
  new Map(
    LAYER_CLASS_NAMES.map((className) => [
      className,
      { className, fields: LAYER_FIELDS[className] },
    ]),
  ),
);

// ---------------------------------------------------------------- optimizers

/** One optimizer: Keras' defaults and a factory for the tfjs optimizer. */
export interface OptimizerEntry {
  name: OptimizerName;
  /** Keras 3 defaults for every config field this optimizer reads. */
  defaults: Required<Pick<OptimizerSpec['config'], 'learning_rate'>> & Partial<OptimizerSpec['config']>;
  create(config: OptimizerSpec['config']): TF.Optimizer;
}

const num = (v: number | undefined, dflt: number): number => (v === undefined ? dflt : v);

/**
 * Keras optimizer names → tfjs optimizers. tfjs' momentum/nesterov update (accum = m·accum + g; w -= lr·accum)
 * equals Keras' (v = m·v − lr·g; w += v) while the learning rate is constant. tfjs' Adagrad has no epsilon
 * argument (it uses the backend epsilon), so Keras' epsilon is accepted but cannot change it.
 */
export const optimizerRegistry = new Registry<OptimizerName, OptimizerEntry>(
  'optimizer',
  new Map<OptimizerName, OptimizerEntry>(
    OPTIMIZER_NAMES.map((name): [OptimizerName, OptimizerEntry] => {
      switch (name) {
        case 'adam':
          return [
            name,
            {
              name,
              defaults: { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
              create: (c) => tfjs().train.adam(num(c.learning_rate, 0.001), num(c.beta_1, 0.9), num(c.beta_2, 0.999), num(c.epsilon, 1e-7)),
            },
          ];
        case 'sgd':
          return [
            name,
            {
              name,
              defaults: { learning_rate: 0.01, momentum: 0, nesterov: false },
              create: (c) => {
                const lr = num(c.learning_rate, 0.01);
                const momentum = num(c.momentum, 0);
                return momentum === 0 && !c.nesterov ? tfjs().train.sgd(lr) : tfjs().train.momentum(lr, momentum, c.nesterov === true);
              },
            },
          ];
        case 'rmsprop':
          return [
            name,
            {
              name,
              defaults: { learning_rate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7 },
              create: (c) => tfjs().train.rmsprop(num(c.learning_rate, 0.001), num(c.rho, 0.9), num(c.momentum, 0), num(c.epsilon, 1e-7), false),
            },
          ];
        case 'adagrad':
          return [
            name,
            {
              name,
              defaults: { learning_rate: 0.001, initial_accumulator_value: 0.1, epsilon: 1e-7 },
              create: (c) => tfjs().train.adagrad(num(c.learning_rate, 0.001), num(c.initial_accumulator_value, 0.1)),
            },
          ];
        case 'adamax':
          return [
            name,
            {
              name,
              defaults: { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
              create: (c) => tfjs().train.adamax(num(c.learning_rate, 0.001), num(c.beta_1, 0.9), num(c.beta_2, 0.999), num(c.epsilon, 1e-7), 0),
            },
          ];
      }
    }),
  ),
);
