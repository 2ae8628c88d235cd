import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCount, formatShape, formatWeightBytes } from './format';

test('counts, shapes and sizes read as in the lesson summary', () => {
  assert.equal(formatCount(468586), '468,586');
  assert.equal(formatCount(384), '384');
  assert.equal(formatShape([null, 28, 28, 1]), '(None, 28, 28, 1)');
  assert.equal(formatWeightBytes(468586), '1.79 MB');
  assert.equal(formatWeightBytes(384), '1.50 KB');
});
