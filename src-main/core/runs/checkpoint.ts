/**
 * Keras' BackupAndRestore for our runs: after every epoch, `<run>/checkpoint.bin` holds everything needed to
 * continue the run exactly where it was — the model's weights (BatchNorm statistics included), the optimizer's
 * state (slots and step counters), the callbacks' state (EarlyStopping's best weights, ReduceLROnPlateau's
 * counters, the divergence guard's) and the loop's counters. One file written atomically (temp file + rename),
 * so a crash (even `kill -9`) leaves either the previous epoch's checkpoint or this one, never a torn mix of
 * weights from one epoch and optimizer state from another.
 *
 * Layout: "CNNWBCKP" · u32 format · u32 header length · header JSON (UTF-8) · zero padding to 4 bytes ·
 * float32 arrays back to back, in the header's `arrays` order. Little-endian.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../fsutil';

export const CHECKPOINT_FILE = 'checkpoint.bin';
const MAGIC = 'CNNWBCKP';
export const CHECKPOINT_FORMAT = 1;

/** A named float32 array with its shape (a weight, an optimizer slot, a callback's saved weight). */
export interface CheckpointArray {
  /** Which part of the state it belongs to: 'weights', 'optimizer', or `callback:<index>`. */
  group: string;
  name: string;
  shape: number[];
  data: Float32Array;
}

/** JSON-safe values only (non-finite numbers are written as strings by `finiteOrString`). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Everything a resumed run needs besides the spec, hyperparameters and data (which the run folder holds). */
export interface Checkpoint {
  /** Epochs completed (1-based number of the last one); the resumed run starts at epoch `epoch + 1`. */
  epoch: number;
  /** The learning rate the next epoch starts with (ReduceLROnPlateau may have lowered it). */
  learningRate: number;
  /** Optimizer steps taken so far (for the BatchNorm note at evaluation). */
  steps: number;
  lastTrainAccuracy: number | null;
  /** Which training step wrote the optimizer state ('fused' / 'tfjs'): the state of one does not fit the other. */
  stepKind: string;
  /** The step's counters (fused: optimizer steps and Dropout calls). */
  counters: number[];
  /** Per callback, in list order: its JSON state. */
  callbacks: JsonValue[];
  arrays: CheckpointArray[];
}

/** A checkpoint that cannot be read: the message names the file and what is wrong. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

interface Header extends Omit<Checkpoint, 'arrays'> {
  arrays: { group: string; name: string; shape: number[]; length: number }[];
}

/** The file's bytes for `ckpt`. */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const header: Header = {
    ...ckpt,
    arrays: ckpt.arrays.map((a) => ({ group: a.group, name: a.name, shape: a.shape, length: a.data.length })),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = 16 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const floats = ckpt.arrays.reduce((n, a) => n + a.data.length, 0);
  const out = new Uint8Array(dataStart + floats * 4);
  const view = new DataView(out.buffer);
  out.set(Buffer.from(MAGIC, 'ascii'), 0);
  view.setUint32(8, CHECKPOINT_FORMAT, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  const data = new Float32Array(out.buffer, dataStart, floats);
  let at = 0;
  for (const a of ckpt.arrays) {
    data.set(a.data, at);
    at += a.data.length;
  }
  return out;
}

/** Parses the bytes of a checkpoint file; `file` names it in errors. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const bad = (why: string) => new CheckpointError(`${file} is not a usable checkpoint: ${why}`);
  if (bytes.length < 16 || Buffer.from(bytes.subarray(0, 8)).toString('ascii') !== MAGIC) throw bad('it does not start with CNNWBCKP');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = view.getUint32(8, true);
  if (format !== CHECKPOINT_FORMAT) throw bad(`format ${format}, this version reads ${CHECKPOINT_FORMAT}`);
  const length = view.getUint32(12, true);
  if (16 + length > bytes.length) throw bad('its header is cut short');
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + length)).toString('utf8')) as Header;
  } catch (err) {
    throw bad(`its header is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!header || typeof header !== 'object' || !Array.isArray(header.arrays) || !Number.isInteger(header.epoch)) throw bad('its header lacks epoch or arrays');
  const dataStart = Math.ceil((16 + length) / 4) * 4;
  const floats = header.arrays.reduce((n, a) => n + a.length, 0);
  if (bytes.length !== dataStart + floats * 4) throw bad(`it holds ${bytes.length} bytes, its header describes ${dataStart + floats * 4}`);
  // Copy once into an aligned buffer (a Buffer from readFile may start at any offset).
  const all = new Float32Array(floats);
  new Uint8Array(all.buffer).set(bytes.subarray(dataStart));
  let at = 0;
  const arrays = header.arrays.map((a) => {
    const data = all.subarray(at, at + a.length);
    at += a.length;
    return { group: a.group, name: a.name, shape: a.shape, data };
  });
  return { ...header, arrays };
}

/** Writes `<runDir>/checkpoint.bin` atomically. */
export async function writeCheckpoint(runDir: string, ckpt: Checkpoint): Promise<void> {
  await writeFileAtomic(path.join(runDir, CHECKPOINT_FILE), encodeCheckpoint(ckpt));
}

/** Deletes `<runDir>/checkpoint.bin` (a finished run cannot be resumed); no error when there is none. */
export async function removeCheckpoint(runDir: string): Promise<void> {
  await fs.rm(path.join(runDir, CHECKPOINT_FILE), { force: true });
}

/** Reads `<runDir>/checkpoint.bin`, or null when the run has none (no epoch completed). */
export async function readCheckpoint(runDir: string): Promise<Checkpoint | null> {
  const file = path.join(runDir, CHECKPOINT_FILE);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CheckpointError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return decodeCheckpoint(bytes, file);
}

/** A number for JSON: Infinity / NaN become strings ("Infinity"), which `fromJsonNumber` turns back. */
export function finiteOrString(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

export function fromJsonNumber(v: JsonValue | undefined): number {
  return typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
}
