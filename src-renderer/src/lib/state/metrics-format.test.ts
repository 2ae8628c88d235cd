import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorMessage, formatCount, formatDuration, formatLoss, formatPercent } from './metrics-format';

test('the lesson figures are shown as what they are', () => {
  // The lesson prints [0.9379, 0.1879] under swapped names: 0.9379 is the accuracy.
  assert.equal(`Test accuracy ${formatPercent(0.9379)}`, 'Test accuracy 93.79 %');
  assert.equal(`Test loss ${formatLoss(0.18791)}`, 'Test loss 0.1879');
  assert.equal(formatCount(468586), '468,586');
});

test('missing values show a dash, never NaN', () => {
  assert.equal(formatPercent(null), '—');
  assert.equal(formatLoss(Number.NaN), '—');
  assert.equal(formatDuration(undefined), '—');
});

test('durations', () => {
  assert.equal(formatDuration(42.4), '42 s');
  assert.equal(formatDuration(185), '3 min 05 s');
  assert.equal(formatDuration(3720), '1 h 02 min');
});

test('errors crossing IPC as {name, message} show their message', () => {
  assert.equal(errorMessage({ name: 'SpecError', message: 'Layer 3 "dense": units must be ≥ 1, received 0' }), 'Layer 3 "dense": units must be ≥ 1, received 0');
  assert.equal(errorMessage(new Error('boom')), 'boom');
});
