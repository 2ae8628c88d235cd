import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetInfo } from '../../shared/contract';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classes';
import { parseCsvBytes } from './csv';
import { DataError, describeError } from './errors';
import { fingerprint, sha256Hex } from './fingerprint';
import { maybeGunzipAsync, parseIdx, readDataFile } from './idx';
import { DEBIAN_MNIST_DIR, FASHION_MNIST_FILES, findIdxFile, findIdxFiles, IDX_FILE_NAMES, IDX_ROLES, locateFashionMnist, locateMnist, type IdxRole } from './locate';
import { splitIndices } from './random';
import { slugify } from './slug';
import { loadImageFolder, isImageFolder, type ImageFolderOptions } from './image-folder';
import { readRegistry } from './registry';
import { userDataDir } from '../paths';
import type { Dataset, ImageSet } from './types';

export { slugify };

/** Options for `loadDataset`. */
export interface LoadOptions {
  /** Keep only the first N training images (demos, tests). The info still describes the whole dataset. */
  limitTrain?: number;
  /** Keep only the first N test images. */
  limitTest?: number;
  /** Passed to `locateFashionMnist` (e.g. to disable the download). */
  download?: boolean;
  /**
   * `source` is an id only (fashion-mnist, mnist, or an import's id), never a path: what the services pass, so a
   * dataset id from a renderer or a browser can never name a file — least of all one relative to the server's
   * working directory, outside the data roots.
   */
  idOnly?: boolean;
  /**
   * How an image folder is read (size, colour mode, strictness, the model's channels for the default colour
   * mode); ignored by IDX and CSV data, whose size and channels are fixed by the files.
   */
  images?: ImageFolderOptions;
}

/**
 * A CSV without a sibling test CSV gets this fraction of its rows held out as the test set, chosen by a
 * seeded shuffle with `CSV_TEST_SEED` — the same rows every time, and Fashion-MNIST's own 60k : 10k ratio.
 */
export const CSV_TEST_FRACTION = 1 / 7;
export const CSV_TEST_SEED = 20170828;

/**
 * Loads a dataset fully and validates it. `source`:
 * - undefined or `'fashion-mnist'`: located by `locateFashionMnist` (user folder, Debian, else download);
 * - `'mnist'`: the user folder's `mnist/` or Debian's, if present;
 * - an id from `importDataset`;
 * - a folder with the four standard IDX files (raw or .gz);
 * - a folder of class subfolders of PNG/JPEG images (`image-folder.ts`; `opts.images` says how to read it);
 * - a `.csv` file (Kaggle style). Its test set is the sibling with `train` replaced by `test` in the name
 *   (`fashion-mnist_train.csv` → `fashion-mnist_test.csv`), else the only other `*test*.csv` beside it,
 *   else a seeded 1/7 of its rows held out (`CSV_TEST_FRACTION`, `CSV_TEST_SEED`).
 * Classes: 10 (Fashion-MNIST / MNIST), unless a `classes.txt` beside the data lists one name per line.
 * Every problem is a DataError naming the file.
 */
export async function loadDataset(source: string | undefined, opts: LoadOptions = {}): Promise<Dataset> {
  const resolved = await resolveSource(source, opts);
  const ds =
    resolved.kind === 'csv'
      ? await loadCsv(resolved.path)
      : resolved.kind === 'images'
        ? await loadImageFolder(resolved.path, opts.images)
        : await loadIdxFolder(resolved.path, resolved.id);
  if (resolved.id && resolved.kind !== 'idx') ds.info.id = resolved.id;
  return {
    info: ds.info,
    train: limitSet(ds.train, opts.limitTrain, 'limitTrain'),
    test: limitSet(ds.test, opts.limitTest, 'limitTest'),
    source: resolved.path,
  };
}

type Resolved = { kind: 'idx' | 'csv' | 'images'; path: string; id: string | null };

async function resolveSource(source: string | undefined, opts: LoadOptions): Promise<Resolved> {
  if (source === undefined || source === 'fashion-mnist') {
    return { kind: 'idx', path: await locateFashionMnist({ download: opts.download }), id: 'fashion-mnist' };
  }
  if (source === 'mnist') {
    const dir = locateMnist();
    if (!dir) {
      const userDir = path.join(userDataDir(), 'mnist');
      throw new DataError(
        `MNIST not found in ${userDir} or ${DEBIAN_MNIST_DIR}: put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz in ${userDir}, or import a folder`,
        userDir,
      );
    }
    return { kind: 'idx', path: dir, id: 'mnist' };
  }
  // A damaged registry must not stop loading a dataset given by path; for an id it is the real problem.
  const registry = await readRegistry().catch((err: unknown) => {
    if (existsSync(path.resolve(source))) return null;
    throw err;
  });
  const entry = registry?.datasets.find((d) => d.id === source);
  if (!entry && opts.idOnly) {
    throw new DataError(`unknown dataset "${source}": not fashion-mnist, mnist or the id of an imported dataset (import a folder or CSV first)`, source);
  }
  const target = entry ? entry.path : path.resolve(source);
  let isDir: boolean;
  try {
    isDir = (await stat(target)).isDirectory();
  } catch (err) {
    if (entry) throw new DataError(`${target}: imported dataset "${source}" is no longer there: ${describeError(err)}`, target);
    throw new DataError(
      `unknown dataset "${source}": not fashion-mnist, mnist or an imported id, and ${target} does not exist`,
      target,
    );
  }
  if (isDir) {
    // The four IDX files decide; otherwise class subfolders make it an image folder.
    const kind = findIdxFiles(target) === null && (await isImageFolder(target)) ? 'images' : 'idx';
    return { kind, path: target, id: entry?.id ?? null };
  }
  if (target.toLowerCase().endsWith('.csv')) return { kind: 'csv', path: target, id: entry?.id ?? null };
  throw new DataError(
    `${target}: not a dataset: expected a folder with the four IDX files (train-images-idx3-ubyte[.gz], …), a folder of class subfolders of PNG/JPEG images, or a .csv file`,
    target,
  );
}

/** Loads and checks the four IDX files of a folder. */
async function loadIdxFolder(dir: string, id: string | null): Promise<Dataset> {
  const files = findIdxFiles(dir);
  if (!files) {
    const missing = IDX_ROLES.filter((r) => !findIdxFile(dir, r)).map((r) => IDX_FILE_NAMES[r]);
    throw new DataError(
      `${dir}: not an IDX dataset folder: missing ${missing.join(', ')} (raw or .gz); it needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte`,
      dir,
    );
  }
  const raw = {} as Record<IdxRole, Uint8Array>;
  await Promise.all(
    IDX_ROLES.map(async (role) => {
      raw[role] = await maybeGunzipAsync(await readDataFile(files[role]), files[role]);
    }),
  );
  const classes = await readClassNames(dir, dir);
  // Recognise Fashion-MNIST by content (sizes first, so other data costs no hashing) to name its classes.
  const knownFashion =
    id === 'fashion-mnist' ||
    (classes === null &&
      IDX_ROLES.every(
        (r) => raw[r].byteLength === FASHION_MNIST_FILES[r].size && sha256Hex(raw[r]) === FASHION_MNIST_FILES[r].sha256,
      ));
  const classNames = classes ?? (knownFashion || /fashion/i.test(dir) ? FASHION_MNIST_CLASSES : MNIST_CLASSES);
  const train = idxPair(raw.trainImages, files.trainImages, raw.trainLabels, files.trainLabels, classNames.length);
  const test = idxPair(raw.testImages, files.testImages, raw.testLabels, files.testLabels, classNames.length);
  if (train.height !== test.height || train.width !== test.width || train.channels !== test.channels) {
    throw new DataError(
      `${files.testImages}: test images are ${test.height}×${test.width}×${test.channels} but training images (${files.trainImages}) are ${train.height}×${train.width}×${train.channels}`,
      files.testImages,
    );
  }
  const fp = fingerprint(raw.trainImages, raw.trainLabels, raw.testImages, raw.testLabels);
  return datasetOf(
    {
      id: id ?? `${slugify(path.basename(dir))}-${fp.slice(0, 8)}`,
      name: id === 'fashion-mnist' ? 'Fashion-MNIST' : id === 'mnist' ? 'MNIST' : path.basename(dir),
      format: 'idx',
      location: dir,
      classNames,
      fingerprint: fp,
    },
    train,
    test,
  );
}

/** A Dataset whose info takes its counts and image shape from the loaded sets, so they cannot disagree. */
function datasetOf(
  described: Omit<DatasetInfo, 'trainCount' | 'testCount' | 'imageShape'>,
  train: ImageSet,
  test: ImageSet,
): Dataset {
  const info: DatasetInfo = {
    ...described,
    trainCount: train.count,
    testCount: test.count,
    imageShape: [train.height, train.width, train.channels],
  };
  return { info, train, test };
}

/** Checks an images file and its labels file against each other and returns them as an ImageSet. */
function idxPair(imgBytes: Uint8Array, imgFile: string, lblBytes: Uint8Array, lblFile: string, numClasses: number): ImageSet {
  const img = parseIdx(imgBytes, imgFile);
  const lbl = parseIdx(lblBytes, lblFile);
  if (img.dims.length !== 3 && img.dims.length !== 4) {
    throw new DataError(`${imgFile}: an images file needs 3 dimensions (count, height, width), found [${img.dims.join(', ')}]`, imgFile);
  }
  if (lbl.dims.length !== 1) {
    throw new DataError(`${lblFile}: a labels file needs 1 dimension (count), found [${lbl.dims.join(', ')}]`, lblFile);
  }
  const [count, height, width, channels = 1] = img.dims as [number, number, number, number?];
  if (height === 0 || width === 0 || channels === 0) {
    throw new DataError(`${imgFile}: images of size ${height}×${width}×${channels} are empty`, imgFile);
  }
  if (lbl.dims[0] !== count) {
    throw new DataError(`${lblFile}: ${lbl.dims[0]} labels, but ${imgFile} has ${count} images`, lblFile);
  }
  for (let i = 0; i < count; i++) {
    if (lbl.data[i]! >= numClasses) {
      throw new DataError(`${lblFile}: label ${lbl.data[i]} at index ${i} is outside [0, ${numClasses})`, lblFile);
    }
  }
  return { images: img.data, labels: lbl.data, count, height, width, channels };
}

/** Loads a CSV (and its test CSV, or holds out a seeded test split). */
async function loadCsv(file: string): Promise<Dataset> {
  const dir = path.dirname(file);
  const classes = await readClassNames(dir, file);
  const numClasses = classes?.length ?? 10;
  const trainBytes = await readDataFile(file);
  const all = parseCsvBytes(trainBytes, file, { numClasses });
  const testFile = await findTestCsv(file);
  let train: ImageSet;
  let test: ImageSet;
  let fp: string;
  let location = file;
  if (testFile) {
    const testBytes = await readDataFile(testFile);
    test = parseCsvBytes(testBytes, testFile, { numClasses });
    if (test.height !== all.height || test.width !== all.width) {
      throw new DataError(`${testFile}: test images are ${test.height}×${test.width}, training images (${file}) ${all.height}×${all.width}`, testFile);
    }
    train = all;
    fp = fingerprint(trainBytes, testBytes);
    location = `${file} + ${path.basename(testFile)}`;
  } else {
    if (all.count < 2) throw new DataError(`${file}: ${all.count} image cannot be split into training and test sets`, file);
    const { train: tr, validation: te } = splitIndices(all.count, CSV_TEST_FRACTION, CSV_TEST_SEED);
    // Sorted so that the held-out rows keep the file's order (stable "first N" limits).
    train = subset(all, tr.sort());
    test = subset(all, te.sort());
    fp = fingerprint(trainBytes);
    location = `${file} (no test CSV beside it: 1/7 of rows held out as test, seed ${CSV_TEST_SEED})`;
  }
  const classNames = classes ?? (/fashion/i.test(file) ? FASHION_MNIST_CLASSES : MNIST_CLASSES);
  return datasetOf(
    { id: `${slugify(path.basename(file))}-${fp.slice(0, 8)}`, name: path.basename(file), format: 'csv', location, classNames, fingerprint: fp },
    train,
    test,
  );
}

/** The test CSV for a training CSV, or null (see `loadDataset`). */
async function findTestCsv(file: string): Promise<string | null> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  if (/train/i.test(base)) {
    const sibling = path.join(dir, base.replace(/train/i, (m) => (m === 'TRAIN' ? 'TEST' : m[0] === 'T' ? 'Test' : 'test')));
    if (sibling !== file && existsSync(sibling)) return sibling;
  }
  const others = (await readdir(dir)).filter((n) => n !== base && /test/i.test(n) && n.toLowerCase().endsWith('.csv'));
  return others.length === 1 ? path.join(dir, others[0]!) : null;
}

/** Class names from a `classes.txt` beside the data (one per line), or null when there is none. */
async function readClassNames(dir: string, forFile: string): Promise<string[] | null> {
  const file = path.join(dir, 'classes.txt');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (names.length < 2 || names.length > 256) {
    throw new DataError(`${file}: lists ${names.length} class names for ${forFile}; expected 2 to 256, one per line`, file);
  }
  return names;
}

/** The rows `indices` of a set, copied. */
function subset(set: ImageSet, indices: Int32Array): ImageSet {
  const px = set.height * set.width * set.channels;
  const images = new Uint8Array(indices.length * px);
  const labels = new Uint8Array(indices.length);
  indices.forEach((src, i) => {
    images.set(set.images.subarray(src * px, (src + 1) * px), i * px);
    labels[i] = set.labels[src]!;
  });
  return { ...set, images, labels, count: indices.length };
}

/** The first `limit` images of a set (views, no copy); undefined keeps all. */
function limitSet(set: ImageSet, limit: number | undefined, field: string): ImageSet {
  if (limit === undefined) return set;
  if (!Number.isInteger(limit) || limit < 1) throw new DataError(`${field} must be a positive whole number, received ${limit}`);
  if (limit >= set.count) return set;
  const px = set.height * set.width * set.channels;
  return { ...set, images: set.images.subarray(0, limit * px), labels: set.labels.subarray(0, limit), count: limit };
}
