/**
 * Test helpers for the data layer: real Fashion-MNIST bytes (from the Debian package) and temp folders to
 * write derived, corrupted copies into. Not imported by production code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DEBIAN_FASHION_MNIST_DIR, IDX_FILE_NAMES, type IdxRole } from './locate';

/** Decompressed bytes of a Debian Fashion-MNIST file (header included). */
export async function realIdx(role: IdxRole): Promise<Uint8Array> {
  let cached = realCache.get(role);
  if (!cached) {
    cached = readFile(path.join(DEBIAN_FASHION_MNIST_DIR, `${IDX_FILE_NAMES[role]}.gz`)).then((gz) => new Uint8Array(gunzipSync(gz)));
    realCache.set(role, cached);
  }
  // A copy, so a test that corrupts its bytes cannot affect the next one.
  return (await cached).slice();
}
const realCache = new Map<IdxRole, Promise<Uint8Array>>();

/** The first `n` items of a real IDX file, with the count in its header rewritten to `n`. */
export function truncateIdxItems(raw: Uint8Array, n: number): Uint8Array {
  const ndims = raw[3]!;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let itemBytes = 1;
  for (let i = 1; i < ndims; i++) itemBytes *= view.getUint32(4 + 4 * i, false);
  const header = 4 + 4 * ndims;
  const out = raw.slice(0, header + n * itemBytes);
  new DataView(out.buffer).setUint32(4, n, false);
  return out;
}

/** A fresh temp folder; remove it with `cleanup`. */
export function tempDir(prefix = 'cnnwb-data-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes a small IDX dataset folder (first `nTrain` / `nTest` real images), gzipped or raw. */
export async function writeSmallIdxFolder(
  dir: string,
  nTrain: number,
  nTest: number,
  opts: { gzip?: boolean; override?: Partial<Record<IdxRole, Uint8Array>> } = {},
): Promise<Record<IdxRole, string>> {
  const counts: Record<IdxRole, number> = { trainImages: nTrain, trainLabels: nTrain, testImages: nTest, testLabels: nTest };
  const files = {} as Record<IdxRole, string>;
  for (const role of Object.keys(counts) as IdxRole[]) {
    const bytes = opts.override?.[role] ?? truncateIdxItems(await realIdx(role), counts[role]);
    const file = path.join(dir, IDX_FILE_NAMES[role] + (opts.gzip ? '.gz' : ''));
    writeFileSync(file, opts.gzip ? gzipSync(bytes) : bytes);
    files[role] = file;
  }
  return files;
}

/** A Kaggle-style CSV of the first `n` real images of a set (header label,pixel1..pixel784). */
export function csvFromIdx(images: Uint8Array, labels: Uint8Array, n: number): string {
  const px = 784;
  const lines = ['label,' + Array.from({ length: px }, (_, i) => `pixel${i + 1}`).join(',')];
  for (let i = 0; i < n; i++) {
    lines.push(`${labels[8 + i]},${Array.from(images.subarray(16 + i * px, 16 + (i + 1) * px)).join(',')}`);
  }
  return lines.join('\n') + '\n';
}
