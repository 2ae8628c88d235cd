import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../fsutil';
import { userDataDir } from '../paths';
import { DataError, describeError } from './errors';
import { sha256Hex } from './fingerprint';
import { maybeGunzipAsync } from './idx';

/** The four IDX files of an MNIST-style dataset, by role, in the order they are fingerprinted. */
export const IDX_ROLES = ['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const;
export type IdxRole = (typeof IDX_ROLES)[number];

/** Standard file names (without `.gz`), as LeCun and zalando publish them. */
export const IDX_FILE_NAMES: Record<IdxRole, string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** The Debian package `dataset-fashion-mnist` installs here. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
/** Where a Debian-style MNIST would live, if one is installed. */
export const DEBIAN_MNIST_DIR = '/usr/share/datasets/mnist';

/** Zalando's official mirrors, tried in order: the S3 website the README links, then the GitHub repository. */
export const FASHION_MNIST_MIRRORS = [
  'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
];

/**
 * Size and SHA-256 of each Fashion-MNIST file's *decompressed* IDX bytes. We verify the content, not the
 * .gz wrapper, because mirrors recompress (Debian's .gz files differ from zalando's by their gzip header)
 * while the data must be byte-identical. `gzBytes` only seeds the progress total before Content-Length arrives.
 */
export const FASHION_MNIST_FILES: Record<IdxRole, { size: number; sha256: string; gzBytes: number }> = {
  trainImages: { size: 47040016, sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888', gzBytes: 26421880 },
  trainLabels: { size: 60008, sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9', gzBytes: 29515 },
  testImages: { size: 7840016, sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b', gzBytes: 4422102 },
  testLabels: { size: 10008, sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34', gzBytes: 5148 },
};

/**
 * Finds the four IDX files of a dataset in `dir`, accepting `name`, `name.gz` and the dotted spelling
 * (`train-images.idx3-ubyte`) some unpackers produce. Returns null unless all four are present.
 */
export function findIdxFiles(dir: string): Record<IdxRole, string> | null {
  const found: Partial<Record<IdxRole, string>> = {};
  for (const role of IDX_ROLES) {
    const hit = findIdxFile(dir, role);
    if (!hit) return null;
    found[role] = hit;
  }
  return found as Record<IdxRole, string>;
}

/** The file playing `role` in `dir` under any accepted spelling, or null. */
export function findIdxFile(dir: string, role: IdxRole): string | null {
  const base = IDX_FILE_NAMES[role];
  const dotted = base.replace(/-(idx\d-ubyte)$/, '.$1');
  return [base, `${base}.gz`, dotted, `${dotted}.gz`].map((n) => path.join(dir, n)).find((p) => existsSync(p)) ?? null;
}

/** Options for `locateFashionMnist`. */
export interface LocateOptions {
  /** The user's Fashion-MNIST folder: searched first, downloaded into. Default `userDataDir()/fashion-mnist`. */
  dataDir?: string;
  /** Download when no copy is found. Default true. */
  download?: boolean;
  /** Called as bytes arrive: bytes received so far and the expected total over all missing files. */
  onProgress?: (received: number, total: number) => void;
  /** Folders searched after `dataDir`. Default: the Debian location. (Tests pass [] to force a download.) */
  systemDirs?: string[];
  /** Base URLs to download from, tried in order. Default: zalando's official mirrors. */
  mirrors?: string[];
  /** Give up on a mirror when no bytes arrive for this long. Default 30 s. */
  idleTimeoutMs?: number;
}

/**
 * The folder holding Fashion-MNIST's four IDX files: the user's data folder, then Debian's, else a download
 * from zalando's mirrors (size and SHA-256 checked, written atomically into the user's folder).
 * Offline, the download fails with a DataError naming every URL tried, after at most `idleTimeoutMs` each.
 */
export async function locateFashionMnist(opts: LocateOptions = {}): Promise<string> {
  const dataDir = opts.dataDir ?? path.join(userDataDir(), 'fashion-mnist');
  const dirs = [dataDir, ...(opts.systemDirs ?? [DEBIAN_FASHION_MNIST_DIR])];
  for (const dir of dirs) if (findIdxFiles(dir)) return dir;
  if (opts.download === false) {
    throw new DataError(
      `Fashion-MNIST not found in ${dirs.join(' or ')}; install the Debian package dataset-fashion-mnist, or allow the download`,
      dataDir,
    );
  }
  await downloadFashionMnist(dataDir, opts);
  return dataDir;
}

/** The folder holding MNIST's four IDX files (the user's data folder, then Debian's), or null. No download. */
export function locateMnist(opts: { dataDir?: string; systemDirs?: string[] } = {}): string | null {
  const dirs = [opts.dataDir ?? path.join(userDataDir(), 'mnist'), ...(opts.systemDirs ?? [DEBIAN_MNIST_DIR])];
  return dirs.find((d) => findIdxFiles(d) !== null) ?? null;
}

async function downloadFashionMnist(dataDir: string, opts: LocateOptions): Promise<void> {
  const mirrors = opts.mirrors ?? FASHION_MNIST_MIRRORS;
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (err) {
    throw new DataError(`${dataDir}: cannot create the data folder for the download: ${describeError(err)}`, dataDir);
  }
  // Only the files not already there: a download interrupted after two files resumes with the other two.
  const missing = IDX_ROLES.filter((role) => !existsSync(path.join(dataDir, `${IDX_FILE_NAMES[role]}.gz`)));
  const totals = new Map<IdxRole, number>(missing.map((r) => [r, FASHION_MNIST_FILES[r].gzBytes]));
  const received = new Map<IdxRole, number>();
  const report = () => {
    let got = 0;
    let total = 0;
    for (const r of missing) {
      got += received.get(r) ?? 0;
      total += totals.get(r) ?? 0;
    }
    opts.onProgress?.(got, total);
  };
  for (const role of missing) {
    const fileName = `${IDX_FILE_NAMES[role]}.gz`;
    const failures: string[] = [];
    let done = false;
    for (const mirror of mirrors) {
      const url = new URL(fileName, mirror.endsWith('/') ? mirror : `${mirror}/`).toString();
      try {
        const bytes = await fetchWithIdleTimeout(url, idleMs, (got, total) => {
          received.set(role, got);
          if (total > 0) totals.set(role, total);
          report();
        });
        await verifyDownload(role, bytes, url);
        await writeFileAtomic(path.join(dataDir, fileName), bytes);
        done = true;
        break;
      } catch (err) {
        received.set(role, 0);
        failures.push(`${url}: ${describeError(err)}`);
      }
    }
    if (!done) {
      throw new DataError(
        `Fashion-MNIST was not found in ${[dataDir, ...(opts.systemDirs ?? [DEBIAN_FASHION_MNIST_DIR])].join(' or ')} and could not be downloaded (${fileName}): ${failures.join('; ')}. ` +
          'Install the Debian package dataset-fashion-mnist, or copy the four .gz files into that folder.',
        dataDir,
      );
    }
  }
}

/** Checks a downloaded .gz against the published content size and SHA-256; a mismatch names the URL. */
async function verifyDownload(role: IdxRole, gz: Uint8Array, url: string): Promise<void> {
  const expected = FASHION_MNIST_FILES[role];
  const raw = await maybeGunzipAsync(gz, url);
  if (raw.byteLength !== expected.size) {
    throw new DataError(`${url}: downloaded file decompresses to ${raw.byteLength} bytes, expected ${expected.size}`, url);
  }
  const digest = sha256Hex(raw);
  if (digest !== expected.sha256) {
    throw new DataError(`${url}: SHA-256 mismatch: got ${digest}, expected ${expected.sha256}`, url);
  }
}

/**
 * GETs `url` into memory, aborting when no bytes arrive for `idleMs` (connecting included), so a dead
 * network fails promptly instead of hanging, while a slow but live one still completes.
 */
async function fetchWithIdleTimeout(
  url: string,
  idleMs: number,
  onBytes: (received: number, total: number) => void,
): Promise<Uint8Array> {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
  const bump = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
  };
  try {
    const res = await fetch(url, { signal: controller.signal });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    const total = Number(res.headers.get('content-length') ?? 0);
    const chunks: Uint8Array[] = [];
    let got = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bump();
      chunks.push(value);
      got += value.byteLength;
      onBytes(got, total);
    }
    const out = new Uint8Array(got);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.byteLength;
    }
    return out;
  } catch (err) {
    // fetch wraps the real cause (ECONNREFUSED, ENOTFOUND, our abort reason) in a generic "fetch failed".
    if (controller.signal.aborted) throw controller.signal.reason;
    throw err instanceof Error && err.cause instanceof Error ? err.cause : err;
  } finally {
    clearTimeout(timer);
  }
}
