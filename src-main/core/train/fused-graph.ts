/**
 * The fused native step's graph (native/trainer.cc, "Graphs"): per layer, the indices of the layers it reads, read
 * from the built tfjs model — the same connections the Functional spec's `inbound_nodes` name, after tfjs has
 * resolved them and ordered the layers so each comes after its inputs. A straight list (each layer reading the one
 * before) gets no graph: the addon then runs its sequential path, unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedUnsupported } from '../model/layers/index';
import { inboundLayers } from '../model/tf-graph';

/** `layers`: the model's layers without its InputLayer, in tfjs' order. -1 stands for the model's input. */
export function fusedGraph(model: tf.LayersModel, layers: tf.layers.Layer[]): number[][] | null {
  // A Sequential model is a chain whatever nodes its layers gained since (a layer applied again elsewhere).
  if (model instanceof tf.Sequential) return null;
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new FusedUnsupported('a model with more than one input or output');
  const index = new Map<tf.layers.Layer, number>(layers.map((l, i) => [l, i]));
  // The step's input: the image after the leading preprocessing layers the augmentation pass runs (when any).
  const leading = model.layers.filter((l) => l.getClassName() !== 'InputLayer' && !index.has(l));
  const stepInput = leading.at(-1);
  const output = model.outputs[0]!.sourceLayer;
  if (layers.length > 0 && output !== layers.at(-1))
    throw new FusedUnsupported(`layer '${output.name}' as the output: the fused step needs the output layer last`);
  const graph = layers.map((layer) => {
    if (layer.inboundNodes.length !== 1) throw new FusedUnsupported(`layer '${layer.name}' used ${layer.inboundNodes.length} times (shared weights)`);
    return inboundLayers(layer).map((source) => {
      if (stepInput ? source === stepInput : source.getClassName() === 'InputLayer') return -1;
      if (!index.has(source) && stepInput)
        throw new FusedUnsupported(`layer '${layer.name}' reads '${source.name}', before the preprocessing layers the augmentation pass runs`);
      const i = index.get(source);
      if (i === undefined) throw new FusedUnsupported(`layer '${layer.name}' reads '${source.name}', which is not one of the model's layers`);
      return i;
    });
  });
  return graph.every((inputs, i) => inputs.length === 1 && inputs[0] === i - 1) ? null : graph;
}
