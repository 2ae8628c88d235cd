/**
 * Finding a run's data again after training (export verification, test images in the "Try it" panel): by the
 * folder or file the run recorded and its fingerprint, so that an imported dataset — whose id means nothing to
 * a process that did not import it — is found where it was, and data that has moved or changed is reported as
 * such instead of being used silently.
 */
import { readdir, stat } from 'node:fs/promises';
import nodePath from 'node:path';
import { loadDatasetCached } from './catalog';
import { describeError } from './errors';
import { loadDataset } from './load';
import type { Dataset } from './types';

/**
 * Sizes and modification times of the files a dataset at `p` is read from (a folder's files; for a CSV, the
 * CSV and text files beside it: its test CSV and classes.txt), so a cached copy is used only while they are
 * unchanged — the worker that answers exports lives long, and a changed folder must be seen as changed.
 */
async function signature(p: string): Promise<string> {
  const isDir = (await stat(p)).isDirectory();
  const dir = isDir ? p : nodePath.dirname(p);
  const names = (await readdir(dir)).filter((n) => isDir || /\.(csv|txt)$/i.test(n)).sort();
  const parts = await Promise.all(
    names.map(async (n) => {
      const st = await stat(nodePath.join(dir, n)).catch(() => null);
      return st ? `${n}:${st.size}:${st.mtimeMs}` : n;
    }),
  );
  return parts.join('|');
}

let lastByPath: { key: string; dataset: Promise<Dataset> } | null = null;

/**
 * `loadDataset(p)`, cached while the files under it are unchanged (one entry: the run being exported). An image
 * folder is read at the size and in the colour mode the run trained with (`imageShape`), so its bytes — and its
 * fingerprint — are the ones the run saw.
 */
async function loadByPath(p: string, imageShape: [number, number, number] | null): Promise<Dataset> {
  const key = `${p}\n${imageShape?.join('x') ?? ''}\n${await signature(p)}`;
  if (lastByPath?.key !== key) {
    const images = imageShape ? { imageSize: [imageShape[0], imageShape[1]] as [number, number], colorMode: imageShape[2] === 3 ? ('rgb' as const) : ('grayscale' as const) } : undefined;
    const dataset = loadDataset(p, { download: false, images });
    lastByPath = { key, dataset };
    dataset.catch(() => {
      if (lastByPath?.dataset === dataset) lastByPath = null;
    });
  }
  return lastByPath.dataset;
}

/** Where a run's data came from, as run.json records it. */
export interface RecordedData {
  datasetId: string | null;
  /** The folder or CSV file it was read from; null for runs written before it was recorded. */
  path: string | null;
  /** The data's fingerprint when the run trained; null when the run does not say. */
  fingerprint: string | null;
  /** The image shape the run trained on ([height, width, channels]); how an image folder must be read again. */
  imageShape?: [number, number, number] | null;
}

/**
 * The run's data, or why it cannot be had: `missing` (nothing at the recorded place, or not readable),
 * `changed` (there, but other bytes than the run trained on), `unknown` (the run does not say where its
 * data is and its id cannot be resolved).
 */
export type RunData =
  | { ok: true; dataset: Dataset; where: string }
  | { ok: false; problem: 'missing' | 'changed' | 'unknown'; reason: string };

/** Ids every process can resolve by itself (found by location, not by an import registry). */
const BUILT_IN = new Set(['fashion-mnist', 'mnist']);

const short = (fp: string): string => `${fp.slice(0, 12)}…`;

/** Loads the data a run trained on and checks it is the same data (see `RunData`). */
export async function loadRunData(recorded: RecordedData): Promise<RunData> {
  const { datasetId, path, fingerprint } = recorded;
  let dataset: Dataset;
  let where: string;
  // The built-in sets are found wherever they are installed; anything else by the place the run recorded.
  if (path && !(datasetId && BUILT_IN.has(datasetId))) {
    try {
      await stat(path);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'moved or deleted' : describeError(err);
      return { ok: false, problem: 'missing', reason: `the data at ${path} is missing (${why})` };
    }
    try {
      dataset = await loadByPath(path, recorded.imageShape ?? null);
    } catch (err) {
      return { ok: false, problem: 'missing', reason: `the data at ${path} cannot be read: ${describeError(err)}` };
    }
    where = path;
  } else if (datasetId) {
    try {
      dataset = await loadDatasetCached(datasetId);
    } catch (err) {
      return { ok: false, problem: path ? 'missing' : 'unknown', reason: `the dataset ${datasetId} could not be loaded (${describeError(err)})` };
    }
    where = dataset.source ?? datasetId;
  } else {
    return { ok: false, problem: 'unknown', reason: 'the run does not name its dataset' };
  }
  if (fingerprint && dataset.info.fingerprint !== fingerprint) {
    return {
      ok: false,
      problem: 'changed',
      reason: `the data at ${where} has changed since the run trained on it (fingerprint ${short(dataset.info.fingerprint)}, the run recorded ${short(fingerprint)})`,
    };
  }
  return { ok: true, dataset, where };
}
