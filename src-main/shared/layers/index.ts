/**
 * Every layer class's tfjs-free definition, one module each, gathered in one record keyed by class name: the
 * compiler refuses a class in `LAYER_CLASS_NAMES` without a definition here, and a definition that lacks a part
 * of `LayerInfo`. The core half of each layer (tfjs build, exports, fused step) is `core/model/layers`.
 */
import type { FieldDescriptor, LayerClassName } from '../spec';
import { activation } from './activation';
import { randomBrightness, randomContrast, randomFlip, randomRotation, randomTranslation, randomZoom } from './augmentation';
import { rescaling } from './rescaling';
import { batchNormalization } from './batch-normalization';
import { conv2d } from './conv2d';
import { dense } from './dense';
import { depthwiseConv2d } from './depthwise-conv2d';
import { dropout, spatialDropout2d } from './dropout';
import { flatten } from './flatten';
import { globalAveragePooling2d, globalMaxPooling2d } from './global-pooling2d';
import { groupNormalization } from './group-normalization';
import { inputLayer } from './input-layer';
import type { LayerInfo } from './kit';
import { leakyReLU } from './leaky-relu';
import { add, average, concatenate, maximum, multiply, subtract } from './merge';
import { averagePooling2d, maxPooling2d } from './pooling2d';
import { relu } from './relu';
import { separableConv2d } from './separable-conv2d';
import { zeroPadding2d } from './zero-padding2d';

export const LAYER_INFO = {
  InputLayer: inputLayer,
  Rescaling: rescaling,
  RandomFlip: randomFlip,
  RandomRotation: randomRotation,
  RandomTranslation: randomTranslation,
  RandomZoom: randomZoom,
  RandomContrast: randomContrast,
  RandomBrightness: randomBrightness,
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  BatchNormalization: batchNormalization,
  GroupNormalization: groupNormalization,
  Activation: activation,
  ReLU: relu,
  LeakyReLU: leakyReLU,
  MaxPooling2D: maxPooling2d,
  AveragePooling2D: averagePooling2d,
  GlobalAveragePooling2D: globalAveragePooling2d,
  GlobalMaxPooling2D: globalMaxPooling2d,
  ZeroPadding2D: zeroPadding2d,
  Dropout: dropout,
  SpatialDropout2D: spatialDropout2d,
  Flatten: flatten,
  Dense: dense,
  Add: add,
  Concatenate: concatenate,
  Multiply: multiply,
  Average: average,
  Maximum: maximum,
  Subtract: subtract,
} satisfies { readonly [K in LayerClassName]: LayerInfo<K, unknown> };

/** The typed config of layer class K (what validation hands to the builder). */
export type LayerConfigOf<K extends LayerClassName> = (typeof LAYER_INFO)[K] extends LayerInfo<K, infer C> ? C : never;

/** The definition of one class, without its config type (for code that treats every class alike). */
export const layerInfo = (className: LayerClassName): LayerInfo<LayerClassName, unknown> => LAYER_INFO[className];

/** Fields every layer has. `name` defaults to Keras' auto name (prefix + per-model counter). */
export const COMMON_LAYER_FIELDS: readonly FieldDescriptor[] = [
  { name: 'name', kind: 'string', label: 'Name', help: 'Unique layer name; omitted = Keras-style auto name (conv2d, conv2d_1, …).', required: false, default: null },
  { name: 'trainable', kind: 'bool', label: 'Trainable', help: 'False freezes every weight of this layer (counted as non-trainable).', required: false, default: true },
];

export type { ConfigReader, Dim, InferContext, Inferred, LayerInfo, LayerRole, PaletteGroup, Shape } from './kit';
export { describeShape, INITIALIZERS, PALETTE_GROUPS, type InitializerName } from './kit';
export { isMergeClass, MERGE_CLASS_NAMES, type MergeClassName } from './merge';
