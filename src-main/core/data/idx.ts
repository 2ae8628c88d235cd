import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip, gunzipSync } from 'node:zlib';
import { DataError, describeError } from './errors';

/** A parsed IDX file: its dimensions and its unsigned-byte payload (length = product of dims). */
export interface IdxData {
  dims: number[];
  data: Uint8Array;
}

/** IDX type codes (third magic byte); only 0x08, unsigned bytes, carries images and labels. */
const IDX_TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

/** True when the bytes start with the gzip magic 1f 8b (so `.gz` files renamed without the suffix still load). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Most bytes a data file may inflate to: 20× Fashion-MNIST's training images, yet a 3.6 MB gzip bomb that
 * inflates to 3.5 GB is refused as soon as it passes this instead of exhausting memory.
 */
export const MAX_GUNZIP_BYTES = 1024 ** 3;

function gunzipError(err: unknown, fileName: string, limit: number): DataError {
  if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
    return new DataError(`${fileName}: inflates to more than ${Math.round(limit / 2 ** 20)} MB, the most a data file may hold unpacked; refused`, fileName);
  }
  return new DataError(`${fileName}: not a valid gzip file (truncated or corrupt?): ${describeError(err)}`, fileName);
}

/** Decompresses gzip bytes (at most `limit` out), or returns raw bytes unchanged; a corrupt, truncated or too large gzip stream is a DataError. */
export function maybeGunzip(bytes: Uint8Array, fileName: string, limit = MAX_GUNZIP_BYTES): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes, { maxOutputLength: limit });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw gunzipError(err, fileName, limit);
  }
}

const gunzipAsync = promisify(gunzip);

/**
 * `maybeGunzip` on libuv's thread pool: inflating Fashion-MNIST's 26 MB takes long enough to freeze an
 * Electron main process or a server if done synchronously, and the four files inflate in parallel.
 */
export async function maybeGunzipAsync(bytes: Uint8Array, fileName: string, limit = MAX_GUNZIP_BYTES): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = await gunzipAsync(bytes, { maxOutputLength: limit });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw gunzipError(err, fileName, limit);
  }
}

/**
 * Reads only the IDX header (magic and dims) from decompressed bytes. Shared by the full parser and the
 * cheap header-only listing. Throws a DataError naming the file on a bad magic or a truncated header.
 */
export function parseIdxHeader(raw: Uint8Array, fileName: string): { dims: number[]; headerBytes: number } {
  if (raw.length < 4) {
    throw new DataError(`${fileName}: truncated IDX header: the file has ${raw.length} bytes, the magic number alone needs 4`, fileName);
  }
  if (raw[0] !== 0 || raw[1] !== 0) {
    const magic = Array.from(raw.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DataError(`${fileName}: not an IDX file: magic number is ${magic}, expected 00 00 08 0N`, fileName);
  }
  const type = raw[2]!;
  if (type !== 0x08) {
    const typeName = IDX_TYPE_NAMES[type] ?? 'unknown';
    throw new DataError(
      `${fileName}: IDX data type 0x${type.toString(16).padStart(2, '0')} (${typeName}) is not supported; images and labels must be unsigned bytes (0x08)`,
      fileName,
    );
  }
  const ndims = raw[3]!;
  if (ndims < 1 || ndims > 4) {
    throw new DataError(`${fileName}: IDX header declares ${ndims} dimensions; expected 1 (labels) or 3 (images)`, fileName);
  }
  const headerBytes = 4 + 4 * ndims;
  if (raw.length < headerBytes) {
    throw new DataError(
      `${fileName}: truncated IDX header: ${ndims} dimension${ndims === 1 ? '' : 's'} need${ndims === 1 ? 's' : ''} ${headerBytes} header bytes, the file has ${raw.length}`,
      fileName,
    );
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  return { dims, headerBytes };
}

/**
 * Parses an IDX file (raw, or gzip-compressed — detected by the 1f 8b magic, not by the name).
 * Checks the magic number, the header length and that the payload is exactly the product of the dims.
 * The returned `data` is a view into the (decompressed) bytes, not a copy.
 */
export function parseIdx(bytes: Uint8Array, fileName: string): IdxData {
  const raw = maybeGunzip(bytes, fileName);
  const { dims, headerBytes } = parseIdxHeader(raw, fileName);
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = raw.length - headerBytes;
  if (actual < expected) {
    throw new DataError(
      `${fileName}: truncated IDX payload: dims [${dims.join(', ')}] need ${expected} bytes after the header, the file has ${actual}`,
      fileName,
    );
  }
  if (actual > expected) {
    throw new DataError(
      `${fileName}: IDX payload is ${actual - expected} bytes longer than dims [${dims.join(', ')}] allow (${expected} bytes): wrong header or concatenated files?`,
      fileName,
    );
  }
  return { dims, data: raw.subarray(headerBytes) };
}

/** Reads and parses an IDX file from disk; a missing or unreadable file is a DataError naming it. */
export async function readIdxFile(filePath: string): Promise<IdxData> {
  return parseIdx(await maybeGunzipAsync(await readDataFile(filePath), filePath), filePath);
}

/** Reads a whole file as bytes, turning fs errors (ENOENT, EACCES, EISDIR) into a DataError naming the file. */
export async function readDataFile(filePath: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(filePath);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throw new DataError(`${filePath}: cannot read the file: ${describeError(err)}`, filePath);
  }
}
