/**
 * Opening a model file a person already has: a Keras `to_json()` config (`.json`), a Keras `.keras` archive (a zip of
 * `config.json`, `metadata.json` and `model.weights.h5`) or a TF.js `model.json` with its weight shards. The config
 * becomes a workbench spec (`./keras-config`); the weights, where they can be read, become named float32 arrays that
 * `applyImportedWeights` (`./weights`) puts into a model built from that spec (evaluated at once, or fine-tuned as a
 * run's start). tfjs is loaded only to decode weights, so the services can open a config in the UI's process.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { convertKerasConfig, ModelImportError, type ConvertedModel } from './keras-config';
import { readKerasH5 } from './keras-h5';

export { ModelImportError } from './keras-config';

/** One weight as the file names it (`conv2d/kernel`), with its shape and values. Plain data: crosses a worker. */
export interface ImportedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

export type ModelFileFormat = 'keras-json' | 'keras-archive' | 'tfjs';

export interface OpenedModel extends ConvertedModel {
  format: ModelFileFormat;
  /** The file's weights, or null when it has none or they could not be read (`weightsNote` says which). */
  weights: ImportedWeight[] | null;
  /** Why there are no weights, for the person opening the file; null when weights were read. */
  weightsNote: string | null;
}

/** Files larger than this are not model configs (a .keras archive of a large model is still far below it). */
const MAX_MODEL_FILE = 512 * 1024 * 1024;

/** True when `json` is a model written by Keras or TF.js rather than a workbench spec (which has format_version). */
export function isForeignModelJson(json: unknown): boolean {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const j = json as Record<string, unknown>;
  if ('format_version' in j) return false;
  return 'modelTopology' in j || 'module' in j || 'keras_version' in j || 'model_config' in j || j.class_name === 'Functional' || j.class_name === 'Model';
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelImportError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * How to open: `weights: false` loads no tfjs, so a TF.js model's shards are not read (the note counts the arrays its
 * manifest lists); a .keras archive's weights are read either way (jsfive, pure JS).
 */
export interface OpenOptions {
  weights?: boolean;
}

/** Opens a model from its bytes; `readSibling` reads a file named relative to it (TF.js weight shards). */
export async function openModelBytes(
  bytes: Uint8Array,
  source: string,
  readSibling: (name: string) => Promise<Uint8Array>,
  options: OpenOptions = {},
): Promise<OpenedModel> {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return openKerasArchive(bytes, source);
  const json = parseJson(new TextDecoder().decode(bytes), source);
  const j = json as Record<string, unknown>;
  if (typeof json === 'object' && json !== null && 'modelTopology' in j) {
    const converted = convertKerasConfig(json, source);
    if (options.weights === false) {
      const listed = Array.isArray(j.weightsManifest) ? (j.weightsManifest as { weights?: unknown[] }[]).reduce((n, g) => n + (Array.isArray(g?.weights) ? g.weights.length : 0), 0) : 0;
      return { ...converted, format: 'tfjs', weights: null, weightsNote: `weights not loaded here: its ${listed} weight arrays are read by the CLI (cnn-workbench import ${source} --evaluate; train --spec ${source} fine-tunes them)` };
    }
    const weights = await readTfjsWeights(j.weightsManifest, source, readSibling);
    return { ...converted, format: 'tfjs', weights, weightsNote: weights === null ? `weights not read: ${source} lists no weightsManifest` : null };
  }
  return { ...convertKerasConfig(json, source), format: 'keras-json', weights: null, weightsNote: 'a to_json() config holds no weights: the model starts from fresh weights' };
}

/** Opens a model file from disk (`.json`, `.keras` or a TF.js `model.json` beside its shards). */
export async function openModelFile(file: string): Promise<OpenedModel> {
  let bytes: Uint8Array;
  try {
    const stat = await fs.stat(file);
    if (stat.size > MAX_MODEL_FILE) throw new ModelImportError(`${file}: ${stat.size} bytes is too large for a model file`);
    bytes = await fs.readFile(file);
  } catch (err) {
    if (err instanceof ModelImportError) throw err;
    throw new ModelImportError(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const dir = path.dirname(file);
  return openModelBytes(bytes, file, async (name) => {
    // A shard path is the manifest's, relative to model.json: never let it climb out of that folder.
    const target = path.resolve(dir, name);
    if (path.relative(dir, target).startsWith('..') || path.isAbsolute(name)) throw new ModelImportError(`${file}: weight shard path '${name}' leaves the model's folder`);
    try {
      return await fs.readFile(target);
    } catch (err) {
      throw new ModelImportError(`${file}: cannot read the weight shard ${target} it lists (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  });
}

/** TF.js' weights manifest: the shards read in order, decoded (dequantized where quantized) to float32. */
async function readTfjsWeights(manifest: unknown, source: string, readSibling: (name: string) => Promise<Uint8Array>): Promise<ImportedWeight[] | null> {
  if (manifest === undefined) return null;
  if (!Array.isArray(manifest)) throw new ModelImportError(`${source}: weightsManifest must be a list of {paths, weights}`);
  const tf = await import('@tensorflow/tfjs');
  // Decoding makes tensors: the workbench's backend must be chosen first (tfjs would pick one of its own).
  await (await import('../../backend')).initBackend();
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest as tf.io.WeightsManifestConfig) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights)) throw new ModelImportError(`${source}: a weightsManifest entry lacks paths or weights`);
    for (const p of group.paths) {
      const b = await readSibling(String(p));
      buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
    }
    specs.push(...group.weights);
  }
  const data = tf.io.concatenateArrayBuffers(buffers);
  let named: tf.NamedTensorMap;
  try {
    named = tf.io.decodeWeights(data, specs);
  } catch (err) {
    throw new ModelImportError(`${source}: its weight shards do not match its weightsManifest (${(err as Error).message})`);
  }
  return specs.map((s) => {
    const t = named[s.name]!;
    const w: ImportedWeight = { name: s.name, shape: t.shape.slice(), data: Float32Array.from(t.dataSync()) };
    t.dispose();
    return w;
  });
}

/** A `.keras` archive: its `config.json` converted, its `model.weights.h5` read (or `weightsNote` says why not). */
async function openKerasArchive(bytes: Uint8Array, source: string): Promise<OpenedModel> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (f) => f.name === 'config.json' || f.name === 'metadata.json' || f.name === 'model.weights.h5' });
  } catch (err) {
    throw new ModelImportError(`${source}: not a readable .keras archive (zip): ${(err as Error).message}`);
  }
  const config = files['config.json'];
  if (!config) throw new ModelImportError(`${source}: a .keras archive must hold config.json; this zip has none`);
  const converted = convertKerasConfig(parseJson(new TextDecoder().decode(config), `${source}!config.json`), source);
  const meta = files['metadata.json'] ? (parseJson(new TextDecoder().decode(files['metadata.json']), `${source}!metadata.json`) as { keras_version?: unknown }) : null;
  const version = typeof meta?.keras_version === 'string' ? `Keras ${meta.keras_version}` : 'Keras';
  const h5 = files['model.weights.h5'];
  if (!h5) return { ...converted, dialect: 'keras3', format: 'keras-archive', weights: null, weightsNote: `weights not read: ${source} holds no model.weights.h5` };
  const names = converted.spec.config.layers.map((l) => String(l.config.name));
  const { weights, why } = readKerasH5(h5, names);
  const weightsNote =
    weights === null
      ? `weights not read: ${source}'s model.weights.h5: ${why} — the model opens with fresh weights (to keep trained weights, save it from ${version} as TF.js: tensorflowjs_converter, or open its model.json)`
      : null;
  return { ...converted, dialect: 'keras3', format: 'keras-archive', weights, weightsNote };
}
