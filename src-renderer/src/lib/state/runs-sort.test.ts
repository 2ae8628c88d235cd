import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunSummary } from '$shared/contract';
import { runName, sortRuns, startedFromText } from './runs.svelte';

const run = (id: string, over: Partial<RunSummary>): RunSummary => ({
  id,
  createdAt: `2026-12-0${id}T08:00:00Z`,
  modelName: 'model',
  params: 100,
  status: 'completed',
  epochsRun: 1,
  bestValAccuracy: 0.8,
  testAccuracy: 0.8,
  testLoss: 0.5,
  backend: 'native',
  durationSeconds: 10,
  datasetId: 'fashion-mnist',
  title: null,
  notes: '',
  optimizer: 'adam',
  batchSize: 128,
  learningRate: 0.001,
  trainImages: 60000,
  startedFrom: null,
  ...over,
});

test('runs sort by a column either way, runs without the value last, newest first on ties', () => {
  const runs = [run('1', { testAccuracy: 0.7 }), run('2', { testAccuracy: null }), run('3', { testAccuracy: 0.9 }), run('4', { testAccuracy: 0.7 })];
  assert.deepEqual(sortRuns(runs, 'testAccuracy', true).map((r) => r.id), ['3', '4', '1', '2']);
  assert.deepEqual(sortRuns(runs, 'testAccuracy', false).map((r) => r.id), ['4', '1', '3', '2']);
  assert.deepEqual(sortRuns(runs, 'createdAt', true).map((r) => r.id), ['4', '3', '2', '1']);
});

test("a run's name is the user's, else the model's, and sorts case-insensitively", () => {
  const runs = [run('1', { title: 'beta' }), run('2', { title: null, modelName: 'Alpha' }), run('3', { title: 'Gamma' })];
  assert.equal(runName(runs[1]), 'Alpha');
  assert.deepEqual(sortRuns(runs, 'name', false).map(runName), ['Alpha', 'beta', 'Gamma']);
});

test('a run started from a model file says so: fine-tuned, or scored as opened when it ran no epoch', () => {
  assert.equal(startedFromText(run('1', {})), '');
  assert.equal(startedFromText(run('1', { startedFrom: 'model.keras', epochsRun: 3 })), 'fine-tuned from model.keras');
  assert.equal(startedFromText(run('1', { startedFrom: 'model.keras', epochsRun: 0 })), 'scored as opened from model.keras');
});
