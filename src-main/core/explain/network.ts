/**
 * Walking a trained Sequential model layer by layer, so that any intermediate output can be read or
 * differentiated: the explain methods apply the layers themselves instead of building sub-models.
 * Every layer runs in inference mode (Dropout off, BatchNorm on its moving statistics).
 */
import * as tf from '@tensorflow/tfjs';
import { LAYER_CLASS_NAMES, type LayerClassName } from '../../shared/spec';
import { LAYER_INFO, type LayerRole } from '../../shared/layers/index';

/** A tfjs layer's role from its layer definition; a class the workbench does not define computes maps. */
function roleOf(layer: tf.layers.Layer): LayerRole {
  const name = layer.getClassName();
  return (LAYER_CLASS_NAMES as readonly string[]).includes(name) ? LAYER_INFO[name as LayerClassName].role : 'maps';
}

/** A model's computing layers in order (the InputLayer left out). */
export function layersOf(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer');
}

/** The model's input shape without the batch axis: [height, width, channels]. */
export function inputShape(model: tf.LayersModel): [number, number, number] {
  const shape = model.inputs[0]!.shape;
  if (shape.length !== 4) throw new Error(`the model takes inputs of shape [${shape.join(', ')}]; explaining needs images [batch, height, width, channels]`);
  return [shape[1]!, shape[2]!, shape[3]!];
}

/** Applies `layers[from..to)` to `x`, in inference mode. */
export function applyRange(layers: tf.layers.Layer[], x: tf.Tensor, from: number, to: number): tf.Tensor {
  let y = x;
  for (let i = from; i < to; i++) y = layers[i]!.apply(y, { training: false }) as tf.Tensor;
  return y;
}

/** True for a layer whose feature maps are worth showing (convolutions, pooling, activations, normalisation, Dense). */
export function isShown(layer: tf.layers.Layer): boolean {
  return roleOf(layer) !== 'hidden';
}

function activationOf(layer: tf.layers.Layer): string | null {
  const cfg = layer.getConfig() as { activation?: unknown };
  return typeof cfg.activation === 'string' ? cfg.activation : null;
}

/**
 * The class scores before the softmax, as Grad-CAM and saliency maps use them (differentiating the
 * probability instead lets the other classes' scores leak in). `headFrom` is the first layer to apply to `x`.
 * A final Dense with a softmax gives its pre-activation; a final Activation('softmax') is skipped; any other
 * final layer's output is used as it is.
 */
export function classScores(layers: tf.layers.Layer[], x: tf.Tensor, headFrom: number): tf.Tensor2D {
  const last = layers[layers.length - 1]!;
  const lastClass = last.getClassName();
  if (lastClass === 'Dense' && activationOf(last) === 'softmax') {
    const h = applyRange(layers, x, headFrom, layers.length - 1) as tf.Tensor2D;
    const [kernel, bias] = last.getWeights() as [tf.Tensor2D, tf.Tensor1D | undefined];
    const z = tf.matMul(h, kernel);
    return (bias ? tf.add(z, bias) : z) as tf.Tensor2D;
  }
  if ((lastClass === 'Activation' || lastClass === 'Softmax') && (activationOf(last) ?? 'softmax') === 'softmax') {
    return applyRange(layers, x, headFrom, layers.length - 1) as tf.Tensor2D;
  }
  return applyRange(layers, x, headFrom, layers.length) as tf.Tensor2D;
}

/**
 * The layer Grad-CAM reads: the last convolution, followed through the BatchNorm/activation layers right after
 * it (the rectified maps the rest of the network sees). -1 when the model has no convolution.
 */
export function gradCamLayer(layers: tf.layers.Layer[]): number {
  let conv = -1;
  layers.forEach((l, i) => {
    if (/Conv2D$/.test(l.getClassName())) conv = i;
  });
  if (conv < 0) return -1;
  let at = conv;
  while (at + 1 < layers.length && roleOf(layers[at + 1]!) === 'elementwise') at++;
  return at;
}

/** The index of the layer whose outputs feed the classifier (the last layer), looking past Dropout. */
export function penultimateLayer(layers: tf.layers.Layer[]): number {
  let at = layers.length - 2;
  while (at > 0 && /Dropout/.test(layers[at]!.getClassName())) at--;
  return at;
}
