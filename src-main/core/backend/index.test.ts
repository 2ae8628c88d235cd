import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { backendOrder, currentBackend, initBackend } from './index';

describe('initBackend', () => {
  it('picks a fast backend without libtensorflow, says why in one line, and makes it active', async () => {
    assert.equal(currentBackend(), null);
    const info = await initBackend();
    assert.ok(['native', 'wasm'].includes(info.name), `picked ${info.name}: ${info.reason}`);
    assert.equal(tf.getBackend(), info.name);
    assert.match(info.reason, /@tensorflow\/tfjs-node/);
    assert.ok(!info.reason.includes('\n') && !info.description.includes('\n'));
    assert.ok(info.threads >= 1);
    assert.equal(await initBackend(), info, 'chosen once per process');
    assert.equal(currentBackend(), info);
    // And it computes: a training-shaped op on the chosen backend.
    const y = tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 2]) as tf.Tensor4D, 1, 'same');
    assert.deepEqual(Array.from(y.dataSync()).slice(0, 4), [4, 4, 6, 6]);
  });
});

describe('backendOrder', () => {
  it('ranks CUDA, then the native addon, then CPU tfjs-node; CNN_WORKBENCH_BACKEND_ORDER overrides it, naming a bad entry', () => {
    assert.deepEqual(backendOrder(undefined), ['tensorflow-gpu', 'native', 'tensorflow', 'wasm', 'cpu']);
    assert.deepEqual(backendOrder(' tensorflow, native ,cpu'), ['tensorflow', 'native', 'cpu']);
    assert.throws(() => backendOrder('native,tpu'), /CNN_WORKBENCH_BACKEND_ORDER: unknown backend 'tpu' \(expected a comma-separated list of tensorflow-gpu, native, tensorflow, wasm, cpu\)/);
  });
});
