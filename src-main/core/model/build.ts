/**
 * Builds the tfjs model for a validated spec. Validation happens first (by our own arithmetic, see
 * validate.ts), so tfjs is only ever asked to build something that is known to be well-formed; should tfjs still
 * refuse, its error is wrapped in a SpecError naming the layer — never a raw stack trace.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayerSpec, ModelSpec, SpecIssue } from '../../shared/spec';
import { SpecError } from './errors';
import { activationRegistry, initializerRegistry } from './registry';
import type { TfActivationIdentifier } from './registry';
import { SpatialDropout2D } from './spatial-dropout';
import { withDefaults } from './spec';
import { analyzeSpec } from './validate';

type Pair = [number, number];

/**
 * The seed for weight slot `slot` of layer `index`: a 31-bit mix of the run seed, so that every layer and
 * every weight of a layer draws a different but reproducible stream.
 */
export function layerSeed(seed: number, index: number, slot: number): number {
  let h = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35) ^ Math.imul(slot + 1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) & 0x7fffffff;
}

function makeLayer(layer: LayerSpec, index: number, seed: number): tf.layers.Layer {
  const c = layer.config as Record<string, unknown>;
  const base = { name: c.name as string, trainable: c.trainable !== false };
  const init = (field: string, slot: number) => initializerRegistry.get(c[field])(layerSeed(seed, index, slot));
  const act = (): TfActivationIdentifier => activationRegistry.get(c.activation).tfjs;
  const conv = {
    kernelSize: c.kernel_size as Pair,
    strides: c.strides as Pair,
    padding: c.padding as 'valid' | 'same',
    dilationRate: c.dilation_rate as Pair,
    activation: act,
    useBias: c.use_bias as boolean,
  };
  switch (layer.class_name) {
    case 'InputLayer':
      return tf.layers.inputLayer({ name: base.name, inputShape: c.shape as number[] });
    case 'Conv2D':
      return tf.layers.conv2d({
        ...base,
        ...conv,
        activation: act(),
        filters: c.filters as number,
        kernelInitializer: init('kernel_initializer', 0),
        biasInitializer: init('bias_initializer', 1),
      });
    case 'DepthwiseConv2D':
      return tf.layers.depthwiseConv2d({
        ...base,
        ...conv,
        kernelSize: conv.kernelSize,
        activation: act(),
        depthMultiplier: c.depth_multiplier as number,
        depthwiseInitializer: init('depthwise_initializer', 0),
        biasInitializer: init('bias_initializer', 1),
      });
    case 'SeparableConv2D': {
      const sep = tf.layers.separableConv2d({
        ...base,
        ...conv,
        activation: act(),
        filters: c.filters as number,
        depthMultiplier: c.depth_multiplier as number,
        depthwiseInitializer: init('depthwise_initializer', 0),
        pointwiseInitializer: init('pointwise_initializer', 2),
        biasInitializer: init('bias_initializer', 1),
      });
      // tfjs 4.22's SeparableConv.getConfig() drops depthMultiplier, so a saved model.json with
      // depth_multiplier > 1 reloads with the wrong kernel shape; put it back (its constructor does read it).
      const getConfig = sep.getConfig.bind(sep);
      sep.getConfig = () => ({ ...getConfig(), depthMultiplier: c.depth_multiplier as number });
      return sep;
    }
    case 'BatchNormalization':
      return tf.layers.batchNormalization({
        ...base,
        axis: -1,
        momentum: c.momentum as number,
        epsilon: c.epsilon as number,
        center: c.center as boolean,
        scale: c.scale as boolean,
      });
    case 'Activation':
      return tf.layers.activation({ ...base, activation: act() });
    case 'LeakyReLU':
      return tf.layers.leakyReLU({ ...base, alpha: c.negative_slope as number });
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const args = { ...base, poolSize: c.pool_size as Pair, strides: c.strides as Pair, padding: c.padding as 'valid' | 'same' };
      return layer.class_name === 'MaxPooling2D' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
    }
    case 'GlobalAveragePooling2D':
      return tf.layers.globalAveragePooling2d(base);
    case 'GlobalMaxPooling2D':
      return tf.layers.globalMaxPooling2d(base);
    case 'ZeroPadding2D':
      return tf.layers.zeroPadding2d({ ...base, padding: c.padding as [Pair, Pair] });
    case 'Dropout':
      return tf.layers.dropout({ ...base, rate: c.rate as number });
    case 'SpatialDropout2D':
      return new SpatialDropout2D({ ...base, rate: c.rate as number });
    case 'Flatten':
      return tf.layers.flatten(base);
    case 'Dense':
      return tf.layers.dense({
        ...base,
        units: c.units as number,
        activation: act(),
        useBias: c.use_bias as boolean,
        kernelInitializer: init('kernel_initializer', 0),
        biasInitializer: init('bias_initializer', 1),
      });
  }
}

/**
 * Builds the tfjs Sequential model for `spec`, with seeded initial weights: the same spec and seed give the
 * same weights, bit for bit. Throws `SpecError` listing every problem when the spec is invalid (warnings alone
 * do not stop it), and for a seed that is not a finite integer.
 */
export function buildModel(spec: ModelSpec, seed: number): tf.Sequential {
  if (!Number.isSafeInteger(seed)) {
    throw new SpecError(
      [{ severity: 'error', layerIndex: null, layerName: null, field: 'seed', received: JSON.stringify(seed) ?? String(seed), message: `seed = ${String(seed)} must be an integer` }],
      'Cannot build the model',
    );
  }
  const analysis = analyzeSpec(spec);
  if (analysis.issues.some((i) => i.severity === 'error')) throw new SpecError(analysis.issues);
  const full = withDefaults(spec);
  const model = tf.sequential({ name: full.config.name });
  full.config.layers.forEach((layer, index) => {
    try {
      model.add(makeLayer(layer, index, seed));
    } catch (err) {
      const name = String(layer.config.name);
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      const issue: SpecIssue = {
        severity: 'error',
        layerIndex: index,
        layerName: name,
        field: null,
        received: null,
        message: `Layer ${index} '${name}' (${layer.class_name}): tfjs could not build it: ${reason}`,
      };
      model.dispose();
      throw new SpecError([issue], 'Cannot build the model');
    }
  });
  return model;
}
