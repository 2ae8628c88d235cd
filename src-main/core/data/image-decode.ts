/**
 * Decoding an image folder's files into the dataset's bytes, in worker threads (two here: the machine's cores)
 * so neither the UI process nor the training worker's event loop stalls, one file per message. Each file is
 * read, hashed (for the folder's fingerprint), decoded and shrunk by predict's own pipeline
 * (`predict/image.ts`: EXIF orientation, alpha over black, BT.601 grayscale, area/bilinear resize), so the
 * same picture is the same input in training and in predict. Large images go one at a time (see `BIG_PIXELS`):
 * a decoded 10,000 × 10,000 photo is 400 MB of RGBA, two at once would double the peak.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { decodeImage, modelPixels } from '../predict/image';

/** What to make of one file. */
export interface DecodeJob {
  file: string;
  height: number;
  width: number;
  channels: number;
  /** Its pixel count from the header, so big images can be kept apart. */
  pixels: number;
}

/** One file's outcome: its SHA-256 and its bytes (height × width × channels), or why it cannot be read. */
export type DecodeResult =
  | { ok: true; sha256: string; bytes: Uint8Array; /** Some pixel is not fully opaque. */ transparent: boolean }
  | { ok: false; sha256: string | null; reason: string };

/** Images above this many pixels are decoded one at a time across all workers. */
export const BIG_PIXELS = 4_000_000;

/** How many decodes have run in this process and its workers (tests read it to see a load served from cache). */
export const decodeCounter = { files: 0 };

/** Reads, hashes and decodes one file into the model's bytes; never throws (a bad file is a result). */
export async function decodeFile(job: DecodeJob): Promise<DecodeResult> {
  let raw: Uint8Array;
  try {
    raw = await readFile(job.file);
  } catch (err) {
    return { ok: false, sha256: null, reason: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  const sha256 = createHash('sha256').update(raw).digest('hex');
  try {
    const img = decodeImage(job.file, raw);
    let transparent = false;
    for (let p = 3; p < img.rgba.length && !transparent; p += 4) transparent = img.rgba[p]! < 255;
    const px = modelPixels(img, job.height, job.width, job.channels);
    const bytes = new Uint8Array(px.length);
    for (let i = 0; i < px.length; i++) bytes[i] = Math.round(px[i]!);
    return { ok: true, sha256, bytes, transparent };
  } catch (err) {
    // decodeImage's messages start with the name given; the folder view shows paths itself.
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, sha256, reason: message.startsWith(`${job.file}: `) ? message.slice(job.file.length + 2) : message };
  }
}

/** The worker entry: under tsx a bootstrap that registers the TS loader, in the Electron bundle its own chunk. */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./image-decode-worker.mjs', import.meta.url) : new URL('./image-decode-worker.js', import.meta.url);
}

/** Below this many files, starting workers costs more than it saves: decode in this thread. */
export const MIN_FILES_FOR_WORKERS = 64;

/**
 * Decodes `jobs` with up to `threads` workers (default: the cores, at most 4) and returns the results in job
 * order. `onDone` is called after each file. Falls back to this thread when workers cannot start.
 */
export async function decodeAll(
  jobs: DecodeJob[],
  opts: { threads?: number; onDone?: (done: number, total: number) => void } = {},
): Promise<DecodeResult[]> {
  const threads = Math.max(0, Math.min(opts.threads ?? Math.min(4, os.availableParallelism()), jobs.length));
  const results = new Array<DecodeResult>(jobs.length);
  let done = 0;
  const finish = (i: number, r: DecodeResult) => {
    results[i] = r;
    done++;
    opts.onDone?.(done, jobs.length);
  };
  if (threads < 1 || jobs.length < MIN_FILES_FOR_WORKERS) {
    for (let i = 0; i < jobs.length; i++) {
      finish(i, await decodeFile(jobs[i]!));
      decodeCounter.files++;
    }
    return results;
  }
  const workers: Worker[] = [];
  try {
    for (let t = 0; t < threads; t++) workers.push(new Worker(workerUrl()));
  } catch {
    for (const w of workers) void w.terminate();
    return decodeAll(jobs, { ...opts, threads: 0 });
  }
  let next = 0;
  let bigInFlight = false;
  const pendingBig: number[] = [];
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            let current = -1;
            const take = (): number => {
              // Big images wait until no other big one is being decoded; small ones go in order.
              if (!bigInFlight && pendingBig.length > 0) return pendingBig.shift()!;
              while (next < jobs.length) {
                const i = next++;
                if (jobs[i]!.pixels <= BIG_PIXELS) return i;
                if (!bigInFlight) return i;
                pendingBig.push(i);
              }
              return -1;
            };
            const send = () => {
              current = take();
              if (current < 0) {
                // Another worker may still free the big slot for images parked while it was busy.
                if (pendingBig.length > 0) setTimeout(send, 5);
                else resolve();
                return;
              }
              if (jobs[current]!.pixels > BIG_PIXELS) bigInFlight = true;
              worker.postMessage(jobs[current]);
            };
            worker.on('message', (r: DecodeResult) => {
              if (jobs[current]!.pixels > BIG_PIXELS) bigInFlight = false;
              decodeCounter.files++;
              finish(current, r);
              send();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (code !== 0) reject(new Error(`an image decoding worker stopped (exit code ${code})`));
            });
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
