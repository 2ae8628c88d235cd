/**
 * A `.keras` archive's `model.weights.h5`, read with jsfive (npm `jsfive`: a maintained pure-JS HDF5 reader, so no
 * native HDF5 library is needed). Keras 3's saving_lib writes each layer's variables as datasets
 * `layers/<layer name>/vars/<i>` (Keras 2.13–2.15 wrote `_layer_checkpoint_dependencies/<layer name>/vars/<i>`), in
 * the order the layer creates them (Conv2D kernel, bias; BatchNormalization gamma, beta, moving_mean,
 * moving_variance) — the order tfjs' layers hold them in, so `applyImportedWeights` matches them by `<layer>/vars/<i>`.
 * The optimizer's state (`optimizer/vars/…`) is not read: a fine-tune starts its own.
 */
import { File as H5File } from 'jsfive';
import type { ImportedWeight } from './open';

interface H5Dataset {
  value: ArrayLike<number>;
  shape: number[];
  dtype: string;
}
const isDataset = (v: unknown): v is H5Dataset => typeof v === 'object' && v !== null && 'shape' in v && 'value' in v;
const isGroup = (v: unknown): v is { keys: string[] } => typeof v === 'object' && v !== null && Array.isArray((v as { keys?: unknown }).keys);

/** Where each Keras version puts a layer's variables: Keras 3 first, then 2.13–2.15's `.keras` layout. */
const LAYER_ROOTS = ['layers', '_layer_checkpoint_dependencies'] as const;

/** The weights of `layerNames` in `bytes`, or null with the reason (not HDF5, an unexpected layout or dtype). */
export function readKerasH5(bytes: Uint8Array, layerNames: readonly string[]): { weights: ImportedWeight[] | null; why: string | null } {
  let file: H5File;
  try {
    file = new H5File(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, 'model.weights.h5');
  } catch (err) {
    return { weights: null, why: `it is not a readable HDF5 file (${(err as Error).message})` };
  }
  const root = LAYER_ROOTS.find((r) => isGroup(safeGet(file, r)));
  if (!root) return { weights: null, why: `it holds no ${LAYER_ROOTS.map((r) => `${r}/<name>/vars`).join(' or ')} groups (a layout this reader does not know)` };
  const weights: ImportedWeight[] = [];
  for (const layer of layerNames) {
    const vars = safeGet(file, `${root}/${layer}/vars`);
    if (!isGroup(vars)) continue;
    const keys = vars.keys.filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
    for (const k of keys) {
      const where = `${root}/${layer}/vars/${k}`;
      const d = safeGet(file, where);
      if (!isDataset(d)) return { weights: null, why: `${where} is not a dataset` };
      // float32 as Keras writes it; a float16/bfloat16 or float64 file would need converting, which Keras does on load.
      if (!/^[<|]?f4$/.test(d.dtype)) return { weights: null, why: `${where} is ${d.dtype}, not float32` };
      weights.push({ name: `${layer}/vars/${k}`, shape: d.shape.slice(), data: Float32Array.from(d.value) });
    }
  }
  if (weights.length === 0) return { weights: null, why: `its ${root} group holds no variables of this model's layers (${layerNames.join(', ')})` };
  return { weights, why: null };
}

function safeGet(file: { get(path: string): unknown }, p: string): unknown {
  try {
    return file.get(p);
  } catch {
    return null;
  }
}
