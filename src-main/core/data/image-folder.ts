/**
 * Image-folder datasets, the layout of Keras' `image_dataset_from_directory`: one subfolder per class (class
 * names = folder names, sorted as Python sorts them), the images anywhere below it; optionally `train/` and
 * `test/` at the top, each holding the class folders — else a stratified, seeded test split. PNG and JPEG (EXIF
 * orientation honoured), resized to one size (the most common unless asked) and read in one colour mode (the
 * model's when known, else the images' own) by predict's pipeline. Files that are not PNG/JPEG are ignored and
 * counted; unreadable images are skipped and listed (or refused with `strict`).
 *
 * Loading surveys the headers first (no decoding), then decodes in worker threads (`image-decode.ts`), and keeps
 * the decoded bytes in a cache file keyed by the folder's file list (names, sizes, times) and the options, so a
 * second load of an unchanged folder reads one file.
 */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ColorMode, DatasetInfo, ImageFolderInfo, SkippedImage } from '../../shared/contract';
import { DataError, describeError } from './errors';
import { fingerprint, sha256Hex } from './fingerprint';
import { decodeAll, BIG_PIXELS, type DecodeJob } from './image-decode';
import { HEADER_BYTES, probeImageHeader, type ImageHeader } from './image-headers';
import { readImageFolderCache, writeImageFolderCache } from './image-cache';
import { mulberry32, shuffleInPlace, splitIndices } from './random';
import { slugify } from './slug';
import type { Dataset, ImageSet } from './types';

/** Held out as the test set when the folder has no `test/`: a fifth of each class (Keras' usual validation_split). */
export const IMAGE_TEST_FRACTION = 0.2;
export const IMAGE_TEST_SEED = 20170828;
/** How many skipped / ignored paths the info lists. */
const FIRST_N = 5;
/** Labels are bytes. */
const MAX_CLASSES = 256;

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** Options for `loadImageFolder`. */
export interface ImageFolderOptions {
  /** [height, width] to resize to; default the folder's most common size. */
  imageSize?: [number, number];
  /** Default: the model's (`modelChannels`) when given, else the images' own mode. */
  colorMode?: ColorMode;
  /** The model's input channels, when a model is known (1 → grayscale, 3 → rgb). */
  modelChannels?: number;
  /** Refuse the folder at the first unreadable image instead of skipping it. */
  strict?: boolean;
  /** Decoding threads (default: the cores, at most 4); 0 decodes in this thread. */
  threads?: number;
  /** Skip the decoded-bytes cache (read and write). */
  noCache?: boolean;
  /** Progress of the decoding pass. */
  onProgress?: (done: number, total: number) => void;
}

interface FoundFile {
  abs: string;
  /** Relative to the dataset folder, with forward slashes. */
  rel: string;
  label: number;
  split: 'train' | 'test' | 'all';
  size: number;
  mtimeMs: number;
}

interface Scan {
  root: string;
  classNames: string[];
  split: 'folders' | 'seeded';
  files: FoundFile[];
  ignored: string[];
}

/** Python's `sorted` on str: by code point, not locale. */
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Does `dir` look like an image-folder dataset (class subfolders, or train/ and test/)? Cheap: one level read. */
export async function isImageFolder(dir: string): Promise<boolean> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.some((e) => e.isDirectory() && !e.name.startsWith('.'));
  } catch {
    return false;
  }
}

/** The `train` and `test` subfolders when both are there (any case), else null. */
function splitFolders(names: string[]): { train: string; test: string } | null {
  const train = names.find((n) => n.toLowerCase() === 'train');
  const test = names.find((n) => n.toLowerCase() === 'test');
  return train && test ? { train, test } : null;
}

async function listDir(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new DataError(`${dir}: cannot read the folder: ${describeError(err)}`, dir);
  }
}

/** Every file below `dir` (hidden ones left out), relative paths with forward slashes. */
async function walk(dir: string, rel: string, out: { abs: string; rel: string }[]): Promise<void> {
  for (const e of await listDir(dir)) {
    if (e.name.startsWith('.')) continue;
    const abs = path.join(dir, e.name);
    const r = `${rel}/${e.name}`;
    if (e.isDirectory()) await walk(abs, r, out);
    else if (e.isFile()) out.push({ abs, rel: r });
  }
}

/** Finds the classes and their files; refuses a folder with no classes, one class, or an empty class. */
async function scan(root: string): Promise<Scan> {
  const top = (await listDir(root)).filter((e) => !e.name.startsWith('.'));
  const ignored: string[] = top.filter((e) => e.isFile()).map((e) => e.name);
  const dirs = top.filter((e) => e.isDirectory()).map((e) => e.name).sort(byCodePoint);
  const sf = splitFolders(dirs);
  const parts: { split: FoundFile['split']; base: string; rel: string }[] = sf
    ? [
        { split: 'train', base: path.join(root, sf.train), rel: sf.train },
        { split: 'test', base: path.join(root, sf.test), rel: sf.test },
      ]
    : [{ split: 'all', base: root, rel: '' }];
  if (sf) for (const d of dirs) if (d !== sf.train && d !== sf.test) ignored.push(`${d}/`);
  const perPart: { split: FoundFile['split']; base: string; rel: string; classes: string[] }[] = [];
  for (const p of parts) {
    const entries = sf ? (await listDir(p.base)).filter((e) => !e.name.startsWith('.')) : top;
    if (sf) for (const e of entries) if (e.isFile()) ignored.push(`${p.rel}/${e.name}`);
    perPart.push({ ...p, classes: entries.filter((e) => e.isDirectory()).map((e) => e.name).sort(byCodePoint) });
  }
  const classNames = perPart[0]!.classes;
  const where = sf ? path.join(root, sf.train) : root;
  if (classNames.length === 0) {
    throw new DataError(
      `${where}: not an image-folder dataset: no class subfolders (expected one folder of PNG/JPEG images per class, as Keras' image_dataset_from_directory reads, optionally under train/ and test/)`,
      where,
    );
  }
  if (classNames.length === 1) {
    throw new DataError(`${where}: only one class folder ("${classNames[0]}"); a classifier needs at least two classes: add a folder per class`, where);
  }
  if (classNames.length > MAX_CLASSES) {
    throw new DataError(`${where}: ${classNames.length} class folders; at most ${MAX_CLASSES} classes are supported`, where);
  }
  if (sf) {
    const extra = perPart[1]!.classes.filter((c) => !classNames.includes(c));
    if (extra.length > 0) {
      throw new DataError(
        `${path.join(root, sf.test)}: class folder(s) ${extra.map((c) => `"${c}"`).join(', ')} are not in ${sf.train}/ (its classes: ${classNames.join(', ')}); the test set can only hold classes the model trains on`,
        path.join(root, sf.test),
      );
    }
  }
  const files: FoundFile[] = [];
  for (const p of perPart) {
    for (const cls of p.classes) {
      const label = classNames.indexOf(cls);
      const found: { abs: string; rel: string }[] = [];
      const clsDir = path.join(p.base, cls);
      await walk(clsDir, p.rel ? `${p.rel}/${cls}` : cls, found);
      found.sort((a, b) => byCodePoint(a.rel, b.rel));
      const images = found.filter((f) => IMAGE_EXT.test(f.rel));
      for (const f of found) if (!IMAGE_EXT.test(f.rel)) ignored.push(f.rel);
      if (images.length === 0 && p.split !== 'test') {
        const others = found.length;
        throw new DataError(
          `${clsDir}: the class folder "${cls}" holds no PNG or JPEG images${others ? ` (${others} other file${others === 1 ? '' : 's'})` : ''}; add images or remove the folder`,
          clsDir,
        );
      }
      const stats = await Promise.all(images.map((f) => stat(f.abs).catch(() => null)));
      images.forEach((f, i) => {
        const st = stats[i];
        files.push({ ...f, label, split: p.split, size: st?.size ?? -1, mtimeMs: st?.mtimeMs ?? -1 });
      });
    }
  }
  return { root, classNames, split: sf ? 'folders' : 'seeded', files, ignored };
}

/** Reads the first `HEADER_BYTES` of a file. */
async function readHead(file: string): Promise<Uint8Array | null> {
  try {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
const examples = (rels: string[]): string => rels.slice(0, 3).join(', ') + (rels.length > 3 ? ', …' : '');

/** The cache key: the folder, its image files' names, sizes and times, and the options that shape the bytes. */
function cacheKey(s: Scan, opts: ImageFolderOptions): string {
  const lines = s.files.map((f) => `${f.split}|${f.label}|${f.rel}|${f.size}|${Math.round(f.mtimeMs)}`);
  lines.unshift(
    'image-folder v1',
    s.root,
    s.classNames.join('/'),
    `size=${opts.imageSize?.join('x') ?? 'auto'} colour=${opts.colorMode ?? 'auto'} model=${opts.modelChannels ?? '-'}`,
  );
  return sha256Hex(Buffer.from(lines.join('\n')));
}

/**
 * Loads an image folder (see the module comment). Every refusal is a DataError naming the folder or file; a
 * folder whose images are all unreadable, or a class left with none, is refused too.
 */
export async function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<Dataset> {
  const root = path.resolve(dir);
  if (opts.imageSize) {
    const [h, w] = opts.imageSize;
    if (![h, w].every((v) => Number.isInteger(v) && v >= 1 && v <= 4096)) {
      throw new DataError(`image size ${h}×${w}: height and width must be whole numbers from 1 to 4096`, root);
    }
  }
  const s = await scan(root);
  const key = cacheKey(s, opts);
  if (!opts.noCache) {
    const cached = await readImageFolderCache(key);
    if (cached) {
      refuseSkippedIfStrict(root, cached.info.imageFolder!.skipped, opts);
      return { ...cached, source: root };
    }
  }

  // ---- survey: headers only
  const heads = await mapLimit(s.files, 16, async (f) => {
    const head = await readHead(f.abs);
    return head ? probeImageHeader(head) : null;
  });
  const skipped: SkippedImage[] = [];
  const skippedIdx = new Set<number>();
  const skip = (i: number, reason: string) => {
    const f = s.files[i]!;
    if (opts.strict) throw new DataError(`${f.abs}: ${reason} (refused by --strict; without it the image would be skipped and listed)`, f.abs);
    skipped.push({ path: f.rel, reason });
    skippedIdx.add(i);
  };
  heads.forEach((h, i) => {
    if (!h) skip(i, s.files[i]!.size === 0 ? 'the file is empty' : 'not a readable PNG or JPEG (its header cannot be read)');
  });
  const good = heads.map((h, i) => (h && !skippedIdx.has(i) ? { h, i } : null)).filter((x): x is { h: ImageHeader; i: number } => x !== null);
  const sizeCounts = new Map<string, { height: number; width: number; count: number }>();
  for (const { h } of good) {
    const k = `${h.height}x${h.width}`;
    const e = sizeCounts.get(k) ?? { height: h.height, width: h.width, count: 0 };
    e.count++;
    sizeCounts.set(k, e);
  }
  const sizes = [...sizeCounts.values()].sort((a, b) => b.count - a.count || b.height * b.width - a.height * a.width);
  if (sizes.length === 0) {
    throw new DataError(`${root}: none of its ${plural(s.files.length, 'image')} can be read (first: ${skipped.slice(0, FIRST_N).map((k) => `${k.path}: ${k.reason}`).join('; ')})`, root);
  }
  const imageSize: [number, number] = opts.imageSize ?? [sizes[0]!.height, sizes[0]!.width];
  const sourceColorMode: ColorMode = good.some(({ h }) => h.colour !== 'gray') ? 'rgb' : 'grayscale';
  const colorMode: ColorMode = opts.colorMode ?? (opts.modelChannels === 1 ? 'grayscale' : opts.modelChannels === 3 ? 'rgb' : sourceColorMode);
  const channels = colorMode === 'rgb' ? 3 : 1;

  // ---- decode
  const jobs: DecodeJob[] = good.map(({ h, i }) => ({ file: s.files[i]!.abs, height: imageSize[0], width: imageSize[1], channels, pixels: h.width * h.height }));
  const results = await decodeAll(jobs, { threads: opts.threads, onDone: opts.onProgress });
  const shaOf = new Map<number, string>();
  const bytesOf = new Map<number, Uint8Array>();
  const transparent: string[] = [];
  results.forEach((r, j) => {
    const i = good[j]!.i;
    if (r.sha256) shaOf.set(i, r.sha256);
    if (!r.ok) return skip(i, r.reason);
    bytesOf.set(i, r.bytes);
    if (r.transparent) transparent.push(s.files[i]!.rel);
  });

  // ---- sets
  const per = imageSize[0] * imageSize[1] * channels;
  const k = s.classNames.length;
  const kept = s.files.map((_, i) => i).filter((i) => bytesOf.has(i));
  for (let c = 0; c < k; c++) {
    if (!kept.some((i) => s.files[i]!.label === c && s.files[i]!.split !== 'test')) {
      const dirOf = path.join(root, s.split === 'folders' ? path.dirname(s.files.find((f) => f.split === 'train')!.rel) : '', s.classNames[c]!);
      throw new DataError(`${dirOf}: none of the images of class "${s.classNames[c]}" can be read (${skipped.filter((x) => x.path.includes(`${s.classNames[c]}/`)).slice(0, FIRST_N).map((x) => `${x.path}: ${x.reason}`).join('; ')})`, dirOf);
    }
  }
  let trainIdx: number[];
  let testIdx: number[];
  if (s.split === 'folders') {
    trainIdx = kept.filter((i) => s.files[i]!.split === 'train');
    testIdx = kept.filter((i) => s.files[i]!.split === 'test');
  } else {
    // Stratified: a fifth of each class, so a small class is not left out of the test set by chance.
    trainIdx = [];
    testIdx = [];
    for (let c = 0; c < k; c++) {
      const ofClass = kept.filter((i) => s.files[i]!.label === c);
      if (ofClass.length < 2) {
        throw new DataError(`${path.join(root, s.classNames[c]!)}: class "${s.classNames[c]}" has ${ofClass.length} readable image; at least 2 are needed to hold one out for testing (or give train/ and test/ folders)`, path.join(root, s.classNames[c]!));
      }
      const { train, validation } = splitIndices(ofClass.length, IMAGE_TEST_FRACTION, IMAGE_TEST_SEED + c);
      for (const t of train) trainIdx.push(ofClass[t]!);
      for (const t of validation) testIdx.push(ofClass[t]!);
    }
  }
  if (testIdx.length === 0) {
    throw new DataError(`${root}: the test set is empty (no readable image under ${s.split === 'folders' ? 'test/' : 'the held-out split'})`, root);
  }
  // A seeded shuffle, so "the first N images" (limits, galleries) mixes the classes as Keras' shuffle=True would.
  const rng = mulberry32(IMAGE_TEST_SEED);
  const order = (idx: number[]) => Array.from(shuffleInPlace(Int32Array.from(idx), rng));
  trainIdx = order(trainIdx);
  testIdx = order(testIdx);
  const makeSet = (idx: number[]): ImageSet => {
    const images = new Uint8Array(idx.length * per);
    const labels = new Uint8Array(idx.length);
    idx.forEach((i, n) => {
      images.set(bytesOf.get(i)!, n * per);
      labels[n] = s.files[i]!.label;
    });
    return { images, labels, count: idx.length, height: imageSize[0], width: imageSize[1], channels };
  };
  const train = makeSet(trainIdx);
  const test = makeSet(testIdx);
  const classCounts = { train: new Array<number>(k).fill(0), test: new Array<number>(k).fill(0) };
  for (const l of train.labels) classCounts.train[l]!++;
  for (const l of test.labels) classCounts.test[l]!++;

  // ---- fingerprint: the files' names and bytes, and what they were turned into
  const manifest = s.files.map((f, i) => `${f.split}|${f.label}|${f.rel}|${shaOf.get(i) ?? 'unreadable'}`);
  manifest.push(`size=${imageSize.join('x')} colour=${colorMode}`);
  const fp = fingerprint(Buffer.from(manifest.join('\n')));

  const folder: ImageFolderInfo = {
    split: s.split === 'folders' ? { kind: 'folders' } : { kind: 'seeded', testFraction: IMAGE_TEST_FRACTION, seed: IMAGE_TEST_SEED },
    colorMode,
    sourceColorMode,
    imageSize,
    imageSizeFrom: opts.imageSize ? 'option' : 'most-common',
    sizes: sizes.slice(0, 8),
    classCounts,
    skipped: { count: skipped.length, first: skipped.slice(0, FIRST_N) },
    ignored: { count: s.ignored.length, first: s.ignored.slice(0, FIRST_N) },
    notes: notesOf(s, heads, skippedIdx, sizes, imageSize, colorMode, sourceColorMode, opts, skipped, transparent),
  };
  const name = path.basename(root);
  const info: DatasetInfo = {
    id: `${slugify(name)}-${fp.slice(0, 8)}`,
    name,
    format: 'images',
    location: root,
    trainCount: train.count,
    testCount: test.count,
    imageShape: [imageSize[0], imageSize[1], channels],
    classNames: s.classNames,
    fingerprint: fp,
    imageFolder: folder,
  };
  const ds: Dataset = { info, train, test, source: root };
  if (!opts.noCache) await writeImageFolderCache(key, ds).catch(() => undefined);
  return ds;
}

function refuseSkippedIfStrict(root: string, skipped: ImageFolderInfo['skipped'], opts: ImageFolderOptions): void {
  if (!opts.strict || skipped.count === 0) return;
  const first = skipped.first[0]!;
  const abs = path.join(root, first.path);
  throw new DataError(`${abs}: ${first.reason} (refused by --strict; without it the image would be skipped and listed)`, abs);
}

/** One sentence per thing done to the data that the user should know about. */
function notesOf(
  s: Scan,
  heads: (ImageHeader | null)[],
  skippedIdx: Set<number>,
  sizes: ImageFolderInfo['sizes'],
  imageSize: [number, number],
  colorMode: ColorMode,
  sourceColorMode: ColorMode,
  opts: ImageFolderOptions,
  skipped: SkippedImage[],
  transparent: string[],
): string[] {
  const notes: string[] = [];
  const relsWhere = (pred: (h: ImageHeader) => boolean) => heads.flatMap((h, i) => (h && !skippedIdx.has(i) && pred(h) ? [s.files[i]!.rel] : []));
  const [H, W] = imageSize;
  if (sizes.length > 1) {
    const list = sizes.slice(0, 4).map((z) => `${z.height}×${z.width}: ${z.count}`).join(', ');
    notes.push(
      `Mixed sizes: the images come in ${sizes.length} sizes (${list}${sizes.length > 4 ? ', …' : ''}); all are resized to ${H}×${W}` +
        (opts.imageSize ? ' (as asked)' : ' (the most common size; --image-size HxW to choose another)'),
    );
  } else if (sizes[0]!.height !== H || sizes[0]!.width !== W) {
    notes.push(`All images are ${sizes[0]!.height}×${sizes[0]!.width}; resized to ${H}×${W} as asked.`);
  }
  const sixteen = relsWhere((h) => h.kind === 'png' && h.bitDepth === 16);
  if (sixteen.length > 0) notes.push(`${plural(sixteen.length, '16-bit PNG')} reduced to 8 bits per channel (${examples(sixteen)}).`);
  const cmyk = relsWhere((h) => h.colour === 'cmyk');
  if (cmyk.length > 0) notes.push(`${plural(cmyk.length, 'CMYK JPEG')} converted to RGB (${examples(cmyk)}); colours may differ slightly from a colour-managed viewer.`);
  if (transparent.length > 0) {
    const pal = transparent.filter((r) => heads[s.files.findIndex((f) => f.rel === r)]?.palette).length;
    notes.push(
      `${plural(transparent.length, 'image')} with transparency${pal > 0 ? ` (${pal} palette PNG${pal === 1 ? '' : 's'} with a tRNS chunk)` : ''}: transparent pixels are composited over black (${examples(transparent)}).`,
    );
  }
  const big = relsWhere((h) => h.width * h.height > BIG_PIXELS);
  if (big.length > 0) {
    const largest = heads.reduce((m, h) => (h && h.width * h.height > m.width * m.height ? h : m), { width: 0, height: 0 } as { width: number; height: number });
    notes.push(`${plural(big.length, 'large image')} (up to ${largest.width}×${largest.height}) decoded one at a time and shrunk to ${H}×${W} (${examples(big)}).`);
  }
  if (colorMode === 'grayscale' && sourceColorMode === 'rgb') {
    notes.push(
      `Colour images read as grayscale (BT.601 luminance)${opts.colorMode ? ' as asked' : opts.modelChannels === 1 ? ': the model takes 1 channel' : ''}; --color-mode rgb and a model input of ${H}×${W}×3 keep the colour.`,
    );
  }
  if (skipped.length > 0) {
    notes.push(`${plural(skipped.length, 'unreadable image')} skipped: ${skipped.slice(0, 3).map((k) => `${k.path} (${k.reason})`).join('; ')}${skipped.length > 3 ? '; …' : ''}.`);
  }
  if (s.ignored.length > 0) notes.push(`${plural(s.ignored.length, 'file')} that ${s.ignored.length === 1 ? 'is' : 'are'} not PNG or JPEG ignored (${examples(s.ignored)}).`);
  return notes;
}
