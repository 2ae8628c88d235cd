import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError } from './errors';
import { parseIdx, readIdxFile } from './idx';
import { DEBIAN_FASHION_MNIST_DIR } from './locate';
import { cleanup, realIdx, tempDir } from './testkit';

/** Asserts that `fn` throws a DataError whose message names `file` and matches `pattern`. */
function assertDataError(fn: () => unknown, file: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.name, 'DataError');
    assert.ok(err.message.includes(file), `message should name ${file}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('IDX reader on the real Debian Fashion-MNIST files', () => {
  it('reads the training set: 60000 images of 28x28, labels < 10, first labels 9 0 0 3', async () => {
    const images = await readIdxFile(path.join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
    const labels = await readIdxFile(path.join(DEBIAN_FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz'));
    assert.deepEqual(images.dims, [60000, 28, 28]);
    assert.equal(images.data.length, 60000 * 28 * 28);
    assert.deepEqual(labels.dims, [60000]);
    assert.deepEqual(Array.from(labels.data.subarray(0, 4)), [9, 0, 0, 3]);
    assert.ok(labels.data.every((l) => l < 10));
    // Every class appears: Fashion-MNIST is balanced, 6000 per class.
    const perClass = new Array<number>(10).fill(0);
    for (const l of labels.data) perClass[l]!++;
    assert.deepEqual(perClass, new Array<number>(10).fill(6000));
  });

  it('reads the test set: 10000 images of 28x28, labels < 10', async () => {
    const images = await readIdxFile(path.join(DEBIAN_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));
    const labels = await readIdxFile(path.join(DEBIAN_FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz'));
    assert.deepEqual(images.dims, [10000, 28, 28]);
    assert.deepEqual(labels.dims, [10000]);
    assert.ok(labels.data.every((l) => l < 10));
  });
});

describe('IDX reader: raw vs gzip and corrupt inputs (derived from real bytes)', () => {
  let raw: Uint8Array;
  let dir: string;
  before(async () => {
    raw = await realIdx('testLabels');
    dir = tempDir();
  });
  after(() => cleanup(dir));

  it('gives identical results for raw and gzip-compressed bytes, detected by magic not by name', () => {
    const fromRaw = parseIdx(raw, 'labels');
    const fromGz = parseIdx(gzipSync(raw), 'labels');
    assert.deepEqual(fromGz.dims, fromRaw.dims);
    assert.deepEqual(Buffer.from(fromGz.data), Buffer.from(fromRaw.data));
  });

  it('reads a raw file from disk', async () => {
    const file = path.join(dir, 't10k-labels-idx1-ubyte');
    writeFileSync(file, raw);
    const parsed = await readIdxFile(file);
    assert.deepEqual(parsed.dims, [10000]);
  });

  it('rejects a wrong magic number, naming the file', () => {
    const bad = raw.slice();
    bad[0] = 0x50; // e.g. a PNG or text file renamed
    assertDataError(() => parseIdx(bad, 'bad-magic.idx'), 'bad-magic.idx', /magic number is 50 00 08 01/);
  });

  it('rejects a non-byte IDX data type', () => {
    const bad = raw.slice();
    bad[2] = 0x0d;
    assertDataError(() => parseIdx(bad, 'floats.idx'), 'floats.idx', /0x0d \(float\) is not supported/);
  });

  it('rejects a truncated header', () => {
    assertDataError(() => parseIdx(raw.slice(0, 6), 'short-header.idx'), 'short-header.idx', /truncated IDX header.*needs 8.*has 6/);
    assertDataError(() => parseIdx(raw.slice(0, 2), 'tiny.idx'), 'tiny.idx', /truncated IDX header/);
  });

  it('rejects a truncated payload, saying how many bytes were expected', () => {
    assertDataError(() => parseIdx(raw.slice(0, raw.length - 100), 'cut.idx'), 'cut.idx', /truncated IDX payload.*need 10000 bytes.*has 9900/);
  });

  it('rejects trailing bytes beyond the dims', () => {
    const longer = new Uint8Array(raw.length + 3);
    longer.set(raw);
    assertDataError(() => parseIdx(longer, 'long.idx'), 'long.idx', /3 bytes longer/);
  });

  it('rejects a truncated gzip stream', () => {
    const gz = gzipSync(raw);
    assertDataError(() => parseIdx(gz.subarray(0, gz.length >> 1), 'cut.gz'), 'cut.gz', /not a valid gzip file/);
  });

  it('reports a missing file by name', async () => {
    const missing = path.join(dir, 'nope-idx1-ubyte.gz');
    await assert.rejects(readIdxFile(missing), (err: unknown) => err instanceof DataError && err.message.includes(missing) && /ENOENT/.test(err.message));
  });
});

describe('gunzip with an output limit (issue 13, finding 4)', () => {
  it('a small gzip that inflates past the limit is refused naming the file, sync and async; within it, it loads', async () => {
    const { maybeGunzip, maybeGunzipAsync, MAX_GUNZIP_BYTES } = await import('./idx');
    // 8 MB of zeros compress to ~8 KB: the shape of a gzip bomb, scaled down to a 4 MB limit.
    const bomb = gzipSync(new Uint8Array(8 * 2 ** 20));
    assert.ok(bomb.length < 64 * 1024);
    assertDataError(() => maybeGunzip(bomb, 'bomb-idx3-ubyte.gz', 4 * 2 ** 20), 'bomb-idx3-ubyte.gz', /inflates to more than 4 MB, the most a data file may hold unpacked; refused/);
    await assert.rejects(maybeGunzipAsync(bomb, 'bomb.gz', 4 * 2 ** 20), (err: unknown) => err instanceof DataError && /bomb\.gz: inflates to more than 4 MB/.test(err.message));
    assert.equal(maybeGunzip(bomb, 'ok.gz', 16 * 2 ** 20).length, 8 * 2 ** 20);
    assert.equal(MAX_GUNZIP_BYTES, 2 ** 30, 'the default limit: 1 GB');
  });
});
