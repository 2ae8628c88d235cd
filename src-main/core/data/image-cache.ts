/**
 * The decoded-bytes cache of image-folder datasets: one file per (folder state, options) under
 * `workbenchHome()/cache/image-folders/`, holding the dataset's info and its train and test bytes, so loading an
 * unchanged folder again costs a directory walk and one read instead of decoding every image. The key (see
 * `image-folder.ts`) covers every image file's name, size and modification time, so an edited folder misses.
 * Only the most recent `KEEP` entries, and at most `imageCacheBudget()` bytes of them, are kept: a cache must not
 * grow without bound (a folder of 60,000 224×224 colour photos decodes to 9 GB). A dataset larger than the budget
 * is not cached at all; it is decoded again on each load.
 */
import { mkdir, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DatasetInfo } from '../../shared/contract';
import { parseBudget } from '../model/memory';
import { DataError } from './errors';
import { writeFileAtomic } from '../fsutil';
import { workbenchHome } from '../paths';
import type { Dataset, ImageSet } from './types';

const MAGIC = 'CNNWB-IMAGEFOLDER-1';
const KEEP = 6;
const DEFAULT_BUDGET = 4 * 2 ** 30;

/** Bytes the cache may hold: CNN_WORKBENCH_IMAGE_CACHE_BYTES (bytes, 512M, 8G or a share of memory such as 10%), else 4 GiB. */
export function imageCacheBudget(): number {
  const configured = process.env.CNN_WORKBENCH_IMAGE_CACHE_BYTES;
  if (configured === undefined || configured === '') return DEFAULT_BUDGET;
  try {
    return parseBudget(configured, os.totalmem(), 'CNN_WORKBENCH_IMAGE_CACHE_BYTES');
  } catch (err) {
    throw new DataError((err as Error).message);
  }
}

/** Where the cache files live. */
export function imageCacheDir(): string {
  return path.join(workbenchHome(), 'cache', 'image-folders');
}

/** The cache file of a key. */
export function imageCacheFile(key: string): string {
  return path.join(imageCacheDir(), `${key}.bin`);
}

/** How many loads the cache has answered in this process (tests read it). */
export const cacheCounter = { hits: 0 };

interface Header {
  magic: string;
  info: DatasetInfo;
  train: Omit<ImageSet, 'images' | 'labels'>;
  test: Omit<ImageSet, 'images' | 'labels'>;
}

/** The cached dataset for `key`, or null (missing, unreadable or not ours: the caller decodes afresh). */
export async function readImageFolderCache(key: string): Promise<Omit<Dataset, 'source'> | null> {
  // A mistyped budget is said before any work, not after decoding a whole folder to write it.
  imageCacheBudget();
  const file = imageCacheFile(key);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch {
    return null;
  }
  try {
    const headerLen = buf.readUInt32LE(0);
    const header = JSON.parse(buf.subarray(4, 4 + headerLen).toString('utf8')) as Header;
    if (header.magic !== MAGIC) return null;
    let at = 4 + headerLen;
    const take = (n: number): Uint8Array => {
      if (at + n > buf.length) throw new Error('truncated');
      const out = new Uint8Array(buf.buffer, buf.byteOffset + at, n);
      at += n;
      return out;
    };
    const set = (d: Header['train']): ImageSet => {
      const images = take(d.count * d.height * d.width * d.channels);
      return { ...d, images, labels: take(d.count) };
    };
    const train = set(header.train);
    const test = set(header.test);
    if (at !== buf.length) return null;
    // Touched on use, so pruning drops the least recently used entries.
    const now = new Date();
    await utimes(file, now, now).catch(() => undefined);
    cacheCounter.hits++;
    return { info: header.info, train, test };
  } catch {
    return null;
  }
}

/** Writes the cache file for `key` atomically and prunes old entries. */
export async function writeImageFolderCache(key: string, ds: Dataset): Promise<void> {
  const dims = (s: ImageSet) => ({ count: s.count, height: s.height, width: s.width, channels: s.channels });
  const header: Header = { magic: MAGIC, info: ds.info, train: dims(ds.train), test: dims(ds.test) };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const parts = [len, json, ds.train.images, ds.train.labels, ds.test.images, ds.test.labels];
  const budget = imageCacheBudget();
  if (parts.reduce((n, p) => n + p.length, 0) > budget) return;
  await mkdir(imageCacheDir(), { recursive: true });
  await writeFileAtomic(imageCacheFile(key), Buffer.concat(parts));
  await prune(budget);
}

/** Keeps the most recently used entries: at most `KEEP`, together at most `budget` bytes. */
async function prune(budget: number): Promise<void> {
  const dir = imageCacheDir();
  const names = (await readdir(dir)).filter((n) => n.endsWith('.bin'));
  const entries = await Promise.all(
    names.map(async (n) => {
      const s = await stat(path.join(dir, n)).catch(() => null);
      return { n, t: s?.mtimeMs ?? 0, bytes: s?.size ?? 0 };
    }),
  );
  entries.sort((a, b) => b.t - a.t);
  let held = 0;
  const drop = entries.filter((e, i) => {
    const keep = i < KEEP && held + e.bytes <= budget;
    if (keep) held += e.bytes;
    return !keep;
  });
  await Promise.all(drop.map(({ n }) => rm(path.join(dir, n), { force: true })));
}
