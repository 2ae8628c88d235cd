import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { functionalLayer, LESSON_HYPERPARAMETERS, type AnyModelSpec, type LayerClassName, type LayerConfig, type FunctionalLayerSpec } from '../../shared/spec';
import { initBackend } from '../backend/index';
import { loadDataset } from '../data/load';
import type { ImageSet } from '../data/types';
import { buildModel } from '../model/build';
import { saveModelAtomic } from '../runs/model-io';
import { exportModel } from './index';
import { inferenceGraph } from './inference-graph';

/** A functional layer entry: `inputs` are the layers whose outputs it takes. */
const fn = (name: string, className: string, inputs: string[], config: LayerConfig = {}): FunctionalLayerSpec => functionalLayer(name, className as LayerClassName, inputs, config);

/** Random layers first (the usual place), Rescaling between them (it stays: it applies at inference). */
const CHAIN: AnyModelSpec = {
  format_version: 1,
  class_name: 'Sequential',
  config: {
    name: 'augmented_chain',
    layers: [
      { class_name: 'InputLayer', config: { name: 'image', shape: [28, 28, 1] } },
      { class_name: 'RandomFlip', config: { name: 'flip', mode: 'horizontal' } },
      { class_name: 'Rescaling', config: { name: 'to_pm1', scale: 2, offset: -1 } },
      { class_name: 'RandomRotation', config: { name: 'rotate', factor: 0.05 } },
      { class_name: 'RandomContrast', config: { name: 'contrast', factor: 0.2 } },
      { class_name: 'Conv2D', config: { name: 'conv', filters: 4, kernel_size: 3, activation: 'relu' } },
      { class_name: 'BatchNormalization', config: { name: 'bn' } },
      { class_name: 'Flatten', config: { name: 'flatten' } },
      { class_name: 'Dense', config: { name: 'class_prob', units: 10, activation: 'softmax' } },
    ],
  },
};

/** A random layer whose output fans out to two branches, and one just before the output's merge. */
const GRAPH: AnyModelSpec = {
  format_version: 1,
  class_name: 'Functional',
  config: {
    name: 'augmented_graph',
    layers: [
      fn('image', 'InputLayer', [], { shape: [28, 28, 1] }),
      fn('flip', 'RandomFlip', ['image'], { mode: 'horizontal' }),
      fn('zoom', 'RandomZoom', ['flip'], { height_factor: 0.1 }),
      fn('a', 'Conv2D', ['zoom'], { filters: 4, kernel_size: 3, padding: 'same' }),
      fn('b', 'Conv2D', ['zoom'], { filters: 4, kernel_size: 1 }),
      fn('bright', 'RandomBrightness', ['b'], { factor: 0.1 }),
      fn('sum', 'Add', ['a', 'bright']),
      fn('flatten', 'Flatten', ['sum']),
      fn('class_prob', 'Dense', ['flatten'], { units: 10, activation: 'softmax' }),
    ],
    input_layers: [['image', 0, 0]],
    output_layers: [['class_prob', 0, 0]],
  },
};

let root: string;
let images: ImageSet;

before(async () => {
  await initBackend();
  root = mkdtempSync(path.join(os.tmpdir(), 'cnnwb-inference-graph-'));
  images = (await loadDataset('fashion-mnist', { limitTrain: 1, limitTest: 40, download: false })).test;
});
after(() => rmSync(root, { recursive: true, force: true }));

async function runFolder(spec: AnyModelSpec): Promise<string> {
  const model = buildModel(spec, 5);
  for (const layer of model.layers) {
    if (layer.getClassName() === 'BatchNormalization') layer.setWeights(layer.getWeights().map((w, i) => tf.randomUniform(w.shape, 0.5, 1.5, 'float32', 7 + i)));
  }
  const runDir = path.join(root, spec.config.name);
  await saveModelAtomic(model, path.join(runDir, 'model'));
  model.dispose();
  await fs.writeFile(path.join(runDir, 'run.json'), JSON.stringify({ id: spec.config.name, datasetId: 'fashion-mnist' }));
  await fs.writeFile(path.join(runDir, 'hyperparameters.json'), JSON.stringify(LESSON_HYPERPARAMETERS));
  return runDir;
}

describe('exports leave the training-only random layers out of the inference graph', () => {
  for (const [spec, leftOut] of [
    [CHAIN, ['flip', 'rotate', 'contrast']],
    [GRAPH, ['flip', 'zoom', 'bright']],
  ] as const) {
    it(`${spec.config.name}: the stripped model has no random layer, keeps Rescaling and predicts exactly as the trained model at inference`, async () => {
      const model = buildModel(spec, 3);
      const graph = await inferenceGraph(model);
      try {
        assert.deepEqual(graph.leftOut.map((l) => l.name), leftOut);
        assert.equal(graph.owned, true);
        assert.deepEqual(graph.model.layers.filter((l) => l.getClassName().startsWith('Random')), []);
        if (spec === CHAIN) assert.ok(graph.model.layers.some((l) => l.getClassName() === 'Rescaling'));
        const x = tf.randomUniform([6, 28, 28, 1], 0, 1, 'float32', 1);
        const want = (model.predict(x) as tf.Tensor).arraySync();
        const got = (graph.model.predict(x) as tf.Tensor).arraySync();
        assert.deepEqual(got, want);
      } finally {
        graph.model.dispose();
        model.dispose();
      }
    });

    it(`${spec.config.name}: TF.js and ONNX exports verify and say in verification.json and preprocessing.json what they left out`, async () => {
      const runDir = await runFolder(spec);
      for (const format of ['tfjs', 'onnx'] as const) {
        const report = await exportModel(runDir, format, path.join(root, 'out', `${spec.config.name}-${format}`), { sampleImages: images, sampleCount: 40 });
        assert.equal(report.ok, true, report.message);
        assert.match(report.message, /training-only augmentation left out of the inference graph/);
        const verification = JSON.parse(readFileSync(path.join(report.path, 'verification.json'), 'utf8')) as { leftOutLayers: { name: string }[] };
        assert.deepEqual(verification.leftOutLayers.map((l) => l.name), leftOut);
        const pre = JSON.parse(readFileSync(path.join(report.path, 'preprocessing.json'), 'utf8')) as { training_only_layers_left_out: { name: string }[] };
        assert.deepEqual(pre.training_only_layers_left_out.map((l) => l.name), leftOut);
        if (format === 'tfjs') {
          const topology = readFileSync(path.join(report.path, 'model.json'), 'utf8');
          assert.doesNotMatch(topology, /"Random[A-Z]/, 'model.json still names a random layer');
        }
      }
    });
  }

  it('a model without random layers is exported as it is', async () => {
    const model = buildModel({ ...CHAIN, config: { ...CHAIN.config, layers: CHAIN.config.layers.filter((l) => !l.class_name.startsWith('Random')) } } as AnyModelSpec, 3);
    const graph = await inferenceGraph(model);
    assert.equal(graph.model, model);
    assert.equal(graph.owned, false);
    assert.deepEqual(graph.leftOut, []);
    model.dispose();
  });
});
