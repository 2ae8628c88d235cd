/**
 * Test-only: a `.keras` archive written the way Keras 3's `model.save('model.keras')` writes one — `config.json`,
 * `metadata.json` and a `model.weights.h5` from h5py (the library Keras saves with; Keras itself is not installed
 * here). Each array of a tfjs model goes to `<layout>/<keras layer name>/vars/<i>`, next to the weightless layers'
 * empty groups Keras leaves and an optimizer group the reader must pass over.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';

/** A Python with h5py: the first on PATH, else Debian's (`apt-get install python3-h5py`, as .ci/run does). */
function h5pyPython(): string {
  const found = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import h5py']).status === 0);
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
export function writeKerasWeightsH5(file: string, layers: KerasLayerArrays[], options: KerasH5Options = {}): void {
  const plain = layers.map((l) => ({ name: l.name, vars: l.vars.map((v) => ({ shape: v.shape, data: Array.from(v.data) })) }));
  execFileSync(h5pyPython(), ['-c', WRITE_H5, file, options.layout ?? 'layers', options.dtype ?? 'float32'], { input: JSON.stringify(plain) });
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
