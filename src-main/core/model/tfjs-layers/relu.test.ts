/**
 * Keras' ReLU as a tfjs layer: outputs against a hand-written reference on random data for several
 * max_value / negative_slope / threshold combinations, gradients against central differences of the layer's own
 * forward pass, save / load through model.json, and Keras' refusals.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { seededArray } from '../../backend/testing';
import { ReLU, kerasRelu, reluLayer } from './index';

/** Keras' documented formula, with the lower branch at x = threshold (see kerasRelu). */
function reference(x: number, maxValue: number | null, slope: number, threshold: number): number {
  if (maxValue !== null && x >= maxValue) return maxValue;
  if (x > threshold) return x;
  return slope * (x - threshold);
}

const COMBOS: [number | null, number, number][] = [
  [null, 0, 0],
  [6, 0, 0],
  [null, 0.1, 0],
  [6, 0.2, 0.5],
  [null, 0, 0.5],
  [1.5, 0.3, 0.7],
  [0, 0, 0],
  [2, 0.5, 3], // max_value below the threshold: max_value from 2 up, the slope below
];

const data = (n: number, seed: number): Float32Array => seededArray(n, seed).map((v) => v * 8);

async function save(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  assert.ok(saved);
  return saved;
}

describe('ReLU (Keras) as a tfjs layer', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  for (const [maxValue, slope, threshold] of COMBOS) {
    it(`max_value ${maxValue}, negative_slope ${slope}, threshold ${threshold}: values as Keras defines them`, () => {
      const x = data(2000, 3);
      const boundaries = [0, threshold, maxValue ?? 1, -threshold, (maxValue ?? 1) + 1e-3, threshold - 1e-3];
      const all = Float32Array.from([...x, ...boundaries]);
      const layer = reluLayer({ maxValue, negativeSlope: slope, threshold });
      const y = tf.tidy(() => (layer.apply(tf.tensor2d(all, [all.length, 1])) as tf.Tensor).dataSync());
      all.forEach((v, i) => {
        const want = Math.fround(reference(v, maxValue, slope, threshold));
        assert.ok(Math.abs(y[i]! - want) <= 1e-6 * Math.max(1, Math.abs(want)), `f(${v}) = ${y[i]}, expected ${want}`);
      });
    });

    it(`max_value ${maxValue}, negative_slope ${slope}, threshold ${threshold}: gradients match central differences`, () => {
      const h = 1e-2;
      const kinks = [threshold, ...(maxValue === null ? [] : [maxValue])];
      // Away from the kinks, where the derivative is not defined.
      const x = data(500, 9).filter((v) => kinks.every((k) => Math.abs(v - k) > 4 * h));
      const r = seededArray(x.length, 4);
      const f = (t: tf.Tensor): tf.Tensor => kerasRelu(t, maxValue, slope, threshold);
      const [grad, plus, minus] = tf.tidy(() => {
        const xs = tf.tensor1d(x);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), r)))(xs);
        // Elementwise, so every element can be moved at once.
        return [g.dataSync(), f(tf.add(xs, h)).dataSync(), f(tf.sub(xs, h)).dataSync()];
      });
      x.forEach((v, i) => {
        const fd = ((plus[i]! - minus[i]!) / (2 * h)) * r[i]!;
        assert.ok(Math.abs(grad[i]! - fd) <= 1e-3, `x = ${v}: gradient ${grad[i]} vs central difference ${fd}`);
      });
    });
  }

  it('a Sequential model with it saves to model.json and loads back (config included)', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 6 }), reluLayer({ maxValue: 6, negativeSlope: 0.1, threshold: 0.2 })] });
    const x = tf.tensor2d(data(12, 5), [3, 4]);
    const artifacts = await save(model);
    assert.match(JSON.stringify(artifacts.modelTopology), /"class_name":"ReLU","config":\{[^}]*"max_value":6,"negative_slope":0.1,"threshold":0.2/);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const layer = loaded.layers[1]!;
    assert.ok(layer instanceof ReLU);
    assert.deepEqual([layer.maxValue, layer.negativeSlope, layer.threshold], [6, 0.1, 0.2]);
    assert.deepEqual((loaded.predict(x) as tf.Tensor).arraySync(), (model.predict(x) as tf.Tensor).arraySync());
    tf.dispose([x]);
    model.dispose();
    loaded.dispose();
  });

  it("loads a model saved with tfjs' own ReLU (max_value only) as this layer", async () => {
    const model = tf.sequential({ layers: [tf.layers.reLU({ inputShape: [3], maxValue: 2 })] });
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(await save(model)));
    const layer = loaded.layers[0]!;
    assert.ok(layer instanceof ReLU);
    assert.deepEqual([layer.maxValue, layer.negativeSlope, layer.threshold], [2, 0, 0]);
    assert.deepEqual((loaded.predict(tf.tensor2d([[-1, 1, 3]])) as tf.Tensor).arraySync(), [[0, 1, 2]]);
    model.dispose();
    loaded.dispose();
  });

  it('refuses what Keras refuses, naming the layer: max_value < 0, negative_slope < 0, threshold < 0', () => {
    assert.throws(() => reluLayer({ name: 'r1', maxValue: -1 }), /ReLU 'r1': max_value must be ≥ 0 or None, got -1/);
    assert.throws(() => reluLayer({ name: 'r2', negativeSlope: -0.1 }), /ReLU 'r2': negative_slope must be ≥ 0, got -0.1/);
    assert.throws(() => reluLayer({ name: 'r3', threshold: -0.5 }), /ReLU 'r3': threshold must be ≥ 0, got -0.5/);
    assert.throws(() => reluLayer({ name: 'r4', threshold: NaN }), /ReLU 'r4': threshold must be ≥ 0/);
  });
});
