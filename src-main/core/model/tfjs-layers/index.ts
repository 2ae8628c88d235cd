/**
 * Keras layers tfjs-layers lacks (or has only in part), as tfjs layer classes registered under their Keras class
 * names, so that a saved model.json loads back with tf.loadLayersModel once this module is imported.
 */
export { type GroupNormalizationArgs, GroupNormalization, groupNormalizationLayer } from './group-normalization';
export { type ReLUArgs, ReLU, kerasRelu, reluLayer } from './relu';
export { Subtract } from './subtract';
