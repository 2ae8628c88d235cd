import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseCsv } from './csv';
import { DataError } from './errors';
import { csvFromIdx, realIdx } from './testkit';

function assertDataError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.ok(err.message.startsWith('train.csv:'), `message should name the file: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('Kaggle-style CSV', () => {
  let images: Uint8Array;
  let labels: Uint8Array;
  let text: string;
  before(async () => {
    images = await realIdx('testImages');
    labels = await realIdx('testLabels');
    text = csvFromIdx(images, labels, 50);
  });

  it('parses real images back to the same bytes and labels (header label,pixel1..pixel784)', () => {
    const set = parseCsv(text, 'train.csv');
    assert.equal(set.count, 50);
    assert.deepEqual([set.height, set.width, set.channels], [28, 28, 1]);
    assert.deepEqual(Buffer.from(set.images), Buffer.from(images.subarray(16, 16 + 50 * 784)));
    assert.deepEqual(Buffer.from(set.labels), Buffer.from(labels.subarray(8, 58)));
  });

  it('accepts CRLF line ends, pixel0-based headers (Kaggle MNIST) and blank trailing lines', () => {
    const lines = text.trimEnd().split('\n');
    lines[0] = 'label,' + Array.from({ length: 784 }, (_, i) => `pixel${i}`).join(',');
    const set = parseCsv(lines.join('\r\n') + '\r\n\r\n', 'train.csv');
    assert.equal(set.count, 50);
    assert.deepEqual(Buffer.from(set.labels), Buffer.from(labels.subarray(8, 58)));
  });

  it('rejects a bad header', () => {
    const body = text.slice(text.indexOf('\n'));
    assertDataError(() => parseCsv('class,' + text.slice(6), 'train.csv'), /first column must be "label", found "class"/);
    assertDataError(() => parseCsv('label,a,b' + body, 'train.csv'), /column 2 must be "pixel1".*found "a"/);
    assertDataError(() => parseCsv(text.replace('pixel100,', 'pixel999,'), 'train.csv'), /column 101 must be "pixel100", found "pixel999"/);
    assertDataError(() => parseCsv('label,pixel1,pixel2,pixel3\n1,2,3,4\n', 'train.csv'), /3 pixel columns, which is not a square/);
    assertDataError(() => parseCsv('', 'train.csv'), /empty/);
  });

  it('rejects rows with too few or too many columns, naming the line', () => {
    const lines = text.split('\n');
    const short = [...lines];
    short[3] = short[3]!.slice(0, short[3]!.lastIndexOf(','));
    assertDataError(() => parseCsv(short.join('\n'), 'train.csv'), /line 4 has 784 columns, the header has 785/);
    const long = [...lines];
    long[5] = long[5] + ',0,0';
    assertDataError(() => parseCsv(long.join('\n'), 'train.csv'), /line 6 has 787 columns, the header has 785/);
  });

  it('rejects non-numeric and out-of-range pixels, naming line, column and value', () => {
    const lines = text.split('\n');
    const fields = lines[2]!.split(',');
    fields[10] = 'abc';
    const nonNumeric = [...lines];
    nonNumeric[2] = fields.join(',');
    assertDataError(() => parseCsv(nonNumeric.join('\n'), 'train.csv'), /line 3, column "pixel10": expected a whole number in 0–255, found "abc"/);
    fields[10] = '256';
    const tooBig = [...lines];
    tooBig[2] = fields.join(',');
    assertDataError(() => parseCsv(tooBig.join('\n'), 'train.csv'), /line 3, column "pixel10": pixel value 256 is outside 0–255/);
    fields[10] = '-1';
    const negative = [...lines];
    negative[2] = fields.join(',');
    assertDataError(() => parseCsv(negative.join('\n'), 'train.csv'), /found "-1"/);
    fields[10] = '';
    const empty = [...lines];
    empty[2] = fields.join(',');
    assertDataError(() => parseCsv(empty.join('\n'), 'train.csv'), /found ""/);
  });

  it('rejects a label outside [0, classes)', () => {
    const lines = text.split('\n');
    lines[7] = '10' + lines[7]!.slice(lines[7]!.indexOf(','));
    assertDataError(() => parseCsv(lines.join('\n'), 'train.csv'), /line 8: label 10 is outside \[0, 10\)/);
    assertDataError(() => parseCsv(text, 'train.csv', { numClasses: 3 }), /label \d is outside \[0, 3\)/);
  });

  it('rejects a header without rows', () => {
    assertDataError(() => parseCsv(text.slice(0, text.indexOf('\n') + 1), 'train.csv'), /no image rows/);
  });
});
