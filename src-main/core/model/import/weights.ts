/** Putting an opened model's weights into a model built from its spec (tfjs). */
import * as tf from '@tensorflow/tfjs';
import { ModelImportError } from './keras-config';
import type { ImportedWeight } from './open';

/**
 * Puts imported weights into a model built from the imported spec, matched by name (`<layer>/<weight>`, as Keras and
 * tfjs name them). Every weight of the model must be found with its shape, else a `ModelImportError` names the first
 * that is not.
 */
export function applyImportedWeights(model: tf.LayersModel, weights: readonly ImportedWeight[], source = 'the imported model'): void {
  const byName = new Map(weights.map((w) => [w.name, w]));
  for (const layer of model.layers) {
    const values = layer.weights.map((v, index) => {
      // A .keras file names a layer's variables by position (`dense/vars/0`), in the order tfjs holds them.
      const w = byName.get(v.originalName) ?? byName.get(`${layer.name}/vars/${index}`);
      if (!w) throw new ModelImportError(`${source}: has no weight '${v.originalName}' for layer '${layer.name}' (${layer.getClassName()})`);
      if (w.shape.length !== v.shape.length || w.shape.some((d, i) => d !== v.shape[i])) {
        throw new ModelImportError(`${source}: weight '${w.name}' has shape [${w.shape.join(', ')}] but layer '${layer.name}' needs [${v.shape.join(', ')}]`);
      }
      return w;
    });
    if (values.length === 0) continue;
    const tensors = values.map((w) => tf.tensor(w.data, w.shape, 'float32'));
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
}
