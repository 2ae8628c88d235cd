import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SpecSummary, SummaryRow } from '$shared/spec';
import { runningTotals } from './totals';

const row = (index: number, params: number, frozen = false): SummaryRow => ({
  index,
  name: `l${index}`,
  className: 'Dense',
  outputShape: [null, 4],
  params,
  trainableParams: frozen ? 0 : params,
  nonTrainableParams: frozen ? params : 0,
});

test('a valid model: the core totals', () => {
  const s: SpecSummary = { ok: true, issues: [], rows: [row(0, 0), row(1, 20)], totalParams: 20, trainableParams: 20, nonTrainableParams: 0 };
  assert.deepEqual(runningTotals(s, 2), { params: 20, trainable: 20, nonTrainable: 0, layers: 2, complete: true });
});

test('an unfinished model: the summarised prefix, marked incomplete when layers are missing', () => {
  const s: SpecSummary = { ok: false, issues: [], rows: [row(0, 0), row(1, 20), row(2, 8, true)], totalParams: 0, trainableParams: 0, nonTrainableParams: 0 };
  assert.deepEqual(runningTotals(s, 3), { params: 28, trainable: 20, nonTrainable: 8, layers: 3, complete: true });
  assert.deepEqual(runningTotals(s, 5), { params: 28, trainable: 20, nonTrainable: 8, layers: 3, complete: false });
});

test('nothing to total: no summary or no layers', () => {
  assert.equal(runningTotals(null, 3), null);
  assert.equal(runningTotals({ ok: true, issues: [], rows: [], totalParams: 0, trainableParams: 0, nonTrainableParams: 0 }, 0), null);
});
