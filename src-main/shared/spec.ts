/**
 * The model spec and hyperparameters: the one vocabulary shared by core, CLI, main process and renderer.
 * Types and plain data only — no imports — so the renderer can import it without pulling in tfjs or Node.
 *
 * A spec is a Keras-style envelope: `{class_name, config}` per layer, wrapped in a Sequential envelope with a
 * format version, so that a Keras user recognises it and so that it maps 1:1 onto `tf.sequential`.
 */

/** Bumped when a spec written by an older version can no longer be read as-is. */
export const SPEC_FORMAT_VERSION = 1;

/** Layer class names, spelt as Keras spells them. */
export const LAYER_CLASS_NAMES = [
  'InputLayer',
  'Rescaling',
  'RandomFlip',
  'RandomRotation',
  'RandomTranslation',
  'RandomZoom',
  'RandomContrast',
  'RandomBrightness',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'BatchNormalization',
  'GroupNormalization',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'ZeroPadding2D',
  'Dropout',
  'SpatialDropout2D',
  'Flatten',
  'Dense',
  'Add',
  'Concatenate',
  'Multiply',
  'Average',
  'Maximum',
  'Subtract',
] as const;
export type LayerClassName = (typeof LAYER_CLASS_NAMES)[number];

/** Activation identifiers, spelt as Keras spells them. */
export const ACTIVATIONS = ['relu', 'elu', 'selu', 'gelu', 'swish', 'sigmoid', 'tanh', 'softmax', 'linear'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export const OPTIMIZER_NAMES = ['adam', 'sgd', 'rmsprop', 'adagrad', 'adamax'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** One layer: `config` holds Keras' constructor arguments (snake_case); omitted fields take Keras' defaults. */
export interface LayerSpec {
  class_name: LayerClassName;
  config: LayerConfig;
}

/**
 * Keras config fields used across the supported layers (all optional: Keras defaults apply).
 * `shape` (without the batch dimension) or `batch_shape` (with a leading null) on InputLayer.
 */
export interface LayerConfig {
  name?: string;
  trainable?: boolean;
  shape?: number[];
  batch_shape?: (number | null)[];
  filters?: number;
  kernel_size?: number | [number, number];
  strides?: number | [number, number];
  padding?: 'valid' | 'same' | number | [number, number] | [[number, number], [number, number]];
  dilation_rate?: number | [number, number];
  depth_multiplier?: number;
  activation?: ActivationName;
  use_bias?: boolean;
  units?: number;
  rate?: number;
  pool_size?: number | [number, number];
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  /** BatchNormalization/GroupNormalization: learn gamma; Rescaling: the factor. */
  scale?: boolean | number;
  /** LeakyReLU slope (Keras 3 name; Keras 2 called it `alpha`). */
  negative_slope?: number;
  alpha?: number;
  kernel_initializer?: string;
  bias_initializer?: string;
  [extra: string]: unknown;
}

/** A whole model: a Keras Sequential envelope plus our format version. */
export interface ModelSpec {
  format_version: number;
  class_name: 'Sequential';
  config: {
    name: string;
    layers: LayerSpec[];
  };
}

/**
 * A reference to a tensor in a functional model, as tf.keras 2 writes it: `[layer_name, node_index, tensor_index]`
 * (a layer called once has node 0; a layer with one output has tensor 0). Keras 3's `__keras_tensor__` /
 * `keras_history` form is read by the importer and converted to this.
 */
export type TensorRef = [layer: string, node: number, tensor: number];
/** One inbound reference inside `inbound_nodes`, with tf.keras 2's trailing call-kwargs object. */
export type InboundRef = [layer: string, node: number, tensor: number, kwargs: Record<string, unknown>];

/**
 * A layer of a functional model: Keras' per-layer entry (`name` at the top, as Keras writes it; kept equal to
 * `config.name`) with its calls. `inbound_nodes` is tf.keras 2's list form: one entry per call of the layer (this
 * workbench supports one call), each the list of tensors that call takes — one for ordinary layers, two or more for a
 * merge (Add, Concatenate, …), none for an InputLayer.
 */
export interface FunctionalLayerSpec extends LayerSpec {
  name: string;
  inbound_nodes: InboundRef[][];
}

/**
 * A Keras Functional model (one input, one output for now): a graph of layers wired by name. Layers are listed in
 * an order where every layer follows its inputs (as Keras writes them); the validator refuses cycles, dangling
 * layers, unknown names and names used twice, naming the layer.
 */
export interface FunctionalModelSpec {
  format_version: number;
  class_name: 'Functional';
  config: {
    name: string;
    layers: FunctionalLayerSpec[];
    input_layers: TensorRef[];
    output_layers: TensorRef[];
  };
}

/** Any model the workbench reads, builds, trains and exports. */
export type AnyModelSpec = ModelSpec | FunctionalModelSpec;

export function isFunctionalSpec(spec: AnyModelSpec): spec is FunctionalModelSpec {
  return spec.class_name === 'Functional';
}

/** Layer `name`'s output (its first call, first tensor) as `inbound_nodes` refers to it. */
export function inboundRef(name: string): InboundRef {
  return [name, 0, 0, {}];
}

/** A functional layer entry (`config.name` kept equal to `name`) taking the outputs of `inputs`, none for an InputLayer. */
export function functionalLayer(name: string, className: LayerClassName, inputs: readonly string[], config: LayerConfig = {}): FunctionalLayerSpec {
  return { name, class_name: className, config: { ...config, name }, inbound_nodes: inputs.length === 0 ? [] : [inputs.map(inboundRef)] };
}

/** The names of the layers whose outputs a functional layer takes, in order (its first and only call). */
export function inboundLayerNames(layer: FunctionalLayerSpec): string[] {
  return (layer.inbound_nodes[0] ?? []).map((ref) => ref[0]);
}

export interface OptimizerSpec {
  class_name: OptimizerName;
  /** Keras field names: learning_rate, beta_1, beta_2, epsilon, momentum, nesterov, rho, initial_accumulator_value. */
  config: {
    learning_rate: number;
    beta_1?: number;
    beta_2?: number;
    epsilon?: number;
    momentum?: number;
    nesterov?: boolean;
    rho?: number;
    initial_accumulator_value?: number;
  };
}

/** The metrics EarlyStopping and ReduceLROnPlateau can watch. */
export const MONITOR_NAMES = ['loss', 'accuracy', 'val_loss', 'val_accuracy'] as const;
export type MonitorName = (typeof MONITOR_NAMES)[number];
/** Which way a monitored metric improves (`auto`: Keras decides from the metric's name). */
export const MONITOR_MODES = ['min', 'max', 'auto'] as const;
export type MonitorMode = (typeof MONITOR_MODES)[number];

/** Keras `EarlyStopping` arguments. */
export interface EarlyStoppingSpec {
  monitor: MonitorName;
  mode: MonitorMode;
  patience: number;
  min_delta: number;
  restore_best_weights: boolean;
}

/** Keras `ReduceLROnPlateau` arguments. */
export interface ReduceLrSpec {
  monitor: MonitorName;
  mode: MonitorMode;
  factor: number;
  patience: number;
  min_lr: number;
  min_delta: number;
  cooldown: number;
}

/**
 * Stopping a diverged run (Keras' TerminateOnNaN, extended): a NaN or infinite loss or weight stops it at once;
 * `patience` epochs in a row whose loss is stuck near its ceiling or whose accuracy is at chance stop it too.
 * Either way the run ends 'diverged' with the best epoch's weights saved.
 */
export interface DivergenceSpec {
  /** Epochs in a row at the loss ceiling or at chance before the run is stopped. */
  patience: number;
  /** An epoch whose training loss is at least this share of the loss' ceiling (-ln 1e-7 ≈ 16.12, where the
   *  probabilities are clipped) is stuck; in (0, 1]. */
  loss_ceiling_fraction: number;
  /** An epoch whose accuracy (validation if there is a validation set) is at most chance (the largest class'
   *  share) plus this is at chance; in [0, 1). */
  chance_margin: number;
}

/** What the divergence guard uses when the hyperparameters do not say (`divergence` omitted). */
export const DEFAULT_DIVERGENCE: DivergenceSpec = { patience: 3, loss_ceiling_fraction: 0.5, chance_margin: 0.02 };

/** Everything about a training run that is not the architecture. Defaults are the lesson's. */
export interface Hyperparameters {
  optimizer: OptimizerSpec;
  loss: 'categorical_crossentropy';
  batch_size: number;
  epochs: number;
  /** Fraction of the training set held out for validation (the lesson: 0.1). */
  validation_split: number;
  /** Seeds the split, the initial weights and the per-epoch shuffles. */
  seed: number;
  early_stopping: EarlyStoppingSpec | null;
  reduce_lr_on_plateau: ReduceLrSpec | null;
  /** The divergence guard; omitted: `DEFAULT_DIVERGENCE`; null: only NaN / Inf stop a run (as before). */
  divergence?: DivergenceSpec | null;
  /** Keras' dtype policy; omitted: 'float32'. See `DTYPE_POLICIES`. */
  dtype_policy?: DtypePolicy;
}

/**
 * Keras' dtype policies (`keras.mixed_precision.set_global_policy`). 'mixed_bfloat16': the fused native step runs
 * its convolutions (those with 4 or more input channels) on bfloat16 copies of their inputs and gradients,
 * accumulating in float32; weights, optimizer slots and every other layer stay float32. Validation infers under the
 * policy too (as Keras' fit validates); the final test evaluation, predict, explain and exports stay float32.
 * It needs a CPU with bfloat16 instructions (AVX512_BF16 or AMX) and the native backend; elsewhere the run
 * computes in float32 and its log says why.
 */
export const DTYPE_POLICIES = ['float32', 'mixed_bfloat16'] as const;
export type DtypePolicy = (typeof DTYPE_POLICIES)[number];
export const isDtypePolicy = (v: unknown): v is DtypePolicy => (DTYPE_POLICIES as readonly unknown[]).includes(v);

/** The lesson's hyperparameters: Adam 1e-3, batch 128, 50 epochs, 10% validation, seed 123, both callbacks. */
export const LESSON_HYPERPARAMETERS: Hyperparameters = {
  optimizer: { class_name: 'adam', config: { learning_rate: 1e-3 } },
  loss: 'categorical_crossentropy',
  batch_size: 128,
  epochs: 50,
  validation_split: 0.1,
  seed: 123,
  early_stopping: {
    monitor: 'val_accuracy',
    mode: 'max',
    patience: 5,
    min_delta: 0,
    restore_best_weights: true,
  },
  reduce_lr_on_plateau: {
    monitor: 'val_loss',
    mode: 'min',
    factor: 0.5,
    patience: 2,
    min_lr: 1e-5,
    min_delta: 1e-4,
    cooldown: 0,
  },
};

/** One row of the Keras-style summary. `outputShape` has `null` for the batch dimension. */
export interface SummaryRow {
  index: number;
  name: string;
  className: LayerClassName;
  outputShape: (number | null)[];
  params: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** Functional models: the layers whose outputs this one takes, in order (Keras' "Connected to"); absent for
   *  Sequential models, where every layer takes the one before it. */
  connectedTo?: string[];
}

/** One problem found in a spec; `layerIndex` is null for model-level problems. */
export interface SpecIssue {
  severity: 'error' | 'warning';
  layerIndex: number | null;
  layerName: string | null;
  field: string | null;
  /** The offending value as received, JSON-encoded (so it survives IPC). */
  received: string | null;
  message: string;
  /**
   * True when the issue only says the model is not finished yet (e.g. it does not end in one value per
   * class): it still blocks training, but the editor shows it as a next step, not as an error in a layer.
   */
  incomplete?: boolean;
}

/** Result of validating + summarising a spec. When `ok` is false `rows` covers the layers before the first error. */
export interface SpecSummary {
  ok: boolean;
  issues: SpecIssue[];
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** What training it needs in memory (the services add it; absent from a bare summary). */
  memory?: MemoryEstimate;
}

/**
 * Memory to train a model, estimated from its summary before anything runs: `fixedBytes` (weights, their
 * gradients and the optimizer's slots, Adam's two unless said otherwise) plus `perImageBytes` per image of a
 * batch (every layer's output, its gradient and what the backward pass keeps). `budgetBytes`: what training may
 * use here (a share of physical memory unless configured).
 */
export interface MemoryEstimate {
  fixedBytes: number;
  perImageBytes: number;
  budgetBytes: number;
}

/** The largest batch a run may ask for: far above what fits a CNN on these images in memory, far below 65,536. */
export const MAX_BATCH_SIZE = 8_192;

/** Layers a spec may hold: far beyond any sensible CNN, small enough to refuse a flood (the CLI and the services). */
export const MAX_LAYERS = 1_000;

/** How a layer config field is edited and checked (drives the UI form and the validator alike). */
export type FieldKind =
  | 'int'
  | 'float'
  | 'enum'
  | 'bool'
  /** A number or a `[height, width]` pair (kernel_size, strides, pool_size, dilation_rate). */
  | 'pair'
  /** A list of positive integers without the batch dimension (InputLayer shape). */
  | 'shape'
  /** ZeroPadding2D: n, `[rows, cols]` or `[[top, bottom], [left, right]]`. */
  | 'padding2d'
  | 'string';

/** A value a layer config field can take (JSON). */
export type FieldValue = number | string | boolean | null | number[] | number[][];

/** One editable config field of a layer class, with its Keras default and allowed values. */
export interface FieldDescriptor {
  /** Keras config key (snake_case). */
  name: string;
  kind: FieldKind;
  /** Short human label for the form. */
  label: string;
  /** One sentence for a tooltip. */
  help: string;
  /** True when Keras has no default (the user must give it). */
  required: boolean;
  /** Keras default when omitted; null means Keras' None (explained in help). Ignored when required. */
  default: FieldValue;
  /** A sensible value to prefill for a required field. */
  suggested?: FieldValue;
  /** Allowed values (enum). */
  values?: readonly string[];
  /** Numeric range: inclusive unless the matching ...Exclusive flag is set. Applies to every element of pairs. */
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}
