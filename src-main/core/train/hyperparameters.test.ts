import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LESSON_HYPERPARAMETERS } from '../../shared/spec';
import { HyperparameterError, validateHyperparameters } from './hyperparameters';

function errorsOf(h: unknown): string[] {
  try {
    validateHyperparameters(h);
  } catch (err) {
    assert.ok(err instanceof HyperparameterError);
    return err.issues.map((i) => i.message);
  }
  assert.fail('expected a HyperparameterError');
}

describe('validateHyperparameters', () => {
  it("accepts the lesson's hyperparameters unchanged", () => {
    assert.deepEqual(validateHyperparameters(structuredClone(LESSON_HYPERPARAMETERS)), LESSON_HYPERPARAMETERS);
  });

  it('names the field and the value received, for every problem at once', () => {
    const bad = structuredClone(LESSON_HYPERPARAMETERS) as unknown as Record<string, unknown>;
    bad.batch_size = 0;
    bad.epochs = 2.5;
    bad.validation_split = 1;
    (bad.optimizer as { config: { learning_rate: number } }).config.learning_rate = -1;
    (bad.reduce_lr_on_plateau as { factor: number }).factor = 1.5;
    const msgs = errorsOf(bad);
    assert.equal(msgs.length, 5, msgs.join('\n'));
    assert.ok(msgs.some((m) => /^hyperparameters\.batch_size: .*>= 1.*received 0/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /^hyperparameters\.epochs: must be an integer.*received 2\.5/.test(m)));
    assert.ok(msgs.some((m) => /^hyperparameters\.validation_split: .*received 1\)/.test(m)));
    assert.ok(msgs.some((m) => /^hyperparameters\.optimizer\.config\.learning_rate: must be a number > 0 \(received -1\)/.test(m)));
    assert.ok(msgs.some((m) => /^hyperparameters\.reduce_lr_on_plateau\.factor: .*received 1\.5/.test(m)));
  });

  it('rejects unknown names and unknown fields, and reports missing ones', () => {
    const bad = structuredClone(LESSON_HYPERPARAMETERS) as unknown as Record<string, unknown>;
    (bad.optimizer as { class_name: string }).class_name = 'adadelta';
    (bad.early_stopping as Record<string, unknown>).monitor = 'val_acc';
    bad.batchsize = 64;
    delete bad.seed;
    const msgs = errorsOf(bad);
    assert.ok(msgs.some((m) => /optimizer\.class_name: must be one of 'adam'.*received "adadelta"/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /early_stopping\.monitor: .*received "val_acc"/.test(m)));
    assert.ok(msgs.some((m) => /hyperparameters\.batchsize: is not a known field \(received 64\)/.test(m)));
    assert.ok(msgs.some((m) => /hyperparameters\.seed: is required/.test(m)));
  });

  it('allows both callbacks to be switched off', () => {
    const h = { ...structuredClone(LESSON_HYPERPARAMETERS), early_stopping: null, reduce_lr_on_plateau: null };
    assert.equal(validateHyperparameters(h).early_stopping, null);
  });

  it("takes Keras' dtype policies, float32 when omitted, and names any other", () => {
    assert.equal(validateHyperparameters({ ...structuredClone(LESSON_HYPERPARAMETERS), dtype_policy: 'mixed_bfloat16' }).dtype_policy, 'mixed_bfloat16');
    assert.equal(validateHyperparameters(structuredClone(LESSON_HYPERPARAMETERS)).dtype_policy, undefined);
    assert.deepEqual(errorsOf({ ...LESSON_HYPERPARAMETERS, dtype_policy: 'mixed_float16' }), [
      `hyperparameters.dtype_policy: must be one of 'float32', 'mixed_bfloat16' (received "mixed_float16")`,
    ]);
  });

  it('rejects NaN and non-objects', () => {
    assert.match(errorsOf({ ...LESSON_HYPERPARAMETERS, batch_size: NaN })[0]!, /batch_size.*received NaN/);
    assert.ok(errorsOf(null).length >= 1);
  });
});
