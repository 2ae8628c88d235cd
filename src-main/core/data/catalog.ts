import { closeSync, openSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import type { DatasetInfo, DatasetOverview, ImageSample } from '../../shared/contract';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classes';
import { DataError, describeError } from './errors';
import { fingerprint } from './fingerprint';
import { isGzip, maybeGunzipAsync, parseIdxHeader, readDataFile } from './idx';
import { findIdxFiles, IDX_ROLES, locateFashionMnist, locateMnist, type IdxRole } from './locate';
import { loadDataset } from './load';
import { describeDataset } from './overview';
import { readRegistry, writeRegistry } from './registry';
import { getImages } from './samples';
import type { Dataset } from './types';

/**
 * What is available here now: Fashion-MNIST (wherever found, never downloaded by listing), MNIST if present,
 * then the user's imports that still exist. Cheap: IDX headers only (the first few KB of each file, gzip
 * inflated partially), with fingerprints cached in the registry by path, size and mtime.
 */
export async function listDatasets(): Promise<DatasetInfo[]> {
  const out: DatasetInfo[] = [];
  const reg = await readRegistry();
  let cacheChanged = false;
  const standard: { id: string; name: string; dir: string | null; classNames: string[] }[] = [
    { id: 'fashion-mnist', name: 'Fashion-MNIST', dir: await locateFashionMnist({ download: false }).catch(() => null), classNames: FASHION_MNIST_CLASSES },
    { id: 'mnist', name: 'MNIST', dir: locateMnist(), classNames: MNIST_CLASSES },
  ];
  for (const s of standard) {
    if (!s.dir) continue;
    const files = findIdxFiles(s.dir);
    if (!files) continue;
    try {
      const headers = {} as Record<IdxRole, number[]>;
      for (const role of IDX_ROLES) headers[role] = readIdxHeaderFromFile(files[role]);
      const key = await cacheKey(IDX_ROLES.map((r) => files[r]));
      let fp = reg.fingerprints.find((c) => c.key === key)?.fingerprint;
      if (!fp) {
        fp = await idxFilesFingerprint(IDX_ROLES.map((r) => files[r]));
        reg.fingerprints = reg.fingerprints.filter((c) => !c.key.startsWith(`${s.dir}/`)).concat({ key, fingerprint: fp });
        cacheChanged = true;
      }
      const [trainCount, height, width, channels = 1] = headers.trainImages as [number, number, number, number?];
      out.push({
        id: s.id,
        name: s.name,
        format: 'idx',
        location: s.dir,
        trainCount,
        testCount: headers.testImages[0]!,
        imageShape: [height, width, channels],
        classNames: s.classNames,
        fingerprint: fp,
      });
    } catch (err) {
      // A corrupt standard copy must not hide the imports; loading it later reports the problem in full.
      if (!(err instanceof DataError)) throw err;
    }
  }
  for (const entry of reg.datasets) {
    if (await exists(entry.path)) out.push(entry.info);
  }
  if (cacheChanged) await writeRegistry(reg).catch(() => undefined);
  return out;
}

/**
 * Validates a folder of IDX files or a CSV fully (as `loadDataset` does), remembers it in the registry and
 * returns its info. The id is a slug of the name plus the first 8 hex digits of the fingerprint, so importing
 * the same data again gives the same id (and replaces the earlier entry rather than duplicating it).
 */
export async function importDataset(source: string): Promise<DatasetInfo> {
  const abs = path.resolve(source);
  if (!(await exists(abs))) throw new DataError(`${abs}: cannot import: no such file or folder`, abs);
  const ds = await loadDataset(abs, { download: false });
  const reg = await readRegistry();
  reg.datasets = reg.datasets.filter((d) => d.id !== ds.info.id && d.path !== abs).concat({ id: ds.info.id, path: abs, info: ds.info });
  await writeRegistry(reg);
  return ds.info;
}

let lastLoaded: { id: string; dataset: Promise<Dataset> } | null = null;

/**
 * `loadDataset` with a one-entry memory cache, for services that ask for a few test images at a time
 * (galleries): the last dataset stays loaded (about 55 MB for Fashion-MNIST) instead of being re-read per call.
 */
export function loadDatasetCached(datasetId: string): Promise<Dataset> {
  if (lastLoaded?.id !== datasetId) {
    const dataset = loadDataset(datasetId, { download: false, idOnly: true });
    lastLoaded = { id: datasetId, dataset };
    // A failed load must not stick in the cache.
    dataset.catch(() => {
      if (lastLoaded?.dataset === dataset) lastLoaded = null;
    });
  }
  return lastLoaded.dataset;
}

/**
 * Throws a DataError naming `datasetId` unless it is fashion-mnist, mnist or an import's id (never a path):
 * the services check a training request's dataset with it before a worker sees it.
 */
export async function checkDatasetId(datasetId: string): Promise<void> {
  if (datasetId === 'fashion-mnist' || datasetId === 'mnist') return;
  const reg = await readRegistry();
  if (!reg.datasets.some((d) => d.id === datasetId)) {
    throw new DataError(`unknown dataset "${datasetId}": not fashion-mnist, mnist or the id of an imported dataset (import a folder or CSV first)`, datasetId);
  }
}

/** Test images of a dataset by id (never a path), for galleries and the misclassified view. */
export async function getTestImages(datasetId: string, indices: number[]): Promise<ImageSample[]> {
  const ds = await loadDatasetCached(datasetId);
  return getImages(ds.test, indices);
}

/** Per-class counts and `perClass` training thumbnails per class of a dataset by id, for the dataset view. */
export async function getDatasetOverview(datasetId: string, perClass: number): Promise<DatasetOverview> {
  return describeDataset(await loadDatasetCached(datasetId), perClass);
}

/**
 * Dims from an IDX file's header without reading the whole file: the first 4 KB, inflated with a sync
 * flush so a gzip stream cut short still yields its first bytes.
 */
export function readIdxHeaderFromFile(file: string): number[] {
  let head: Uint8Array;
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const n = readSync(fd, buf, 0, buf.length, 0);
      head = buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new DataError(`${file}: cannot read the file: ${describeError(err)}`, file);
  }
  if (isGzip(head)) {
    try {
      head = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (err) {
      throw new DataError(`${file}: not a valid gzip file: ${describeError(err)}`, file);
    }
  }
  return parseIdxHeader(head, file).dims;
}

/** The fingerprint `loadDataset` records for an IDX folder: over the four files' decompressed bytes. */
async function idxFilesFingerprint(files: string[]): Promise<string> {
  const parts = await Promise.all(files.map(async (f) => maybeGunzipAsync(await readDataFile(f), f)));
  return fingerprint(...parts);
}

async function cacheKey(files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const f of files) {
    const st = await stat(f);
    parts.push(`${f}:${st.size}:${Math.round(st.mtimeMs)}`);
  }
  return parts.join('|');
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
