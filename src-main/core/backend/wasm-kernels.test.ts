import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadWasmBackend } from './wasm';
import { wasmKernelTuning } from './wasm-kernels';
import { disagreement, runOn, seededArray } from './testing';

const TOL = 1e-4;

/** Values and gradients (w.r.t. every input) of sum(op(...) · r) for a fixed random r. */
function valueAndGrads(shapes: number[][], op: (...xs: tf.Tensor[]) => tf.Tensor): () => tf.Tensor[] {
  return () => {
    const xs = shapes.map((s, i) => tf.tensor(seededArray(tf.util.sizeFromShape(s), 11 + i), s));
    const y = op(...xs);
    const r = tf.tensor(seededArray(y.size, 99), y.shape);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(op(...args), r)))(xs);
    return [y, ...grads];
  };
}

async function assertAgrees(label: string, fn: () => tf.Tensor[], backend = 'wasm'): Promise<void> {
  const ref = await runOn('cpu', fn);
  const got = await runOn(backend, fn);
  assert.equal(got.length, ref.length);
  ref.forEach((r, i) => {
    const bad = disagreement(got[i], r, TOL);
    assert.equal(bad, null, `${label} output ${i} (0 = value, then gradients), ${backend} vs cpu: ${bad}`);
  });
}

type Pad = 'same' | 'valid';
const CONVS: { x: number[]; w: number[]; s: number; pad: Pad }[] = [
  { x: [3, 9, 9, 4], w: [3, 3, 4, 5], s: 1, pad: 'same' },
  { x: [2, 9, 8, 3], w: [3, 3, 3, 6], s: 1, pad: 'valid' },
  { x: [2, 9, 9, 3], w: [3, 3, 3, 4], s: 2, pad: 'same' },
  { x: [2, 10, 7, 2], w: [5, 3, 2, 3], s: 2, pad: 'valid' },
  { x: [2, 6, 6, 8], w: [1, 1, 8, 4], s: 1, pad: 'valid' },
];

describe('wasm training kernels agree with the cpu backend', () => {
  before(async () => {
    await loadWasmBackend();
  });

  for (const c of CONVS) {
    it(`Conv2D backprops (filter and input): x ${c.x} w ${c.w} stride ${c.s} ${c.pad}`, async () => {
      await assertAgrees('conv2d', valueAndGrads([c.x, c.w], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad)));
    });
  }

  it('Conv2DBackpropFilter over several im2col chunks (odd last chunk)', async () => {
    const saved = wasmKernelTuning.maxIm2colElements;
    wasmKernelTuning.maxIm2colElements = 2 * 8 * 8 * 27; // two images per chunk
    try {
      await assertAgrees('conv2d chunked', valueAndGrads([[5, 8, 8, 3], [3, 3, 3, 4]], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')));
    } finally {
      wasmKernelTuning.maxIm2colElements = saved;
    }
  });

  for (const [x, w, s, pad] of [
    [[2, 8, 8, 3], [3, 3, 3, 1], 1, 'same'],
    [[2, 9, 9, 4], [3, 3, 4, 2], 2, 'valid'],
    [[1, 7, 7, 2], [3, 3, 2, 3], 1, 'valid'],
  ] as [number[], number[], number, Pad][]) {
    it(`DepthwiseConv2D backprops: x ${x} w ${w} stride ${s} ${pad}`, async () => {
      await assertAgrees('depthwise', valueAndGrads([x, w], (a, b) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad)));
    });
  }

  for (const [shape, reps] of [
    [[1, 1, 1, 5], [3, 4, 2, 1]],
    [[2, 3], [2, 2]],
    [[1, 4], [3, 1]],
    [[3, 1, 2], [1, 4, 1]],
  ] as [number[], number[]][]) {
    it(`Tile ${shape} by ${reps}`, async () => {
      await assertAgrees('tile', valueAndGrads([shape], (x) => tf.tile(x, reps)));
    });
  }

  for (const [shape, axis, keep] of [
    [[4, 5, 6, 7], [0, 1, 2], false],
    [[4, 5, 6, 7], [0, 1, 2], true],
    [[30, 3], [0], false],
    [[4, 5, 6], [1, 2], false],
    [[4, 5, 6], [0, 2], true],
    [[4, 5], undefined, false],
  ] as [number[], number[] | undefined, boolean][]) {
    it(`Sum of ${shape} over ${axis ?? 'all'}${keep ? ' (keepDims)' : ''}`, async () => {
      await assertAgrees('sum', valueAndGrads([shape], (x) => tf.sum(x, axis, keep)));
    });
  }
});
