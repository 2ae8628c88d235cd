import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataError } from './errors';
import { mulberry32, shuffleInPlace, splitIndices } from './random';

describe('seeded split', () => {
  it('splits 60000 like the lesson: 54000 train / 6000 validation, disjoint and covering', () => {
    const { train, validation } = splitIndices(60000, 0.1, 123);
    assert.equal(train.length, 54000);
    assert.equal(validation.length, 6000);
    const seen = new Uint8Array(60000);
    for (const i of train) seen[i]!++;
    for (const i of validation) seen[i]!++;
    assert.ok(seen.every((c) => c === 1), 'every index exactly once');
    // A shuffle, not the last 10% in file order (Keras' unshuffled validation_split).
    assert.notDeepEqual(Array.from(validation.subarray(0, 10)), [54000, 54001, 54002, 54003, 54004, 54005, 54006, 54007, 54008, 54009]);
  });

  it('is deterministic: the same seed gives the same split, a different seed a different one', () => {
    const a = splitIndices(60000, 0.1, 123);
    const b = splitIndices(60000, 0.1, 123);
    const c = splitIndices(60000, 0.1, 124);
    assert.deepEqual(a.train, b.train);
    assert.deepEqual(a.validation, b.validation);
    assert.notDeepEqual(a.validation, c.validation);
  });

  it('handles small counts and a zero fraction', () => {
    assert.deepEqual([splitIndices(2000, 0.1, 1).train.length, splitIndices(2000, 0.1, 1).validation.length], [1800, 200]);
    assert.equal(splitIndices(10, 0, 1).validation.length, 0);
    assert.equal(splitIndices(0, 0.1, 1).train.length, 0);
  });

  it('rejects a fraction outside [0, 1), naming the field and value', () => {
    assert.throws(() => splitIndices(100, 1, 1), (e: unknown) => e instanceof DataError && /validation_split must be in \[0, 1\), received 1/.test(e.message));
    assert.throws(() => splitIndices(100, -0.2, 1), DataError);
  });
});

describe('mulberry32 and shuffleInPlace', () => {
  it('produces the same stream for the same seed, in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean} should be near 0.5`);
  });

  it('shuffles to a permutation, reproducibly', () => {
    const a = shuffleInPlace(Int32Array.from({ length: 100 }, (_, i) => i), mulberry32(7));
    const b = shuffleInPlace(Int32Array.from({ length: 100 }, (_, i) => i), mulberry32(7));
    assert.deepEqual(a, b);
    assert.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
    assert.notDeepEqual(Array.from(a), Array.from({ length: 100 }, (_, i) => i));
  });
});
