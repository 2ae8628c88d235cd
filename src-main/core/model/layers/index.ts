/**
 * Every layer class's core half, gathered in one record keyed by class name: the compiler refuses a class in
 * `LAYER_CLASS_NAMES` without one. Exports and the fused step find a trained tfjs layer's definition through
 * `layerCoreFor(getClassName())` — tfjs spells every class as Keras does, and our own classes register under
 * their Keras names.
 */
import type { LayerClassName } from '../../../shared/spec';
import { LAYER_CLASS_NAMES } from '../../../shared/spec';
import { activationCore } from './activation';
import { randomBrightnessCore, randomContrastCore, randomFlipCore, randomRotationCore, randomTranslationCore, randomZoomCore } from './augmentation';
import { rescalingCore } from './rescaling';
import { batchNormalizationCore } from './batch-normalization';
import { conv2dCore } from './conv2d';
import { denseCore } from './dense';
import { depthwiseConv2dCore } from './depthwise-conv2d';
import { dropoutCore, spatialDropout2dCore } from './dropout';
import { flattenCore } from './flatten';
import { globalAveragePooling2dCore, globalMaxPooling2dCore } from './global-pooling2d';
import { groupNormalizationCore } from './group-normalization';
import { inputLayerCore } from './input-layer';
import type { LayerCore } from './kit';
import { addCore, averageCore, concatenateCore, maximumCore, multiplyCore, subtractCore } from './merge';
import { leakyReLUCore } from './leaky-relu';
import { averagePooling2dCore, maxPooling2dCore } from './pooling2d';
import { reluCore } from './relu';
import { separableConv2dCore } from './separable-conv2d';
import { zeroPadding2dCore } from './zero-padding2d';

export const LAYER_CORE: { readonly [K in LayerClassName]: LayerCore<K> } = {
  InputLayer: inputLayerCore,
  Rescaling: rescalingCore,
  RandomFlip: randomFlipCore,
  RandomRotation: randomRotationCore,
  RandomTranslation: randomTranslationCore,
  RandomZoom: randomZoomCore,
  RandomContrast: randomContrastCore,
  RandomBrightness: randomBrightnessCore,
  Conv2D: conv2dCore,
  DepthwiseConv2D: depthwiseConv2dCore,
  SeparableConv2D: separableConv2dCore,
  BatchNormalization: batchNormalizationCore,
  GroupNormalization: groupNormalizationCore,
  Activation: activationCore,
  ReLU: reluCore,
  LeakyReLU: leakyReLUCore,
  MaxPooling2D: maxPooling2dCore,
  AveragePooling2D: averagePooling2dCore,
  GlobalAveragePooling2D: globalAveragePooling2dCore,
  GlobalMaxPooling2D: globalMaxPooling2dCore,
  ZeroPadding2D: zeroPadding2dCore,
  Dropout: dropoutCore,
  SpatialDropout2D: spatialDropout2dCore,
  Flatten: flattenCore,
  Dense: denseCore,
  Add: addCore,
  Concatenate: concatenateCore,
  Multiply: multiplyCore,
  Average: averageCore,
  Maximum: maximumCore,
  Subtract: subtractCore,
};

/** The core half for a tfjs layer's class name, or null for a class the workbench does not define. */
export function layerCoreFor(tfClassName: string): LayerCore<LayerClassName> | null {
  if (!(LAYER_CLASS_NAMES as readonly string[]).includes(tfClassName)) return null;
  return LAYER_CORE[tfClassName as LayerClassName] as LayerCore<LayerClassName>;
}

export type { BuildContext, FusedEncoding, LayerCore, TfConfig } from './kit';
export { FusedUnsupported, FUSED, FUSED_ACTIVATION } from './fused-codes';
