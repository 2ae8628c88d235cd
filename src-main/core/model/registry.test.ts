import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ACTIVATIONS, LAYER_CLASS_NAMES, OPTIMIZER_NAMES } from '../../shared/spec';
import type { OptimizerSpec } from '../../shared/spec';
import { SpecError, activationRegistry, createOptimizer, getLearningRate, layerRegistry, optimizerRegistry, setLearningRate } from './index';

test('each registry lists exactly the shared names', () => {
  assert.deepEqual(activationRegistry.list(), [...ACTIVATIONS]);
  assert.deepEqual(layerRegistry.list(), [...LAYER_CLASS_NAMES]);
  assert.deepEqual(optimizerRegistry.list(), [...OPTIMIZER_NAMES]);
});

test("get() throws quoting the value received and listing the known names, like Keras' activations.get", () => {
  assert.throws(() => activationRegistry.get('relu6'), { message: `Unknown activation: 'relu6'. Known: ${ACTIVATIONS.join(', ')}` });
  assert.throws(() => layerRegistry.get('Conv3D'), /^Error: Unknown layer class: 'Conv3D'\. Known: InputLayer, .*\bConv2D\b/);
  assert.throws(() => optimizerRegistry.get('nadam'), /^Error: Unknown optimizer: 'nadam'\. Known: adam, sgd, rmsprop, adagrad, adamax$/);
  assert.throws(() => activationRegistry.get(42), /Unknown activation: 42\./);
  assert.throws(() => activationRegistry.get(undefined), /Unknown activation: undefined\./);
});

test('every activation maps to a tfjs activation that runs, and gelu/swish compute the Keras functions', () => {
  const x = tf.tensor1d([-2, -0.5, 0, 0.5, 2]);
  for (const name of ACTIVATIONS) {
    const layer = tf.layers.activation({ activation: activationRegistry.get(name).tfjs });
    const y = layer.apply(x) as tf.Tensor;
    assert.equal(y.shape[0], 5, name);
    y.dispose();
  }
  const erf = (v: number) => {
    // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7) — an independent reference for Keras' exact gelu.
    const t = 1 / (1 + 0.3275911 * Math.abs(v));
    const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-v * v);
    return v >= 0 ? y : -y;
  };
  const xs = x.arraySync() as number[];
  const gelu = (tf.layers.activation({ activation: activationRegistry.get('gelu').tfjs }).apply(x) as tf.Tensor).arraySync() as number[];
  const swish = (tf.layers.activation({ activation: activationRegistry.get('swish').tfjs }).apply(x) as tf.Tensor).arraySync() as number[];
  xs.forEach((v, i) => {
    assert.ok(Math.abs(gelu[i] - 0.5 * v * (1 + erf(v / Math.SQRT2))) < 1e-4, `gelu(${v})`);
    assert.ok(Math.abs(swish[i] - v / (1 + Math.exp(-v))) < 1e-5, `swish(${v})`);
  });
  x.dispose();
});

const configOf = (opt: tf.Optimizer) => opt.getConfig() as Record<string, unknown>;

test('createOptimizer fills Keras 3 defaults for omitted fields', () => {
  const adam = configOf(createOptimizer({ class_name: 'adam', config: { learning_rate: 1e-3 } }));
  assert.deepEqual([adam.learningRate, adam.beta1, adam.beta2, adam.epsilon], [1e-3, 0.9, 0.999, 1e-7]);
  const sgd = createOptimizer({ class_name: 'sgd', config: {} } as unknown as OptimizerSpec);
  assert.equal(sgd.getClassName(), 'SGD');
  assert.equal(configOf(sgd).learningRate, 0.01);
  const momentum = configOf(createOptimizer({ class_name: 'sgd', config: { learning_rate: 0.1, momentum: 0.9, nesterov: true } }));
  assert.deepEqual([momentum.learningRate, momentum.momentum, momentum.useNesterov], [0.1, 0.9, true]);
  const rms = configOf(createOptimizer({ class_name: 'rmsprop', config: { learning_rate: 1e-3 } }));
  assert.deepEqual([rms.decay, rms.momentum, rms.epsilon, rms.centered], [0.9, 0, 1e-7, false]);
  const adagrad = configOf(createOptimizer({ class_name: 'adagrad', config: { learning_rate: 1e-3 } }));
  assert.equal(adagrad.initialAccumulatorValue, 0.1);
  const adamax = configOf(createOptimizer({ class_name: 'adamax', config: { learning_rate: 2e-3 } }));
  assert.deepEqual([adamax.learningRate, adamax.beta1, adamax.beta2, adamax.epsilon], [2e-3, 0.9, 0.999, 1e-7]);
});

test('createOptimizer refuses unknown names and bad values, naming field and value', () => {
  assert.throws(
    () => createOptimizer({ class_name: 'nadam', config: { learning_rate: 1e-3 } } as unknown as OptimizerSpec),
    (err: unknown) => err instanceof SpecError && /optimizer class_name = "nadam": Unknown optimizer: 'nadam'/.test(err.message),
  );
  assert.throws(
    () => createOptimizer({ class_name: 'adam', config: { learning_rate: -1, beta_1: 1.5 } }),
    (err: unknown) =>
      err instanceof SpecError &&
      err.issues.map((i) => i.field).join() === 'learning_rate,beta_1' &&
      /learning_rate = -1: must be a number > 0/.test(err.message),
  );
});

test('setLearningRate changes the step size of a live optimizer of every kind, keeping its state', () => {
  for (const name of OPTIMIZER_NAMES) {
    // One step of size lr on w = 0 with gradient 1 moves w by an amount proportional to lr (first step), so
    // halving the rate after one step must halve the second step compared with an unchanged twin.
    const steps = (halve: boolean) => {
      const opt = createOptimizer({ class_name: name, config: { learning_rate: 0.1 } });
      const w = tf.variable(tf.scalar(0));
      const moves: number[] = [];
      for (let k = 0; k < 2; k++) {
        if (k === 1 && halve) setLearningRate(opt, getLearningRate(opt) / 2);
        const before = w.dataSync()[0];
        opt.applyGradients({ [w.name]: tf.scalar(1) });
        moves.push(w.dataSync()[0] - before);
      }
      const lr = getLearningRate(opt);
      opt.dispose();
      w.dispose();
      return { moves, lr };
    };
    const same = steps(false);
    const halved = steps(true);
    assert.equal(halved.lr, 0.05, name);
    assert.ok(Math.abs(halved.moves[0] - same.moves[0]) < 1e-7, `${name}: first step unchanged`);
    assert.ok(Math.abs(halved.moves[1] - same.moves[1] / 2) < 1e-6, `${name}: second step halved (${halved.moves[1]} vs ${same.moves[1]})`);
  }
  assert.throws(() => setLearningRate(createOptimizer({ class_name: 'adam', config: { learning_rate: 1e-3 } }), 0), /learning rate = 0 must be a number > 0/);
});
