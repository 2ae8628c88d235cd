/**
 * Keras' GroupNormalization as a tfjs layer: outputs against a hand-written float64 reference on random data
 * for several group counts (1: one group, as LayerNormalization over H, W, C; C: one channel per group, as
 * instance normalisation) with and without center / scale, on images and on flat inputs; gradients for the
 * input, gamma and beta against central differences; 2·C parameters; save / load; clear refusals.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { seededArray } from '../../backend/testing';
import { GroupNormalization, groupNormalizationLayer } from './index';

/** y[n, …, c] = (x − mean) / √(var + ε) · γ[c] + β[c], statistics per sample and group, in float64. */
function reference(x: Float32Array, shape: number[], groups: number, eps: number, gamma: Float32Array | null, beta: Float32Array | null): Float64Array {
  const C = shape.at(-1)!;
  const per = x.length / shape[0]!; // elements per sample
  const P = per / C;
  const Cg = C / groups;
  const y = new Float64Array(x.length);
  for (let n = 0; n < shape[0]!; n++) {
    for (let g = 0; g < groups; g++) {
      const idx: number[] = [];
      for (let p = 0; p < P; p++) for (let j = g * Cg; j < (g + 1) * Cg; j++) idx.push(n * per + p * C + j);
      const mean = idx.reduce((s, i) => s + x[i]!, 0) / idx.length;
      const variance = idx.reduce((s, i) => s + (x[i]! - mean) ** 2, 0) / idx.length;
      for (const i of idx) {
        const c = i % C;
        y[i] = ((x[i]! - mean) / Math.sqrt(variance + eps)) * (gamma ? gamma[c]! : 1) + (beta ? beta[c]! : 0);
      }
    }
  }
  return y;
}

function layerFor(shape: number[], args: ConstructorParameters<typeof GroupNormalization>[0]): { layer: GroupNormalization; gamma: Float32Array | null; beta: Float32Array | null } {
  const layer = groupNormalizationLayer(args);
  layer.build(shape);
  const C = shape.at(-1)!;
  const gamma = layer.scale ? seededArray(C, 31).map((v) => 1 + v / 2) : null;
  const beta = layer.center ? seededArray(C, 32) : null;
  layer.setWeights([...(gamma ? [tf.tensor1d(gamma)] : []), ...(beta ? [tf.tensor1d(beta)] : [])]);
  return { layer, gamma, beta };
}

const CASES: { shape: number[]; groups: number; center?: boolean; scale?: boolean; epsilon?: number }[] = [
  { shape: [3, 5, 4, 8], groups: 1 },
  { shape: [3, 5, 4, 8], groups: 2 },
  { shape: [3, 5, 4, 8], groups: 4, epsilon: 0.1 },
  { shape: [3, 5, 4, 8], groups: 8 },
  { shape: [2, 3, 3, 6], groups: 3, center: false },
  { shape: [2, 3, 3, 6], groups: 2, scale: false },
  { shape: [2, 3, 3, 6], groups: 3, center: false, scale: false },
  { shape: [4, 12], groups: 4 }, // after a Dense layer
];

describe('GroupNormalization (Keras) as a tfjs layer', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  for (const c of CASES) {
    const label = `input ${c.shape}, groups ${c.groups}${c.center === false ? ', no center' : ''}${c.scale === false ? ', no scale' : ''}`;

    it(`${label}: values match the reference`, () => {
      const size = c.shape.reduce((a, d) => a * d, 1);
      // An offset and a spread per channel, so that the statistics matter.
      const x = seededArray(size, 7).map((v, i) => v * (1 + (i % c.shape.at(-1)!)) + 3);
      const { layer, gamma, beta } = layerFor(c.shape, { groups: c.groups, center: c.center, scale: c.scale, epsilon: c.epsilon });
      const y = tf.tidy(() => (layer.apply(tf.tensor(x, c.shape)) as tf.Tensor).dataSync());
      const want = reference(x, c.shape, c.groups, c.epsilon ?? 1e-3, gamma, beta);
      want.forEach((w, i) => assert.ok(Math.abs(y[i]! - w) <= 1e-4 * Math.max(1, Math.abs(w)), `element ${i}: ${y[i]} vs ${w}`));
      assert.equal(layer.countParams(), (c.scale === false ? 0 : 1) * c.shape.at(-1)! + (c.center === false ? 0 : 1) * c.shape.at(-1)!);
    });

    it(`${label}: gradients for the input, gamma and beta match central differences`, () => {
      const size = c.shape.reduce((a, d) => a * d, 1);
      const x = seededArray(size, 8).map((v, i) => v * (1 + (i % 3)) + 1);
      const r = seededArray(size, 9);
      const { layer } = layerFor(c.shape, { groups: c.groups, center: c.center, scale: c.scale, epsilon: c.epsilon });
      const lossOf = (xs: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layer.apply(xs) as tf.Tensor, tf.tensor(r, c.shape)));
      const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const [gx, gw] = tf.tidy(() => {
        const xs = tf.tensor(x, c.shape);
        const gx = tf.grad(lossOf)(xs).dataSync();
        if (weights.length === 0) return [gx, []];
        const { grads } = tf.variableGrads(() => lossOf(xs), weights);
        return [gx, weights.map((w) => grads[w.name]!.dataSync())];
      });
      const loss = (xv: Float32Array): number => tf.tidy(() => lossOf(tf.tensor(xv, c.shape)).dataSync()[0]!);
      const h = 1e-2;
      const check = (analytic: Float32Array | Int32Array | Uint8Array, fd: number[], what: string): void => {
        const scale = Math.max(...fd.map(Math.abs));
        fd.forEach((d, i) => assert.ok(Math.abs(analytic[i]! - d) <= 5e-3 * scale + 1e-3, `${what}[${i}]: ${analytic[i]} vs central difference ${d}`));
      };
      check(gx, Array.from(x, (_, i) => {
        const p = x.slice();
        const m = x.slice();
        p[i]! += h;
        m[i]! -= h;
        return (loss(p) - loss(m)) / (2 * h);
      }), 'd/dx');
      weights.forEach((w, k) => {
        const base = w.dataSync().slice() as Float32Array;
        const fd = Array.from(base, (_, i) => {
          const at = (delta: number): number => {
            const v = base.slice();
            v[i]! += delta;
            w.assign(tf.tensor(v, w.shape));
            return loss(x);
          };
          const d = (at(h) - at(-h)) / (2 * h);
          w.assign(tf.tensor(base, w.shape));
          return d;
        });
        check(gw[k]!, fd, `d/d${layer.trainableWeights[k]!.originalName}`);
      });
    });
  }

  it("has Keras' defaults and counts 2·C parameters: 64 after a 32-filter Conv2D with groups 4", () => {
    const layer = groupNormalizationLayer();
    assert.deepEqual([layer.groups, layer.axis, layer.epsilon, layer.center, layer.scale], [32, -1, 1e-3, true, true]);
    const model = tf.sequential({
      layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 32, kernelSize: 3 }), groupNormalizationLayer({ groups: 4 })],
    });
    assert.equal(model.layers[1]!.countParams(), 64);
    assert.deepEqual(model.layers[1]!.weights.map((w) => w.originalName.split('/').at(-1)), ['gamma', 'beta']);
    model.dispose();
  });

  it('a model with it saves to model.json and loads back (config and weights)', async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [5], units: 6 }), groupNormalizationLayer({ groups: 3, epsilon: 0.01, center: false })],
    });
    const layer = model.layers[1] as GroupNormalization;
    layer.setWeights([tf.tensor1d([1, 2, 3, 4, 5, 6])]);
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    assert.match(JSON.stringify(saved!.modelTopology), /"class_name":"GroupNormalization","config":\{[^}]*"groups":3,"axis":-1,"epsilon":0.01,"center":false,"scale":true/);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    assert.ok(loaded.layers[1] instanceof GroupNormalization);
    const x = tf.tensor2d(seededArray(10, 2), [2, 5]);
    const a = (loaded.predict(x) as tf.Tensor).dataSync();
    const b = (model.predict(x) as tf.Tensor).dataSync();
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-6));
    tf.dispose(x);
    model.dispose();
    loaded.dispose();
  });

  it('refuses, naming the layer: channels that do not split into the groups, another axis, bad groups or epsilon', () => {
    assert.throws(
      () => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 8 }), groupNormalizationLayer({ name: 'gn', groups: 3 })] }),
      /GroupNormalization 'gn': 8 channels do not split into 3 groups/,
    );
    assert.throws(() => groupNormalizationLayer({ name: 'gn2', axis: 1 }), /GroupNormalization 'gn2': only axis -1/);
    assert.throws(() => groupNormalizationLayer({ name: 'gn3', groups: 0 }), /'gn3': groups must be a positive integer, got 0/);
    assert.throws(() => groupNormalizationLayer({ name: 'gn4', groups: 2.5 }), /groups must be a positive integer/);
    assert.throws(() => groupNormalizationLayer({ name: 'gn5', epsilon: -1 }), /'gn5': epsilon must be ≥ 0/);
  });
});
