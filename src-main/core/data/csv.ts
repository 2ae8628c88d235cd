import { DataError } from './errors';
import type { ImageSet } from './types';

/** Options for `parseCsv`. */
export interface CsvOptions {
  /** Labels must lie in [0, numClasses). Default 10 (Fashion-MNIST, MNIST). */
  numClasses?: number;
}

const COMMA = 44;
const LF = 10;
const CR = 13;
const SPACE = 32;
const ZERO = 48;
const NINE = 57;

/**
 * Parses a Kaggle-style image CSV: a header `label,pixel1,…,pixelN` (or `pixel0…pixelN-1`, as Kaggle's MNIST
 * spells it), then one image per line: an integer label and N integer pixels in 0–255. N must be a square
 * (28×28 = 784): images are taken as square, single-channel.
 *
 * Hand-rolled over char codes rather than split(',') because the Fashion-MNIST training CSV is 47 million
 * fields; errors name the file, the line, the column and the value received.
 */
export function parseCsv(text: string, fileName: string, opts: CsvOptions = {}): ImageSet {
  return parseCsvBytes(new TextEncoder().encode(text), fileName, opts);
}

/**
 * `parseCsv` over the file's bytes as read: skips decoding 130 MB into a string (CSV image data is ASCII;
 * only the header and offending fields are decoded, for messages).
 */
export function parseCsvBytes(text: Uint8Array, fileName: string, opts: CsvOptions = {}): ImageSet {
  const numClasses = opts.numClasses ?? 10;
  const headerEnd = lineEnd(text, 0);
  const header = decode(text, 0, headerEnd).replace(/^\uFEFF/, '').trim();
  if (header.length === 0) throw new DataError(`${fileName}: the CSV is empty: expected a header "label,pixel1,...,pixel784"`, fileName);
  const columns = header.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  if (columns[0]!.toLowerCase() !== 'label') {
    throw new DataError(`${fileName}: bad CSV header: the first column must be "label", found "${columns[0]}"`, fileName);
  }
  const pixelCount = columns.length - 1;
  if (pixelCount === 0) throw new DataError(`${fileName}: bad CSV header: no pixel columns after "label"`, fileName);
  const first = /^pixel(\d+)$/i.exec(columns[1]!);
  const base = first ? Number(first[1]) : -1;
  if (base !== 0 && base !== 1) {
    throw new DataError(`${fileName}: bad CSV header: column 2 must be "pixel1" (or "pixel0"), found "${columns[1]}"`, fileName);
  }
  for (let c = 1; c < columns.length; c++) {
    if (columns[c]!.toLowerCase() !== `pixel${base + c - 1}`) {
      throw new DataError(`${fileName}: bad CSV header: column ${c + 1} must be "pixel${base + c - 1}", found "${columns[c]}"`, fileName);
    }
  }
  const side = Math.round(Math.sqrt(pixelCount));
  if (side * side !== pixelCount) {
    throw new DataError(`${fileName}: the CSV has ${pixelCount} pixel columns, which is not a square image (e.g. 784 = 28×28)`, fileName);
  }

  // Upper bound on rows: one per line break after the header.
  let maxRows = 1;
  for (let i = text.indexOf(LF, headerEnd); i !== -1; i = text.indexOf(LF, i + 1)) maxRows++;
  const images = new Uint8Array(maxRows * pixelCount);
  const labels = new Uint8Array(maxRows);
  const ncols = pixelCount + 1;

  let pos = skipLineBreak(text, headerEnd);
  let line = 2;
  let count = 0;
  const len = text.length;
  while (pos < len) {
    const end = lineEnd(text, pos);
    if (decode(text, pos, end).trim() === '') {
      pos = skipLineBreak(text, end);
      line++;
      continue;
    }
    let p = pos;
    for (let col = 0; col < ncols; col++) {
      let value = 0;
      let digits = 0;
      let bad = false;
      const fieldStart = p;
      while (p < end && text[p] !== COMMA) {
        const ch = text[p]!;
        if (ch >= ZERO && ch <= NINE) {
          value = value * 10 + (ch - ZERO);
          digits++;
        } else if (ch !== SPACE) {
          bad = true;
        }
        p++;
      }
      const column = col === 0 ? 'label' : columns[col]!;
      if (bad || digits === 0) {
        const raw = decode(text, fieldStart, p);
        throw new DataError(
          `${fileName}: line ${line}, column "${column}": expected a whole number${col === 0 ? '' : ' in 0–255'}, found "${raw}"`,
          fileName,
        );
      }
      if (col === 0) {
        if (value >= numClasses) {
          throw new DataError(`${fileName}: line ${line}: label ${value} is outside [0, ${numClasses})`, fileName);
        }
        labels[count] = value;
      } else {
        if (value > 255) {
          throw new DataError(`${fileName}: line ${line}, column "${column}": pixel value ${value} is outside 0–255`, fileName);
        }
        images[count * pixelCount + col - 1] = value;
      }
      if (col < ncols - 1) {
        if (p >= end) throw new DataError(`${fileName}: line ${line} has ${col + 1} columns, the header has ${ncols}`, fileName);
        p++; // the comma
      }
    }
    if (p < end) {
      const extra = decode(text, p, end).split(',').length - 1;
      throw new DataError(`${fileName}: line ${line} has ${ncols + extra} columns, the header has ${ncols}`, fileName);
    }
    count++;
    pos = skipLineBreak(text, end);
    line++;
  }
  if (count === 0) throw new DataError(`${fileName}: the CSV has a header but no image rows`, fileName);
  return {
    images: images.slice(0, count * pixelCount),
    labels: labels.slice(0, count),
    count,
    height: side,
    width: side,
    channels: 1,
  };
}

/** Index of the end of the line starting at `pos` (the position of its \r or \n, or the text's end). */
function lineEnd(text: Uint8Array, pos: number): number {
  const nl = text.indexOf(LF, pos);
  const end = nl === -1 ? text.length : nl;
  return end > pos && text[end - 1] === CR ? end - 1 : end;
}

/** Position just after the line break at `end` (handles \n and \r\n). */
function skipLineBreak(text: Uint8Array, end: number): number {
  let p = end;
  if (text[p] === CR) p++;
  if (text[p] === LF) p++;
  return p;
}

const decoder = new TextDecoder();
function decode(bytes: Uint8Array, from: number, to: number): string {
  return decoder.decode(bytes.subarray(from, to));
}
