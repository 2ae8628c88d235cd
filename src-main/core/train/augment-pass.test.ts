/**
 * The native augmentation pass (native/augment.cc) against the tfjs layers on tfjs' reference `cpu` backend.
 * Every random layer's parameters are drawn once (the layer's `draw`) and given to both the tfjs layer's pixel work
 * (`applyDrawn`) and the native pass, so each comparison is on the same draw: exact for Rescaling and flips, within
 * float rounding for the interpolating transforms, contrast and brightness. Then whole models: a model with leading
 * preprocessing layers trains with the fused step, matching tfjs trainOnBatch step by step (both draw through the
 * same seeded layers), the same seed gives the same run, and inference applies Rescaling only.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../shared/contract';
import type { LayerSpec, ModelSpec } from '../../shared/spec';
import { initBackend } from '../backend';
import { loadAddon, type NativeAddon } from '../backend/native';
import { disagreement, seededArray } from '../backend/testing';
import { buildModel, createOptimizer, setLearningRate } from '../model';
import { RandomBrightness, RandomContrast, RandomFlip, RandomLayer, RandomRotation, RandomTranslation, RandomZoom } from '../model/tfjs-layers/augmentation';
import { Rescaling } from '../model/tfjs-layers/rescaling';
import { createPredictor } from '../eval/predictor';
import { createFusedTrainer } from './fused';

const [N, H, W, C] = [5, 7, 6, 3];
const SHAPE = [H, W, C];
/** Images in [0, 1) with structure (a seeded field), so every transform moves something. */
const images = (n = N, seed = 3): Float32Array => seededArray(n * H * W * C, seed).map((v) => (v + 1) / 2);

let lib: NativeAddon;
let backend: BackendInfo;

/** The tfjs layer's images for `params` on the cpu backend. */
async function tfjsImages(layer: RandomLayer | Rescaling, x: Float32Array, params: number[]): Promise<Float32Array> {
  const active = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    const xs = tf.tensor4d(x, [N, H, W, C]);
    const y = tf.tidy(() => (layer instanceof RandomLayer ? layer.applyDrawn(xs, params) : (layer.apply(xs) as tf.Tensor)));
    const out = Float32Array.from(y.dataSync());
    tf.dispose([xs, y]);
    return out;
  } finally {
    await tf.setBackend(active);
  }
}

function nativeImages(code: number[], x: Float32Array, params: number[], training = true): Float32Array {
  const out = new Float32Array(x.length);
  lib.augment(x, out, N, SHAPE, [code], Float32Array.from(params), training);
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** One draw of `layer`, through tfjs and through the native pass. */
async function sameDraw(layer: RandomLayer, x = images()): Promise<{ tfjs: Float32Array; native: Float32Array; params: number[] }> {
  const params = layer.draw(N, H, W);
  assert.equal(params.length, N * layer.paramsPerImage);
  return { tfjs: await tfjsImages(layer, x, params), native: nativeImages(layer.nativeCode(), x, params), params };
}

const L = (class_name: string, config: Record<string, unknown>): LayerSpec => ({ class_name, config }) as LayerSpec;
const spec = (layers: LayerSpec[]): ModelSpec =>
  ({ format_version: 1, class_name: 'Sequential', config: { name: 'augmented', layers: [{ class_name: 'InputLayer', config: { shape: [12, 12, 2] } }, ...layers] } }) as ModelSpec;

const AUGMENTED = spec([
  L('Rescaling', { scale: 0.5, offset: 0.25 }),
  L('RandomFlip', { mode: 'horizontal_and_vertical' }),
  L('RandomRotation', { factor: 0.1, fill_mode: 'reflect' }),
  L('RandomTranslation', { height_factor: 0.1, width_factor: 0.2, fill_mode: 'constant', fill_value: 0.5 }),
  L('RandomZoom', { height_factor: 0.2, fill_mode: 'nearest' }),
  L('RandomContrast', { factor: 0.3 }),
  L('RandomBrightness', { factor: 0.2 }),
  L('Conv2D', { filters: 4, kernel_size: [3, 3], padding: 'same', activation: 'relu' }),
  L('MaxPooling2D', { pool_size: [2, 2] }),
  L('Flatten', {}),
  L('Dense', { units: 5, activation: 'softmax' }),
]);

function batch(n: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const x = seededArray(n * 12 * 12 * 2, seed).map((v) => Math.abs(v));
  return { x, labels: Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 5) };
}

describe('native augmentation pass', () => {
  before(async () => {
    backend = await initBackend();
    lib = loadAddon();
  });

  it('Rescaling: exactly the tfjs layer (float32 multiply then add), in training and at inference', async () => {
    const x = images().map((v) => v * 255);
    const layer = new Rescaling({ scale: 1 / 255, offset: -0.1 });
    const ref = await tfjsImages(layer, x, []);
    assert.equal(maxDiff(nativeImages([1, 1 / 255, -0.1], x, [], false), ref), 0);
    assert.equal(maxDiff(nativeImages([1, 1 / 255, -0.1], x, [], true), ref), 0);
  });

  it('RandomFlip: exactly the tfjs layer given the same drawn flips, for every mode', async () => {
    for (const mode of ['horizontal', 'vertical', 'horizontal_and_vertical'] as const) {
      const { tfjs, native, params } = await sameDraw(new RandomFlip({ mode, seed: 9 }));
      assert.ok(params.some((p) => p === 1) && params.some((p, i) => p === 0 && (mode === 'horizontal_and_vertical' || i % 2 === (mode === 'horizontal' ? 0 : 1))), `${mode}: the draw should mix flips and not: ${params}`);
      assert.equal(maxDiff(native, tfjs), 0, mode);
    }
  });

  it('RandomRotation / RandomTranslation / RandomZoom: the tfjs transform given the same drawn matrices, every fill mode and interpolation (|Δ| < 1e-5)', async () => {
    for (const fillMode of ['reflect', 'wrap', 'constant', 'nearest'] as const) {
      for (const interpolation of ['bilinear', 'nearest'] as const) {
        const geo = { fillMode, interpolation, fillValue: 0.7, seed: 4 };
        for (const layer of [
          new RandomRotation({ factor: 0.2, ...geo }),
          new RandomTranslation({ heightFactor: 0.4, widthFactor: 0.3, ...geo }),
          new RandomZoom({ heightFactor: 0.5, widthFactor: 0.3, ...geo }),
          new RandomZoom({ heightFactor: 0.4, ...geo }),
        ]) {
          const x = images();
          const { tfjs, native } = await sameDraw(layer, x);
          const what = `${layer.getClassName()} ${fillMode} ${interpolation}`;
          assert.ok(maxDiff(native, x) > 0.05, `${what}: changed nothing`);
          assert.ok(maxDiff(native, tfjs) < 1e-5, `${what}: max |native − tfjs| ${maxDiff(native, tfjs)}`);
        }
      }
    }
  });

  it('RandomContrast / RandomBrightness: the tfjs layer given the same drawn factors, clipped to [0, 1] (|Δ| < 1e-6)', async () => {
    for (const layer of [new RandomContrast({ factor: 0.8, seed: 2 }), new RandomBrightness({ factor: 0.5, seed: 2 })]) {
      const { tfjs, native } = await sameDraw(layer);
      assert.ok(maxDiff(native, images()) > 0.05, `${layer.getClassName()}: changed nothing`);
      assert.ok(maxDiff(native, tfjs) < 1e-6, `${layer.getClassName()}: max |native − tfjs| ${maxDiff(native, tfjs)}`);
      assert.ok(native.every((v) => v >= 0 && v <= 1), `${layer.getClassName()} leaves [0, 1]`);
    }
  });

  it('the random ops are the identity at inference; Rescaling still applies; out may be x (in place)', () => {
    const x = images();
    const ops = [[2, 3], [3, 0, 0, 0], [4, 0.5, 0, 1], [5, 0.5, 0, 1], [1, 2, -1]];
    const out = new Float32Array(x.length);
    lib.augment(x, out, N, SHAPE, ops, new Float32Array(0), false);
    assert.equal(maxDiff(out, x.map((v) => Math.fround(Math.fround(v * 2) - 1))), 0);
    const inPlace = x.slice();
    lib.augment(inPlace, inPlace, N, SHAPE, ops, new Float32Array(0), false);
    assert.equal(maxDiff(inPlace, out), 0);
  });

  it('a model with leading preprocessing layers trains with the fused step and matches tfjs trainOnBatch (same seed ⇒ same draws) over 4 steps', async () => {
    const active = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      const ref = buildModel(AUGMENTED, 5);
      const optimizer = { class_name: 'adam', config: { learning_rate: 1e-2 } } as const;
      ref.compile({ optimizer: createOptimizer(optimizer), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      const fusedModel = buildModel(AUGMENTED, 5);
      const plan = createFusedTrainer(fusedModel, optimizer, 5, 16, backend);
      assert.ok(plan.ok, plan.ok ? '' : plan.reason);
      assert.match(plan.trainer.description, /native augmentation pass \(Rescaling, RandomFlip, RandomRotation, RandomTranslation, RandomZoom, RandomContrast, RandomBrightness\)/);
      for (let s = 0; s < 4; s++) {
        const n = s === 3 ? 9 : 16;
        const { x, labels } = batch(n, 11 + s);
        setLearningRate(ref.optimizer, 1e-2);
        const xs = tf.tensor4d(x, [n, 12, 12, 2]);
        const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 5).toFloat();
        const [refLoss] = (await ref.trainOnBatch(xs, ys)) as number[];
        tf.dispose([xs, ys]);
        const got = plan.trainer.step(x, labels, n, 1e-2);
        assert.ok(Math.abs(got.loss - refLoss!) <= 1e-4 * Math.abs(refLoss!), `step ${s}: loss ${got.loss} vs tfjs ${refLoss}`);
      }
      plan.trainer.pushToModel();
      const a = fusedModel.getWeights();
      ref.getWeights().forEach((w, i) => {
        const bad = disagreement(a[i]!.dataSync() as Float32Array, w.dataSync() as Float32Array, 1e-4, 1e-6);
        assert.equal(bad, null, `weight ${i}: ${bad}`);
      });
      plan.trainer.dispose();
      ref.dispose();
      fusedModel.dispose();
    } finally {
      await tf.setBackend(active);
    }
  });

  it('same seed ⇒ the same fused run (losses and weights bit for bit); another seed ⇒ another run', () => {
    const run = (seed: number): { losses: number[]; weights: number[] } => {
      const model = buildModel(AUGMENTED, seed);
      const plan = createFusedTrainer(model, { class_name: 'adam', config: { learning_rate: 1e-2 } }, seed, 16, backend);
      assert.ok(plan.ok, plan.ok ? '' : plan.reason);
      const losses: number[] = [];
      for (let s = 0; s < 5; s++) {
        const { x, labels } = batch(16, s);
        losses.push(plan.trainer.step(x, labels, 16, 1e-2).loss);
      }
      plan.trainer.pushToModel();
      plan.trainer.dispose();
      const weights = Array.from(model.getWeights()[0]!.dataSync());
      model.dispose();
      return { losses, weights };
    };
    const a = run(21);
    assert.deepEqual(run(21), a);
    // The same initial weights with other draws would still differ; a whole other seed certainly does.
    assert.notDeepEqual(run(22).losses, a.losses);
  });

  it('inference (validation, test, predict, export checks): the random layers are the identity and Rescaling applies, natively, as tfjs predict', async () => {
    const model = buildModel(AUGMENTED, 8);
    const predictor = createPredictor(model, backend);
    assert.ok(predictor.native, predictor.description);
    const { x } = batch(1500, 4); // more than one chunk of the Rescaling pass
    const got = predictor.predict(x, 1500);
    const active = tf.getBackend();
    await tf.setBackend('cpu');
    const ref = tf.tidy(() => (model.predict(tf.tensor4d(x, [1500, 12, 12, 2])) as tf.Tensor).dataSync());
    await tf.setBackend(active);
    const bad = disagreement(got, ref as Float32Array, 1e-4, 1e-6);
    assert.equal(bad, null, bad ?? '');
    predictor.dispose();
    model.dispose();
  });

  it('preprocessing after other layers is declined, named (the pass runs only leading ones)', () => {
    const model = buildModel(spec([L('Conv2D', { filters: 2, kernel_size: [3, 3] }), L('RandomFlip', {}), L('Flatten', {}), L('Dense', { units: 5, activation: 'softmax' })]), 1);
    const plan = createFusedTrainer(model, { class_name: 'adam', config: { learning_rate: 1e-3 } }, 1, 8, backend);
    assert.equal(plan.ok, false);
    assert.match((plan as { reason: string }).reason, /layer 'random_flip\w*': RandomFlip after other layers \(the native augmentation pass runs only the leading preprocessing layers\)/);
    model.dispose();
  });
});
