import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { functionalLayer, LAYER_CLASS_NAMES, LESSON_HYPERPARAMETERS, type AnyModelSpec, type LayerClassName, type LayerConfig, type FunctionalLayerSpec } from '../../shared/spec';
import { initBackend } from '../backend/index';
import { loadDataset } from '../data/load';
import type { ImageSet } from '../data/types';
import { buildModel } from '../model/build';
import { TEMPLATES } from '../model/templates';
import { summarizeSpec } from '../model/validate';
import { exportModel } from './index';
import { saveModelAtomic } from '../runs/model-io';

/** A functional layer entry: `inputs` are the layers whose outputs it takes. */
const fn = (name: string, className: string, inputs: string[], config: LayerConfig = {}): FunctionalLayerSpec => functionalLayer(name, className as LayerClassName, inputs, config);

/**
 * Every layer class the spec supports, and every activation, across three chains (a chain can hold one global pooling
 * or one Flatten) and one graph holding every merge layer (Concatenate along the channels and along the width).
 */
const SPECS: AnyModelSpec[] = [
  {
    format_version: 1,
    class_name: 'Sequential',
    config: {
      name: 'every_layer_a',
      layers: [
        { class_name: 'InputLayer', config: { name: 'image', shape: [28, 28, 1] } },
        { class_name: 'ZeroPadding2D', config: { name: 'pad', padding: [[1, 2], [0, 1]] } },
        { class_name: 'Conv2D', config: { name: 'conv', filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'same', activation: 'elu' } },
        { class_name: 'BatchNormalization', config: { name: 'bn' } },
        { class_name: 'GroupNormalization', config: { name: 'gn', groups: 2 } },
        { class_name: 'ReLU', config: { name: 'relu6', max_value: 6 } },
        { class_name: 'LeakyReLU', config: { name: 'leaky', negative_slope: 0.2 } },
        { class_name: 'DepthwiseConv2D', config: { name: 'dw', kernel_size: [3, 3], depth_multiplier: 2, padding: 'same', activation: 'selu' } },
        { class_name: 'SeparableConv2D', config: { name: 'sep', filters: 6, kernel_size: [3, 3], activation: 'gelu' } },
        { class_name: 'AveragePooling2D', config: { name: 'avg', pool_size: [2, 2], padding: 'same' } },
        { class_name: 'SpatialDropout2D', config: { name: 'sdrop', rate: 0.2 } },
        { class_name: 'Activation', config: { name: 'act', activation: 'swish' } },
        { class_name: 'GlobalAveragePooling2D', config: { name: 'gap' } },
        { class_name: 'Dense', config: { name: 'dense', units: 12, activation: 'tanh' } },
        { class_name: 'Dropout', config: { name: 'drop', rate: 0.3 } },
        { class_name: 'Dense', config: { name: 'class_prob', units: 10, activation: 'softmax' } },
      ],
    },
  },
  {
    format_version: 1,
    class_name: 'Sequential',
    config: {
      name: 'every_layer_b',
      layers: [
        { class_name: 'InputLayer', config: { name: 'image', shape: [28, 28, 1] } },
        { class_name: 'Conv2D', config: { name: 'conv', filters: 5, kernel_size: [5, 5], dilation_rate: [2, 2], activation: 'sigmoid' } },
        { class_name: 'GroupNormalization', config: { name: 'gn', groups: 5, center: false } },
        { class_name: 'ReLU', config: { name: 'relu_leaky', negative_slope: 0.1, threshold: 0.3 } },
        { class_name: 'MaxPooling2D', config: { name: 'pool', pool_size: [3, 3], strides: [2, 2], padding: 'same' } },
        { class_name: 'GlobalMaxPooling2D', config: { name: 'gmp' } },
        { class_name: 'Dense', config: { name: 'class_prob', units: 10, activation: 'softmax', use_bias: false } },
      ],
    },
  },
  {
    format_version: 1,
    class_name: 'Sequential',
    config: {
      name: 'every_layer_c',
      layers: [
        { class_name: 'InputLayer', config: { name: 'image', shape: [28, 28, 1] } },
        { class_name: 'Rescaling', config: { name: 'to_pm1', scale: 2, offset: -1 } },
        { class_name: 'RandomFlip', config: { name: 'flip', mode: 'horizontal' } },
        { class_name: 'RandomRotation', config: { name: 'rotate', factor: 0.05 } },
        { class_name: 'RandomTranslation', config: { name: 'shift', height_factor: 0.1, width_factor: 0.1 } },
        { class_name: 'RandomZoom', config: { name: 'zoom', height_factor: 0.1 } },
        { class_name: 'RandomContrast', config: { name: 'contrast', factor: 0.2 } },
        { class_name: 'RandomBrightness', config: { name: 'brightness', factor: 0.1 } },
        { class_name: 'Conv2D', config: { name: 'conv', filters: 3, kernel_size: [4, 4], strides: [3, 3], use_bias: false, activation: 'relu' } },
        { class_name: 'Flatten', config: { name: 'flatten' } },
        { class_name: 'BatchNormalization', config: { name: 'bn_flat' } },
        { class_name: 'Dense', config: { name: 'class_prob', units: 10, activation: 'softmax' } },
      ],
    },
  },
  {
    format_version: 1,
    class_name: 'Functional',
    config: {
      name: 'every_merge',
      layers: [
        fn('image', 'InputLayer', [], { shape: [28, 28, 1] }),
        fn('a', 'Conv2D', ['image'], { filters: 4, kernel_size: 3, strides: 2, padding: 'same', activation: 'relu' }),
        fn('b', 'Conv2D', ['a'], { filters: 4, kernel_size: 3, padding: 'same' }),
        fn('c', 'BatchNormalization', ['a']),
        fn('sum', 'Add', ['a', 'b', 'c']),
        fn('diff', 'Subtract', ['b', 'a']),
        fn('prod', 'Multiply', ['sum', 'diff']),
        fn('avg', 'Average', ['prod', 'c']),
        fn('max', 'Maximum', ['avg', 'b']),
        fn('cat', 'Concatenate', ['max', 'a']),
        fn('wide', 'Conv2D', ['image'], { filters: 8, kernel_size: 2, strides: 2 }),
        fn('cat_w', 'Concatenate', ['cat', 'wide'], { axis: 2 }),
        fn('flatten', 'Flatten', ['cat_w']),
        fn('class_prob', 'Dense', ['flatten'], { units: 10, activation: 'softmax' }),
      ],
      input_layers: [['image', 0, 0]],
      output_layers: [['class_prob', 0, 0]],
    },
  },
];

let root: string;
let testImages: ImageSet;

before(async () => {
  await initBackend();
  root = mkdtempSync(path.join(os.tmpdir(), 'cnnwb-every-layer-'));
  testImages = (await loadDataset('fashion-mnist', { limitTrain: 1, limitTest: 50, download: false })).test;
});

after(() => rmSync(root, { recursive: true, force: true }));

/** A run folder holding the (untrained) model of `spec`, with BatchNorm statistics made non-trivial. */
async function runFolder(spec: AnyModelSpec): Promise<string> {
  const model = buildModel(spec, 11);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(layer.getWeights().map((w, i) => tf.randomUniform(w.shape, 0.5, 1.5, 'float32', 100 + i)));
  }
  const runDir = path.join(root, spec.config.name);
  await saveModelAtomic(model, path.join(runDir, 'model'));
  model.dispose();
  const fs = await import('node:fs/promises');
  await fs.writeFile(path.join(runDir, 'run.json'), JSON.stringify({ id: spec.config.name, datasetId: 'fashion-mnist' }));
  await fs.writeFile(path.join(runDir, 'hyperparameters.json'), JSON.stringify(LESSON_HYPERPARAMETERS));
  return runDir;
}

test('the specs cover every layer class', () => {
  const used = new Set(SPECS.flatMap((s) => s.config.layers.map((l) => l.class_name)));
  assert.deepEqual([...LAYER_CLASS_NAMES].filter((c) => !used.has(c)), []);
  for (const s of SPECS) assert.equal(summarizeSpec(s).ok, true, JSON.stringify(summarizeSpec(s).issues));
});

for (const spec of SPECS) {
  test(`${spec.config.name}: ONNX matches tfjs on 50 Fashion-MNIST test images; Keras and R scripts check out`, async (t) => {
    const runDir = await runFolder(spec);
    const onnx = await exportModel(runDir, 'onnx', path.join(root, 'out', `${spec.config.name}-onnx`), { sampleImages: testImages, sampleCount: 50 });
    t.diagnostic(onnx.message);
    assert.equal(onnx.ok, true, onnx.message);
    assert.equal(onnx.checked, 50);
    const rows = summarizeSpec(spec).rows.filter((r) => r.className !== 'InputLayer');
    for (const format of ['keras', 'r'] as const) {
      const report = await exportModel(runDir, format, path.join(root, 'out', `${spec.config.name}-${format}`));
      t.diagnostic(report.message);
      assert.equal(report.ok, true, report.message);
      const script = readFileSync(path.join(report.path, format === 'keras' ? 'model.py' : 'model.R'), 'utf8');
      for (const r of rows) assert.ok(script.includes(`"${r.name}"`), `${format}: layer ${r.name} missing`);
    }
  });
}

for (const template of TEMPLATES) {
  test(`template ${template.id}: ONNX matches tfjs on 50 Fashion-MNIST test images`, async (t) => {
    const runDir = await runFolder(template.spec);
    const report = await exportModel(runDir, 'onnx', path.join(root, 'out', `template-${template.id}`), { sampleImages: testImages, sampleCount: 50 });
    t.diagnostic(`${template.label}: ${report.message}`);
    assert.equal(report.ok, true, report.message);
    assert.equal(report.checked, 50);
  });
}
