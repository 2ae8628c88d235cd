/**
 * Saving a trained model into a run folder in tfjs layers format (`model.json` + `weights.bin`, the names
 * tfjs-node's `file://` handler uses, so `tf.loadLayersModel` and the export code read it) through a custom
 * `tf.io` save handler — `file://` needs tfjs-node, which is usually absent — with every file written
 * atomically.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../fsutil';

export const MODEL_JSON_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** A `tf.io` save handler writing `<dir>/weights.bin` then `<dir>/model.json`, each atomically. */
export function atomicSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('only layers models can be saved (received a binary graph-model topology)');
      }
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      await fs.mkdir(dir, { recursive: true });
      // Weights first: model.json appearing is what makes the model visible, and it must never point at
      // weights that are not there yet.
      await writeFileAtomic(path.join(dir, WEIGHTS_FILE), new Uint8Array(weights));
      await writeFileAtomic(path.join(dir, MODEL_JSON_FILE), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** Saves `model` as `<dir>/model.json` + `<dir>/weights.bin`. */
export async function saveModelAtomic(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(atomicSaveHandler(dir));
}

/** Loads a model saved by `saveModelAtomic` without tfjs-node. */
export async function loadSavedModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = path.join(dir, MODEL_JSON_FILE);
  const modelJson = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs = manifest.flatMap((g) => g.weights);
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      for (const shard of group.paths) {
        const bytes = await fs.readFile(path.join(dir, shard));
        buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      }
    }
    return [specs, tf.io.concatenateArrayBuffers(buffers)];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
