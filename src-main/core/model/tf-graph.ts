/**
 * Reading the wiring of a built tfjs model, for the exports: which layers feed a layer. A Sequential model is the
 * special case of a chain, so one walk serves both.
 */
import type * as tf from '@tensorflow/tfjs';

/** The layers whose outputs `layer` takes, in order (its first call: the workbench calls each layer once). */
export function inboundLayers(layer: tf.layers.Layer): tf.layers.Layer[] {
  return layer.inboundNodes[0]?.inboundLayers ?? [];
}

/** True when the model is a graph — some layer takes two or more inputs or some output feeds two or more layers. */
export function isGraphModel(model: tf.LayersModel): boolean {
  const consumers = new Map<string, number>();
  for (const layer of model.layers) {
    const ins = inboundLayers(layer);
    if (ins.length > 1) return true;
    for (const l of ins) consumers.set(l.name, (consumers.get(l.name) ?? 0) + 1);
  }
  return [...consumers.values()].some((n) => n > 1);
}
