/**
 * Test-only: a `.keras` archive written the way Keras 3's `model.save('model.keras')` writes one — `config.json`,
 * `metadata.json` and a `model.weights.h5` from h5py (the library Keras saves with; Keras itself is not installed
 * here). Each array of a tfjs model goes to `<layout>/<keras layer name>/vars/<i>`, next to the weightless layers'
 * empty groups Keras leaves and an optimizer group the reader must pass over.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import { pythonWith } from '../../export/script-check';

let h5py: Promise<string | null> | null = null;

/** A Python with h5py, found once per process (`apt-get install python3-h5py`, as .ci/run does). */
async function h5pyPython(): Promise<string> {
  const found = await (h5py ??= pythonWith('h5py'));
  assert.ok(found, 'these tests write HDF5 with h5py: apt-get install python3-h5py');
  return found;
}

const WRITE_H5 = String.raw`
import json, sys
import h5py, numpy as np
file, root, dtype = sys.argv[1], sys.argv[2], sys.argv[3]
with h5py.File(file, "w") as f:
    for layer in json.load(sys.stdin):
        g = f.create_group(f"{root}/{layer['name']}/vars")
        for i, v in enumerate(layer["vars"]):
            g.create_dataset(str(i), data=np.asarray(v["data"], dtype=dtype).reshape(v["shape"]))
    f.create_group("optimizer/vars").create_dataset("0", data=np.asarray(12, dtype="int64"))
`;

export interface KerasH5Options {
  /** Keras 3's `layers` (default), Keras 2.13–2.15's `_layer_checkpoint_dependencies`, or a layout of neither. */
  layout?: string;
  /** numpy dtype of the arrays (Keras writes float32). */
  dtype?: string;
}

/** One Keras layer's variables, in the order Keras creates them. */
export interface KerasLayerArrays {
  name: string;
  vars: { shape: number[]; data: ArrayLike<number> }[];
}

/** `model`'s layers with their arrays, renamed by `kerasNames` (tfjs name → Keras name). */
export function kerasLayerArrays(model: tf.LayersModel, kerasNames: Record<string, string>): KerasLayerArrays[] {
  return model.layers.map((l) => ({ name: kerasNames[l.name] ?? l.name, vars: l.getWeights().map((w) => ({ shape: w.shape, data: w.dataSync() })) }));
}

/** The layers' arrays as h5py writes them for Keras. */
export async function writeKerasWeightsH5(file: string, layers: KerasLayerArrays[], options: KerasH5Options = {}): Promise<void> {
  const plain = layers.map((l) => ({ name: l.name, vars: l.vars.map((v) => ({ shape: v.shape, data: Array.from(v.data) })) }));
  execFileSync(await h5pyPython(), ['-c', WRITE_H5, file, options.layout ?? 'layers', options.dtype ?? 'float32'], { input: JSON.stringify(plain) });
}

/** A `.keras` archive of `config` (Keras' config.json) with the weights file at `h5File`. */
export function writeKerasArchive(file: string, config: unknown, h5File: string): void {
  const enc = new TextEncoder();
  const weights = new Uint8Array(readFileSync(h5File));
  writeFileSync(file, zipSync({ 'metadata.json': enc.encode('{"keras_version": "3.6.0", "date_saved": "2026-12-02@10:00:00"}'), 'config.json': enc.encode(JSON.stringify(config)), 'model.weights.h5': weights }));
}

/** The Keras 3 config fixture (`keras3-sequential.json`), parsed, for a test to reshape to its own model. */
export interface KerasConfigFixture {
  config: { layers: { class_name: string; config: Record<string, unknown> }[] };
}
export function kerasSequentialFixture(): KerasConfigFixture {
  return JSON.parse(readFileSync(new URL('./fixtures/keras3-sequential.json', import.meta.url), 'utf8')) as KerasConfigFixture;
}

/**
 * The fixture cut to the layer classes of `model` (a tfjs Sequential whose classes each appear once, in the
 * fixture's order), its Conv2D given the model's filter count, and the Keras name of each of the model's layers.
 */
export function kerasTwin(model: tf.LayersModel): { config: KerasConfigFixture; names: Record<string, string> } {
  const config = kerasSequentialFixture();
  const classes = new Set(['InputLayer', ...model.layers.map((l) => l.getClassName())]);
  config.config.layers = config.config.layers.filter((l) => classes.has(l.class_name));
  const conv = model.layers.find((l) => l.getClassName() === 'Conv2D');
  if (conv) config.config.layers.find((l) => l.class_name === 'Conv2D')!.config.filters = conv.getConfig().filters;
  const byClass = new Map(config.config.layers.map((l) => [l.class_name, String(l.config.name)]));
  return { config, names: Object.fromEntries(model.layers.map((l) => [l.name, byClass.get(l.getClassName())!])) };
}

/**
 * A `.keras` file of Input → Flatten → Dense(10, softmax) whose weights call every image `klass` (kernel 0, bias 30
 * there): a run that really starts from them, at a learning rate too small to move them, predicts `klass` for all.
 */
export async function writeOneClassKeras(file: string, klass: number): Promise<void> {
  const keras = kerasSequentialFixture();
  keras.config.layers = keras.config.layers.filter((l) => ['InputLayer', 'Flatten', 'Dense'].includes(l.class_name));
  const h5 = `${file}.weights.h5`;
  const bias = Array.from({ length: 10 }, (_, k) => (k === klass ? 30 : 0));
  await writeKerasWeightsH5(h5, [{ name: 'dense', vars: [{ shape: [784, 10], data: new Float32Array(7840) }, { shape: [10], data: bias }] }]);
  writeKerasArchive(file, keras, h5);
}
