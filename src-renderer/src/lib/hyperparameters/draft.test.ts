import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LESSON_HYPERPARAMETERS } from '$shared/spec';
import { checkDraft, toDraft } from './draft';

test("the lesson's hyperparameters survive the round trip through the form", () => {
  const check = checkDraft(toDraft(LESSON_HYPERPARAMETERS));
  assert.deepEqual(check.errors, {});
  assert.deepEqual(check.value?.hyperparameters, LESSON_HYPERPARAMETERS);
  assert.equal(check.value?.limitTrain, null);
});

test('the dtype policy survives the round trip; float32 stays implicit, as in hyperparameters from before it', () => {
  const h = { ...LESSON_HYPERPARAMETERS, dtype_policy: 'mixed_bfloat16' as const };
  assert.equal(toDraft(h).dtype_policy, 'mixed_bfloat16');
  assert.deepEqual(checkDraft(toDraft(h)).value?.hyperparameters, h);
  assert.equal(toDraft(LESSON_HYPERPARAMETERS).dtype_policy, 'float32');
  assert.equal('dtype_policy' in (checkDraft({ ...toDraft(h), dtype_policy: 'float32' }).value?.hyperparameters ?? {}), false);
});

test('invalid values are refused with a reason naming the field and the value', () => {
  const d = toDraft(LESSON_HYPERPARAMETERS);
  const check = checkDraft({ ...d, batch_size: '12.5', learning_rate: '0', validation_split: '1', rlr_factor: '1.5', epochs: '' });
  assert.equal(check.value, null);
  assert.equal(check.errors.batch_size, 'batch size must be a whole number in [1, 16384], received "12.5"');
  assert.equal(check.errors.learning_rate, 'learning rate must be a number > 0, received "0"');
  assert.equal(check.errors.validation_split, 'validation split must be a number in [0, 1), received "1"');
  assert.equal(check.errors.rlr_factor, 'factor must be a number in (0, 1), received "1.5"');
  assert.match(check.errors.epochs ?? '', /epochs is required/);
});

test('the seed is refused past 2^32 - 1, where the core would refuse it after Train', () => {
  const d = toDraft(LESSON_HYPERPARAMETERS);
  assert.equal(checkDraft({ ...d, seed: '4294967296' }).errors.seed, 'seed must be a whole number in [0, 4294967295], received "4294967296"');
  assert.equal(checkDraft({ ...d, seed: '4294967295' }).value?.hyperparameters.seed, 4294967295);
});

test('fields of a disabled callback or another optimizer are not checked', () => {
  const d = toDraft(LESSON_HYPERPARAMETERS);
  const check = checkDraft({ ...d, rlr_enabled: false, rlr_factor: 'nonsense', momentum: '-1' });
  assert.deepEqual(check.errors, {});
  assert.equal(check.value?.hyperparameters.reduce_lr_on_plateau, null);
  assert.equal(check.value?.hyperparameters.optimizer.config.momentum, undefined);
});

test('optimizer fields are kept only when set, so Keras defaults apply otherwise', () => {
  const d = { ...toDraft(LESSON_HYPERPARAMETERS), optimizer: 'sgd' as const, learning_rate: '0.01', momentum: '0.9', nesterov: true };
  assert.deepEqual(checkDraft(d).value?.hyperparameters.optimizer, { class_name: 'sgd', config: { learning_rate: 0.01, momentum: 0.9, nesterov: true } });
  const adam = { ...toDraft(LESSON_HYPERPARAMETERS), beta_1: '0.8' };
  assert.deepEqual(checkDraft(adam).value?.hyperparameters.optimizer.config, { learning_rate: 1e-3, beta_1: 0.8 });
});

test('a val_* monitor without a validation split is refused on the monitor field', () => {
  const d = { ...toDraft(LESSON_HYPERPARAMETERS), validation_split: '0' };
  const check = checkDraft(d);
  assert.match(check.errors.es_monitor ?? '', /val_accuracy needs a validation split > 0/);
  assert.match(check.errors.rlr_monitor ?? '', /val_loss needs a validation split > 0/);
  assert.deepEqual(checkDraft({ ...d, es_monitor: 'accuracy', rlr_monitor: 'loss' }).errors, {});
});

test('image limits are optional whole numbers', () => {
  const d = toDraft(LESSON_HYPERPARAMETERS);
  const ok = checkDraft({ ...d, limit_train: '2000', limit_test: '500' });
  assert.equal(ok.value?.limitTrain, 2000);
  assert.equal(ok.value?.limitTest, 500);
  assert.match(checkDraft({ ...d, limit_train: '0' }).errors.limit_train ?? '', /whole number ≥ 1, received "0"/);
});

test('absurd values: refused where a run cannot finish or fit, warned with the reason where it merely hurts', () => {
  const d = toDraft(LESSON_HYPERPARAMETERS);
  const refused = checkDraft({ ...d, epochs: '1e9', batch_size: '100000', momentum: '1.5', optimizer: 'sgd' });
  assert.equal(refused.value, null);
  assert.equal(refused.errors.epochs, 'epochs must be a whole number in [1, 100000], received "1e9"');
  assert.equal(refused.errors.batch_size, 'batch size must be a whole number in [1, 16384], received "100000"');
  assert.equal(refused.errors.momentum, 'momentum must be a number in [0, 1), received "1.5"');

  const warned = checkDraft({ ...d, learning_rate: '5', epochs: '5000', batch_size: '4096', limit_train: '70000' }, { trainImages: 60000, testImages: 10000 });
  assert.ok(warned.value, 'warnings do not block');
  assert.match(warned.warnings.learning_rate ?? '', /very high for adam.*diverge/);
  assert.match(warned.warnings.epochs ?? '', /5,000 epochs/);
  assert.match(warned.warnings.batch_size ?? '', /memory/);
  assert.match(warned.warnings.limit_train ?? '', /only 60,000 training images/);

  const tiny = checkDraft({ ...d, batch_size: '512', limit_train: '300' }, { trainImages: 60000 });
  assert.match(tiny.warnings.batch_size ?? '', /more than the 270 training images/);
  assert.deepEqual(checkDraft(d, { trainImages: 60000, testImages: 10000 }).warnings, {}, "the lesson's values draw no warning");
});

test('momentum 1.5 is refused by the form as by the core (one rule per optimizer field)', () => {
  const d = { ...toDraft(LESSON_HYPERPARAMETERS), optimizer: 'sgd' as const, momentum: '1.5' };
  const check = checkDraft(d);
  assert.equal(check.value, null);
  assert.match(check.errors.momentum ?? '', /momentum.*\[0, 1\)/);
  assert.equal(checkDraft({ ...d, momentum: '0.9' }).errors.momentum, undefined);
});
