/**
 * Reading and writing tfjs layers-format models (`model.json` + `weights.bin`, the names tfjs-node's `file://`
 * handler uses) on the local file system with plain `node:fs`, through custom `tf.io` handlers — so nothing
 * here needs `@tensorflow/tfjs-node` (the usual way, but absent on most machines). The one place for model
 * folder IO: the runs store saves trained models with it, and export and predict load them back.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../fsutil';
// Registers the custom layers the model core builds (SpatialDropout2D), so a saved run containing them loads.
import '../model/spatial-dropout';

/** The file name of the topology + manifest inside a model folder, as tfjs-node writes it. */
export const MODEL_JSON = 'model.json';
/** The single weights shard we write (tfjs-node's name for it). */
export const WEIGHTS_BIN = 'weights.bin';

/** An error about a model folder or file: the message names the path and what was wrong with it. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** A `tf.io` load handler reading `<dir>/model.json` and the weight shards its manifest lists. */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = path.join(dir, MODEL_JSON);
      let text: string;
      try {
        text = await fs.readFile(jsonPath, 'utf8');
      } catch (err) {
        throw new ModelFileError(`cannot read the model file ${jsonPath}: ${errorCode(err)}`);
      }
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(text) as tf.io.ModelJSON;
      } catch (err) {
        throw new ModelFileError(`${jsonPath} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
        throw new ModelFileError(`${jsonPath} is not a tfjs layers model: it lacks modelTopology or weightsManifest`);
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const shard of group.paths) {
            const shardPath = path.join(dir, shard);
            let bytes: Buffer;
            try {
              bytes = await fs.readFile(shardPath);
            } catch (err) {
              throw new ModelFileError(`cannot read the weights file ${shardPath} listed in ${jsonPath}: ${errorCode(err)}`);
            }
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
          specs.push(...group.weights);
        }
        const expected = specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * bytesPerElement(s.dtype), 0);
        const got = buffers.reduce((sum, b) => sum + b.byteLength, 0);
        if (got !== expected) {
          throw new ModelFileError(`the weights in ${dir} hold ${got} bytes but ${jsonPath} describes ${expected}`);
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

function bytesPerElement(dtype: string): number {
  // tfjs layers models only store float32/int32 (4 bytes) unless quantized, which we never write.
  return dtype === 'bool' ? 1 : 4;
}

/**
 * A `tf.io` save handler writing `<dir>/weights.bin` then `<dir>/model.json`, each atomically, creating `dir`
 * if needed.
 */
export function atomicSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new ModelFileError(`cannot save to ${dir}: only layers models can be saved (received a binary graph-model topology)`);
      }
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      await fs.mkdir(dir, { recursive: true });
      // Weights first: model.json appearing is what makes the model visible, and it must never point at
      // weights that are not there yet.
      await writeFileAtomic(path.join(dir, WEIGHTS_BIN), new Uint8Array(weights));
      await writeFileAtomic(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** Saves `model` as `<dir>/model.json` + `<dir>/weights.bin`, creating `dir` if needed. */
export async function saveModelAtomic(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(atomicSaveHandler(dir));
}

/** Loads a tfjs layers model from a folder holding model.json + weight shards; errors name the file. */
export async function loadSavedModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileLoadHandler(dir));
}

/**
 * Loads the trained model of a run folder (`<runDir>/model/`), as the runs store writes it.
 * Errors name the run folder and the missing or broken file.
 */
export async function loadRunModel(runDir: string): Promise<tf.LayersModel> {
  const dir = path.join(runDir, 'model');
  try {
    await fs.access(path.join(dir, MODEL_JSON));
  } catch {
    throw new ModelFileError(`run ${runDir} has no trained model: ${path.join(dir, MODEL_JSON)} does not exist (did training finish?)`);
  }
  return loadSavedModel(dir);
}
