/**
 * The config fields of every supported layer class, with Keras' defaults and allowed values, as plain data.
 * One table serves two readers: the renderer's layer form (no tfjs, no Node) and the core validator, which
 * checks each field's type and range against the same descriptors — so the form and the checks cannot drift.
 *
 * `name` and `trainable` are common to every layer and listed once in `COMMON_LAYER_FIELDS`.
 */
import type { FieldDescriptor, LayerClassName } from './spec';
import { ACTIVATIONS } from './spec';

/** Keras initializer identifiers we can build (seeded) in tfjs. */
export const INITIALIZERS = [
  'glorot_uniform',
  'glorot_normal',
  'he_uniform',
  'he_normal',
  'lecun_uniform',
  'lecun_normal',
  'random_normal',
  'random_uniform',
  'truncated_normal',
  'zeros',
  'ones',
] as const;
export type InitializerName = (typeof INITIALIZERS)[number];

/** Keras' default layer-name prefix per class (Keras 3 `auto_name`: snake_case of the class name). */
export const DEFAULT_LAYER_NAME_PREFIX: Record<LayerClassName, string> = {
  InputLayer: 'input_layer',
  Conv2D: 'conv2d',
  DepthwiseConv2D: 'depthwise_conv2d',
  SeparableConv2D: 'separable_conv2d',
  BatchNormalization: 'batch_normalization',
  Activation: 'activation',
  LeakyReLU: 'leaky_re_lu',
  MaxPooling2D: 'max_pooling2d',
  AveragePooling2D: 'average_pooling2d',
  GlobalAveragePooling2D: 'global_average_pooling2d',
  GlobalMaxPooling2D: 'global_max_pooling2d',
  ZeroPadding2D: 'zero_padding2d',
  Dropout: 'dropout',
  SpatialDropout2D: 'spatial_dropout2d',
  Flatten: 'flatten',
  Dense: 'dense',
};

/** Fields every layer has. `name` defaults to Keras' auto name (prefix + per-model counter). */
export const COMMON_LAYER_FIELDS: readonly FieldDescriptor[] = [
  { name: 'name', kind: 'string', label: 'Name', help: 'Unique layer name; omitted = Keras-style auto name (conv2d, conv2d_1, …).', required: false, default: null },
  { name: 'trainable', kind: 'bool', label: 'Trainable', help: 'False freezes every weight of this layer (counted as non-trainable).', required: false, default: true },
];

const activationField = (dflt: string, required = false): FieldDescriptor => ({
  name: 'activation',
  kind: 'enum',
  label: 'Activation',
  help: "Applied to the layer's output; 'linear' = none (Keras' default None).",
  required,
  default: required ? null : dflt,
  ...(required ? { suggested: 'relu' } : {}),
  values: ACTIVATIONS,
});
const useBias: FieldDescriptor = { name: 'use_bias', kind: 'bool', label: 'Use bias', help: 'Adds a learned bias per output channel.', required: false, default: true };
const padding: FieldDescriptor = {
  name: 'padding',
  kind: 'enum',
  label: 'Padding',
  help: "'valid' = no padding (the output shrinks); 'same' = pad so that output = ceil(input / stride).",
  required: false,
  default: 'valid',
  values: ['valid', 'same'],
};
const kernelSize: FieldDescriptor = { name: 'kernel_size', kind: 'pair', label: 'Kernel size', help: 'Height and width of the convolution window (n or [h, w]).', required: true, default: null, suggested: 3, min: 1 };
const strides: FieldDescriptor = { name: 'strides', kind: 'pair', label: 'Strides', help: 'Step of the window (n or [h, w]).', required: false, default: 1, min: 1 };
const dilation: FieldDescriptor = { name: 'dilation_rate', kind: 'pair', label: 'Dilation rate', help: 'Spacing between kernel taps; > 1 requires strides 1.', required: false, default: 1, min: 1 };
const depthMultiplier: FieldDescriptor = { name: 'depth_multiplier', kind: 'int', label: 'Depth multiplier', help: 'Depthwise output channels per input channel.', required: false, default: 1, min: 1 };
const init = (name: string, label: string, dflt: string): FieldDescriptor => ({
  name,
  kind: 'enum',
  label,
  help: 'Initial values of the weights (seeded from the run seed).',
  required: false,
  default: dflt,
  values: INITIALIZERS,
});
const poolFields: FieldDescriptor[] = [
  { name: 'pool_size', kind: 'pair', label: 'Pool size', help: 'Height and width of the pooling window (n or [h, w]).', required: false, default: 2, min: 1 },
  { name: 'strides', kind: 'pair', label: 'Strides', help: 'Step of the window; Keras None = the pool size.', required: false, default: null, min: 1 },
  padding,
];
const rate = (help: string): FieldDescriptor => ({
  name: 'rate',
  kind: 'float',
  label: 'Rate',
  help,
  required: true,
  default: null,
  suggested: 0.25,
  min: 0,
  max: 1,
  maxExclusive: true,
});
const keepdims: FieldDescriptor = { name: 'keepdims', kind: 'bool', label: 'Keep dims', help: 'Only false is supported (tfjs global pooling has no keepdims).', required: false, default: false };

/** Config fields per layer class (beyond `COMMON_LAYER_FIELDS`), in form order. */
export const LAYER_FIELDS: Record<LayerClassName, readonly FieldDescriptor[]> = {
  InputLayer: [
    { name: 'shape', kind: 'shape', label: 'Shape', help: 'Input shape without the batch dimension: [height, width, channels].', required: true, default: null, suggested: [28, 28, 1], min: 1 },
  ],
  Conv2D: [
    { name: 'filters', kind: 'int', label: 'Filters', help: 'Number of output channels.', required: true, default: null, suggested: 32, min: 1 },
    kernelSize,
    strides,
    padding,
    dilation,
    activationField('linear'),
    useBias,
    init('kernel_initializer', 'Kernel initializer', 'glorot_uniform'),
    init('bias_initializer', 'Bias initializer', 'zeros'),
  ],
  DepthwiseConv2D: [
    kernelSize,
    strides,
    padding,
    depthMultiplier,
    dilation,
    activationField('linear'),
    useBias,
    init('depthwise_initializer', 'Depthwise initializer', 'glorot_uniform'),
    init('bias_initializer', 'Bias initializer', 'zeros'),
  ],
  SeparableConv2D: [
    { name: 'filters', kind: 'int', label: 'Filters', help: 'Number of output channels (after the pointwise step).', required: true, default: null, suggested: 32, min: 1 },
    kernelSize,
    strides,
    padding,
    depthMultiplier,
    dilation,
    activationField('linear'),
    useBias,
    init('depthwise_initializer', 'Depthwise initializer', 'glorot_uniform'),
    init('pointwise_initializer', 'Pointwise initializer', 'glorot_uniform'),
    init('bias_initializer', 'Bias initializer', 'zeros'),
  ],
  BatchNormalization: [
    { name: 'momentum', kind: 'float', label: 'Momentum', help: 'Weight of the old value in the moving mean/variance.', required: false, default: 0.99, min: 0, max: 1 },
    { name: 'epsilon', kind: 'float', label: 'Epsilon', help: 'Added to the variance to avoid dividing by zero.', required: false, default: 1e-3, min: 0, minExclusive: true },
    { name: 'center', kind: 'bool', label: 'Center', help: 'Learn an offset (beta).', required: false, default: true },
    { name: 'scale', kind: 'bool', label: 'Scale', help: 'Learn a scale (gamma).', required: false, default: true },
  ],
  Activation: [activationField('linear', true)],
  LeakyReLU: [
    { name: 'negative_slope', kind: 'float', label: 'Negative slope', help: "Slope for x < 0 (Keras 3 default 0.3; Keras 2 called it 'alpha').", required: false, default: 0.3, min: 0 },
  ],
  MaxPooling2D: poolFields,
  AveragePooling2D: poolFields,
  GlobalAveragePooling2D: [keepdims],
  GlobalMaxPooling2D: [keepdims],
  ZeroPadding2D: [
    { name: 'padding', kind: 'padding2d', label: 'Padding', help: 'Zeros added: n, [rows, cols] or [[top, bottom], [left, right]].', required: false, default: 1, min: 0 },
  ],
  Dropout: [rate('Fraction of inputs set to zero while training, in [0, 1).')],
  SpatialDropout2D: [rate('Fraction of whole feature maps (channels) set to zero while training, in [0, 1).')],
  Flatten: [],
  Dense: [
    { name: 'units', kind: 'int', label: 'Units', help: 'Number of outputs.', required: true, default: null, suggested: 64, min: 1 },
    activationField('linear'),
    useBias,
    init('kernel_initializer', 'Kernel initializer', 'glorot_uniform'),
    init('bias_initializer', 'Bias initializer', 'zeros'),
  ],
};

/**
 * Fields Keras writes into a config that we accept without using (no effect here), so that a spec exported by
 * Keras does not drown in "unknown field" warnings. Values are still checked where it matters (data_format).
 */
export const ACCEPTED_KERAS_FIELDS: readonly string[] = ['dtype', 'data_format', 'batch_shape', 'batch_input_shape', 'sparse', 'ragged', 'seed', 'noise_shape', 'alpha', 'axis'];
