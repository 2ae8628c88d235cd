import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatCount, formatShape, formatWeightBytes, memoryLine } from './format';

test('counts, shapes and sizes read as in the lesson summary', () => {
  assert.equal(formatCount(468586), '468,586');
  assert.equal(formatCount(384), '384');
  assert.equal(formatShape([null, 28, 28, 1]), '(None, 28, 28, 1)');
  assert.equal(formatWeightBytes(468586), '1.79 MB');
  assert.equal(formatWeightBytes(384), '1.50 KB');
});

test("the memory line uses the form's batch size and says when training would be refused", () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GB');
  const m = { fixedBytes: 2 * 1024 ** 2, perImageBytes: 1024 ** 2, budgetBytes: 1024 ** 3 };
  assert.deepEqual(memoryLine(m, 128), { text: '~130.0 MB to train at batch 128 (budget 1.0 GB)', over: false });
  assert.deepEqual(memoryLine(m, 2048), { text: '~2.0 GB to train at batch 2048 (budget 1.0 GB): too large, training would be refused', over: true });
});
