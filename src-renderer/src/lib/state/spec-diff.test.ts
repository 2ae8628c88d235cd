import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LESSON_HYPERPARAMETERS, SPEC_FORMAT_VERSION, type LayerSpec, type ModelSpec } from '$shared/spec';
import { describeLayer, diffLayers, diffRunSetups, diffValues, hyperparameterLabel } from './spec-diff';

const conv = (filters: number, name: string): LayerSpec => ({ class_name: 'Conv2D', config: { name, filters, kernel_size: [3, 3], padding: 'same' } });
const bn = (name: string): LayerSpec => ({ class_name: 'BatchNormalization', config: { name } });
const relu = (name: string): LayerSpec => ({ class_name: 'Activation', config: { name, activation: 'relu' } });

function spec(name: string, layers: LayerSpec[]): ModelSpec {
  return { format_version: SPEC_FORMAT_VERSION, class_name: 'Sequential', config: { name, layers } };
}

const base = [
  { class_name: 'InputLayer', config: { name: 'image', shape: [28, 28, 1] } },
  conv(32, 'conv2d'), bn('batch_normalization'), relu('activation'),
  { class_name: 'MaxPooling2D', config: { name: 'max_pooling2d', pool_size: [2, 2] } },
  { class_name: 'Flatten', config: { name: 'flatten' } },
  { class_name: 'Dense', config: { name: 'class_prob', units: 10, activation: 'softmax' } },
] satisfies LayerSpec[];

test('identical specs with different generated layer names diff as all-same', () => {
  const renamed = base.map((l, i) => ({ ...l, config: { ...l.config, name: `layer_${i}` } }));
  assert.ok(diffLayers(base, renamed).every((r) => r.kind === 'same'));
});

test('an inserted block shows as added rows, not a cascade of changes', () => {
  const b = [...base.slice(0, 4), conv(64, 'conv2d_1'), bn('batch_normalization_1'), relu('activation_1'), ...base.slice(4)];
  const rows = diffLayers(base, b);
  assert.deepEqual(rows.map((r) => r.kind), ['same', 'same', 'same', 'same', 'added', 'added', 'added', 'same', 'same', 'same']);
  assert.equal(rows[4].rightIndex, 4);
});

test('a changed field is reported with both values; a removed layer as removed', () => {
  const b = base.filter((l) => l.class_name !== 'BatchNormalization').map((l) => (l.class_name === 'Conv2D' ? conv(16, 'conv2d') : l));
  const rows = diffLayers(base, b);
  const changed = rows.find((r) => r.kind === 'changed');
  assert.deepEqual(changed?.changes, [{ path: 'filters', left: '32', right: '16' }]);
  assert.equal(rows.find((r) => r.kind === 'removed')?.left?.class_name, 'BatchNormalization');
});

test('hyperparameter diff uses dotted paths and shows a removed callback', () => {
  const b = { ...LESSON_HYPERPARAMETERS, batch_size: 64, optimizer: { class_name: 'sgd' as const, config: { learning_rate: 0.01 } }, reduce_lr_on_plateau: null };
  const d = diffRunSetups({ spec: spec('cnn', base), hyperparameters: LESSON_HYPERPARAMETERS }, { spec: spec('cnn 2', base), hyperparameters: b });
  assert.deepEqual(d.modelName, { path: 'name', left: 'cnn', right: 'cnn 2' });
  const paths = d.hyperparameters.map((c) => c.path);
  assert.deepEqual(paths, ['batch_size', 'optimizer.class_name', 'optimizer.config.learning_rate', 'reduce_lr_on_plateau']);
  assert.equal(d.hyperparameters[3].right, 'null');
  // The setup table: the model name and the hyperparameters, labelled, one row each (so the count matches).
  assert.deepEqual(d.setup.map((c) => c.path), ['model name', 'batch size', 'optimizer', 'learning rate', 'ReduceLROnPlateau']);
  assert.deepEqual(diffValues({ a: [3, 3] }, { a: 3 }), [{ path: 'a', left: '[3,3]', right: '3' }]);
});

test('a run without a dtype policy trained in float32: compared with a mixed_bfloat16 one, the row says so', () => {
  const b = { ...LESSON_HYPERPARAMETERS, dtype_policy: 'mixed_bfloat16' as const };
  const d = diffRunSetups({ spec: spec('cnn', base), hyperparameters: LESSON_HYPERPARAMETERS }, { spec: spec('cnn', base), hyperparameters: b });
  assert.deepEqual(d.setup, [{ path: 'precision (dtype policy)', left: 'float32', right: 'mixed_bfloat16' }]);
  const same = diffRunSetups({ spec: spec('cnn', base), hyperparameters: LESSON_HYPERPARAMETERS }, { spec: spec('cnn', base), hyperparameters: { ...b, dtype_policy: 'float32' } });
  assert.deepEqual(same.setup, []);
});

test('describeLayer gives a one-line summary', () => {
  assert.equal(describeLayer(conv(32, 'c')), 'Conv2D 32 3×3 same');
  assert.equal(describeLayer(base[6]), 'Dense 10 softmax');
  assert.equal(describeLayer(base[4]), 'MaxPooling2D pool 2×2');
});

test('3 and [3, 3] are the same kernel size; a real change still shows', () => {
  const a = [{ class_name: 'Conv2D' as const, config: { filters: 8, kernel_size: 3, strides: 1 } }];
  const b = [{ class_name: 'Conv2D' as const, config: { filters: 8, kernel_size: [3, 3] as [number, number], strides: [1, 1] as [number, number] } }];
  assert.equal(diffLayers(a, b)[0].kind, 'same');
  const c = [{ class_name: 'Conv2D' as const, config: { filters: 8, kernel_size: [5, 5] as [number, number] } }];
  assert.deepEqual(diffLayers(a, c)[0].changes.map((x) => x.path), ['kernel_size', 'strides']);
});

test('the setup table counts every row it shows and labels hyperparameters as the form does', () => {
  assert.equal(hyperparameterLabel('optimizer.config.learning_rate'), 'learning rate');
  assert.equal(hyperparameterLabel('early_stopping.patience'), 'EarlyStopping patience');
  assert.equal(hyperparameterLabel('batch_size'), 'batch size');
});
