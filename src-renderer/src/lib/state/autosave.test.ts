import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LESSON_HYPERPARAMETERS, SPEC_FORMAT_VERSION } from '$shared/spec';
import type { ModelSpec } from '$shared/spec';
import { toDraft } from '../hyperparameters/draft';
import { parseAutosave, serializeAutosave } from './autosave';

const spec: ModelSpec = {
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  config: { name: 'mine', layers: [{ class_name: 'InputLayer', config: { shape: [28, 28, 1] } }, { class_name: 'Flatten', config: {} }] },
};

test('a record round-trips, the draft as typed (even a half-typed value)', () => {
  const draft = { ...toDraft(LESSON_HYPERPARAMETERS), epochs: '3', learning_rate: '1e-', limit_train: '2000' };
  const canvasPositions = { input_layer: { x: 10, y: -20.5 }, flatten: { x: 10, y: 120 } };
  const back = parseAutosave(serializeAutosave({ spec, draft, datasetId: 'fashion-mnist', canvasPositions, dirty: true, savedAt: '2026-12-02T08:00:00Z' }));
  assert.deepEqual(back, { spec, draft, datasetId: 'fashion-mnist', canvasPositions, dirty: true, savedAt: '2026-12-02T08:00:00Z' });
});

test('a record from before canvas positions were kept restores with none; bad positions restore nothing', () => {
  const back = parseAutosave(JSON.stringify({ version: 1, spec, draft: {}, datasetId: null }));
  assert.deepEqual(back?.canvasPositions, {});
  assert.equal(parseAutosave(JSON.stringify({ version: 1, spec, canvasPositions: { flatten: { x: 'left', y: 0 } } })), null);
});

test('nothing, garbage, another version or a broken spec restore nothing', () => {
  assert.equal(parseAutosave(null), null);
  assert.equal(parseAutosave('{not json'), null);
  assert.equal(parseAutosave(JSON.stringify({ version: 99, spec })), null);
  assert.equal(parseAutosave(JSON.stringify({ version: 1, spec: { class_name: 'Functional' } })), null);
});

test('draft fields of the wrong type or unknown are dropped, missing ones take the lesson values', () => {
  const back = parseAutosave(JSON.stringify({ version: 1, spec, draft: { epochs: 7, batch_size: '64', bogus: 'x', es_enabled: false }, datasetId: null }));
  assert.ok(back);
  assert.equal(back.draft.epochs, toDraft(LESSON_HYPERPARAMETERS).epochs);
  assert.equal(back.draft.batch_size, '64');
  assert.equal(back.draft.es_enabled, false);
  assert.equal('bogus' in back.draft, false);
  assert.equal(back.dirty, false);
});
