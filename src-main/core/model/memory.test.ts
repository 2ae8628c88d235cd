import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SPEC_FORMAT_VERSION, type ModelSpec } from '../../shared/spec';
import { checkMemory, estimateMemory, MemoryBudgetError, optimizerSlots, parseBudget, trainingBytes } from './memory';
import { getTemplate } from './templates';
import { summarizeSpec } from './validate';

const GB = 2 ** 30;

test("the lesson CNN's estimate: its parameters with Adam, and activations near the fused trainer's ~160 MB at batch 128", () => {
  const summary = summarizeSpec(getTemplate('lesson-cnn').spec);
  const m = estimateMemory(summary, 2, 8 * GB);
  // 468,586 parameters (a few hundred non-trainable BatchNorm statistics): weights + gradient + 2 Adam slots.
  assert.ok(Math.abs(m.fixedBytes - 4 * 468_586 * 4) < 4 * 2_000, `fixed ${m.fixedBytes}`);
  const mb = trainingBytes(m, 128) / 2 ** 20;
  assert.ok(mb > 80 && mb < 400, `${mb.toFixed(0)} MB at batch 128`);
});

test('a Dense layer of 100,000 units is refused before anything runs, with the estimate (finding 4)', () => {
  const spec: ModelSpec = {
    format_version: SPEC_FORMAT_VERSION,
    class_name: 'Sequential',
    config: {
      name: 'huge',
      layers: [
        { class_name: 'InputLayer', config: { shape: [28, 28, 1] } },
        { class_name: 'Conv2D', config: { filters: 32, kernel_size: 3, activation: 'relu' } },
        { class_name: 'Flatten', config: {} },
        { class_name: 'Dense', config: { units: 100_000, activation: 'relu' } },
        { class_name: 'Dense', config: { units: 10, activation: 'softmax' } },
      ],
    },
  };
  const summary = summarizeSpec(spec);
  assert.ok(summary.ok);
  assert.ok(summary.totalParams > 500e6, `${summary.totalParams} parameters`);
  const m = estimateMemory(summary, optimizerSlots('adam'), 8 * GB);
  assert.throws(
    () => checkMemory(m, 128, 'huge'),
    (err: unknown) => err instanceof MemoryBudgetError && /model 'huge' needs ~3\d\.\d GB to train at batch 128 \(weights, gradients and optimizer 3\d\.\d GB.*budget 8\.0 GB: its weights alone do not fit/.test(err.message),
  );
  // A batch too large for the budget says how large a batch would fit.
  const small = estimateMemory(summarizeSpec(getTemplate('small-cnn').spec), 2, 64 * 2 ** 20);
  assert.throws(() => checkMemory(small, 8192, 'small'), /lower the batch size \(at most \d+ fits\)/);
  checkMemory(small, 16, 'small');
});

test('budgets parse as bytes, sizes and shares; anything else is refused naming the value', () => {
  assert.equal(parseBudget('1000'), 1000);
  assert.equal(parseBudget('512M'), 512 * 2 ** 20);
  assert.equal(parseBudget('1.5GB'), 1.5 * GB);
  assert.equal(parseBudget('50%', 8 * GB), 4 * GB);
  for (const bad of ['', 'lots', '0x10', '-1G', '0', '150%']) assert.throws(() => parseBudget(bad, 8 * GB), /memory budget/);
});

test('optimizer slots follow the update rules (sgd without momentum keeps none)', () => {
  assert.deepEqual(
    [optimizerSlots('adam'), optimizerSlots('sgd'), optimizerSlots('sgd', 0.9), optimizerSlots('rmsprop'), optimizerSlots('adagrad')],
    [2, 0, 1, 1, 1],
  );
});
