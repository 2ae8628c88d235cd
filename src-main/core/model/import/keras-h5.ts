/**
 * A `.keras` archive's `model.weights.h5`, read with jsfive (npm `jsfive`: a maintained pure-JS HDF5 reader) when it is
 * installed. Keras 3's saving_lib writes each layer's variables as datasets `layers/<layer name>/vars/<i>`, in the
 * order the layer creates them (Conv2D kernel, bias; BatchNormalization gamma, beta, moving_mean, moving_variance) —
 * the order tfjs' layers hold them in, so `applyImportedWeights` matches them by `<layer>/vars/<i>`.
 */
import type { ImportedWeight } from './open';

interface H5Dataset {
  value: ArrayLike<number>;
  shape: number[];
  dtype: string;
}
const isDataset = (v: unknown): v is H5Dataset => typeof v === 'object' && v !== null && 'shape' in v && 'value' in v;
const isGroup = (v: unknown): v is { keys: string[] } => typeof v === 'object' && v !== null && Array.isArray((v as { keys?: unknown }).keys);

/** The weights of `layerNames` in `bytes`, or null with the reason (jsfive absent, an unexpected layout). */
export async function readKerasH5(bytes: Uint8Array, layerNames: readonly string[]): Promise<{ weights: ImportedWeight[] | null; why: string | null }> {
  let jsfive: typeof import('jsfive');
  try {
    jsfive = await import('jsfive');
  } catch {
    return { weights: null, why: 'it is HDF5 and the HDF5 reader (npm jsfive) is not installed' };
  }
  let file: InstanceType<typeof jsfive.File>;
  try {
    file = new jsfive.File(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, 'model.weights.h5');
  } catch (err) {
    return { weights: null, why: `it is not a readable HDF5 file (${(err as Error).message})` };
  }
  const weights: ImportedWeight[] = [];
  for (const layer of layerNames) {
    const vars = safeGet(file, `layers/${layer}/vars`);
    if (!isGroup(vars)) continue;
    const keys = vars.keys.filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
    for (const k of keys) {
      const d = safeGet(file, `layers/${layer}/vars/${k}`);
      if (!isDataset(d)) return { weights: null, why: `layers/${layer}/vars/${k} is not a dataset` };
      if (!/^[<|]?f4$/.test(d.dtype)) return { weights: null, why: `layers/${layer}/vars/${k} is ${d.dtype}, not float32` };
      weights.push({ name: `${layer}/vars/${k}`, shape: d.shape.slice(), data: Float32Array.from(d.value) });
    }
  }
  if (weights.length === 0) return { weights: null, why: 'it holds no layers/<name>/vars datasets (a layout this reader does not know)' };
  return { weights, why: null };
}

function safeGet(file: { get(path: string): unknown }, p: string): unknown {
  try {
    return file.get(p);
  } catch {
    return null;
  }
}
