/**
 * The native kernels (Conv2D / FusedConv2D forward, both Conv2D backprops, BatchMatMul, _FusedMatMul,
 * MaxPoolGrad, Sum and Mean over leading axes, broadcasting Add/Sub/Mul/Div, FusedBatchNorm) agree
 * with tfjs' cpu backend in values and gradients within 1e-4 relative. Runs wherever the addon is built;
 * where it is not, the test fails and says why — CI builds it (scripts/build-native.sh, libopenblas-dev).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadAddon, registerNativeBackend } from './native';
import { disagreement, runOn, seededArray } from './testing';

const TOL = 1e-4;

function valueAndGrads(shapes: number[][], op: (...xs: tf.Tensor[]) => tf.Tensor): () => tf.Tensor[] {
  return () => {
    const xs = shapes.map((s, i) => tf.tensor(seededArray(tf.util.sizeFromShape(s), 21 + i), s));
    const y = op(...xs);
    const r = tf.tensor(seededArray(y.size, 77), y.shape);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(op(...args), r)))(xs);
    return [y, ...grads];
  };
}

async function assertAgrees(label: string, fn: () => tf.Tensor[]): Promise<void> {
  const ref = await runOn('cpu', fn);
  const got = await runOn('native', fn);
  assert.equal(got.length, ref.length);
  ref.forEach((r, i) => {
    const bad = disagreement(got[i], r, TOL);
    assert.equal(bad, null, `${label} output ${i} (0 = value, then gradients), native vs cpu: ${bad}`);
  });
}

type Pad = 'same' | 'valid';

describe('native kernels agree with the cpu backend', () => {
  before(async () => {
    await registerNativeBackend();
  });

  it('uses oneDNN convolutions wherever libdnnl-dev is installed (CI installs it)', () => {
    const { convolutions } = loadAddon().info();
    if (fs.existsSync('/usr/include/oneapi/dnnl/dnnl.hpp')) assert.match(convolutions, /^oneDNN \d+\.\d+\.\d+ \(\w+\)$/);
    else assert.equal(convolutions, '');
  });

  // Both convolution engines: oneDNN (when the addon has it) and im2col + OpenBLAS.
  for (const engine of ['oneDNN', 'im2col'] as const)
  for (const [x, w, s, pad, d] of [
    [[3, 9, 9, 4], [3, 3, 4, 5], 1, 'same', 1],
    [[2, 9, 8, 3], [3, 3, 3, 6], 1, 'valid', 1],
    [[2, 9, 9, 3], [3, 3, 3, 4], 2, 'same', 1],
    [[2, 10, 7, 2], [5, 3, 2, 3], 2, 'valid', 1],
    [[2, 6, 6, 8], [1, 1, 8, 4], 1, 'valid', 1],
    [[2, 6, 6, 8], [1, 1, 8, 4], 2, 'same', 1],
    [[130, 6, 6, 2], [3, 3, 2, 3], 1, 'same', 1],
    // One input channel (a grayscale first layer), filter counts of 32, 5, 41 and 3.
    [[5, 11, 9, 1], [3, 3, 1, 32], 1, 'same', 1],
    [[3, 10, 7, 1], [5, 3, 1, 5], 2, 'valid', 1],
    [[2, 9, 9, 1], [3, 3, 1, 41], 2, 'same', 1],
    [[130, 6, 6, 1], [3, 3, 1, 3], 1, 'same', 1],
    // 16 or more input channels at stride 1: oneDNN's backward data runs as a forward convolution of dy with the
    // filter turned 180° (conv-dnnl.cc), here with odd, non-square and even kernels (the last pads 1 before, 2 after).
    [[2, 8, 7, 16], [3, 3, 16, 5], 1, 'same', 1],
    [[2, 9, 8, 20], [5, 3, 20, 4], 1, 'valid', 1],
    [[2, 7, 6, 16], [4, 2, 16, 3], 1, 'same', 1],
  ] as [number[], number[], number, Pad, number][]) {
    it(`Conv2D and its backprops (${engine}): x ${x} w ${w} stride ${s} ${pad}`, async () => {
      loadAddon().useOneDnn(engine === 'oneDNN');
      try {
        await assertAgrees('conv2d', valueAndGrads([x, w], (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad, 'NHWC', d)));
      } finally {
        loadAddon().useOneDnn(true);
      }
    });
  }

  // The addon refuses a padding as long as the window (no 'same' / 'valid' gives one) and empty tensors: the
  // kernels hand those to wasm. A product over K = 0 is the addon's (zeros; wasm leaves its output unwritten).
  it('Conv2D with explicit padding beyond the window, and empty products', async () => {
    const pad: tf.backend_util.ExplicitPadding = [[0, 0], [4, 1], [0, 5], [0, 0]];
    await assertAgrees('wide padding', valueAndGrads([[2, 6, 5, 3], [3, 3, 3, 2]], (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad)));
    await assertAgrees('empty product', () => [
      tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4])),
      tf.fused.matMul({ a: tf.zeros([2, 0]), b: tf.zeros([0, 3]), bias: tf.tensor1d([1, -2, 3]), activation: 'relu' }),
      tf.sum(tf.zeros([0, 3]), 0),
    ]);
  });

  it('Conv2D forward with dilation 2', async () => {
    await assertAgrees('dilated', () => [
      tf.conv2d(tf.tensor4d(seededArray(2 * 9 * 9 * 3, 1), [2, 9, 9, 3]), tf.tensor4d(seededArray(54, 2), [3, 3, 3, 2]), 1, 'same', 'NHWC', 2),
    ]);
  });

  for (const activation of ['linear', 'relu', 'elu'] as const) {
    it(`FusedConv2D with bias and ${activation}`, async () => {
      await assertAgrees(
        `fused conv ${activation}`,
        valueAndGrads([[2, 7, 7, 3], [3, 3, 3, 4], [4]], (x, w, b) =>
          tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation }),
        ),
      );
    });
  }

  for (const [a, b, ta, tb] of [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[4, 5, 7], [4, 7, 3], false, false],
  ] as [number[], number[], boolean, boolean][]) {
    it(`MatMul ${a}${ta ? 'ᵀ' : ''} · ${b}${tb ? 'ᵀ' : ''}`, async () => {
      await assertAgrees('matmul', valueAndGrads([a, b], (x, y) => tf.matMul(x, y, ta, tb)));
    });
  }

  // tfjs has no gradient for a broadcast batch (on any backend): values only.
  for (const [a, b] of [
    [[4, 5, 7], [1, 7, 3]],
    [[1, 5, 7], [4, 7, 3]],
  ]) {
    it(`MatMul with a broadcast batch: ${a} · ${b}`, async () => {
      await assertAgrees('broadcast matmul', () => [
        tf.matMul(tf.tensor(seededArray(tf.util.sizeFromShape(a), 3), a), tf.tensor(seededArray(tf.util.sizeFromShape(b), 4), b)),
      ]);
    });
  }

  for (const [x, size, stride, pad] of [
    [[3, 8, 8, 4], 2, 2, 'valid'],
    [[2, 9, 7, 3], 3, 2, 'same'],
    [[2, 7, 7, 2], 3, 1, 'same'],
    [[2, 9, 9, 2], 2, 3, 'valid'],
  ] as [number[], number, number, Pad][]) {
    it(`MaxPool gradient (MaxPoolGrad): x ${x} pool ${size} stride ${stride} ${pad}`, async () => {
      await assertAgrees('maxpool', valueAndGrads([x], (a) => tf.maxPool(a as tf.Tensor4D, size, stride, pad)));
    });
  }

  for (const [shape, axis, keep] of [
    [[4, 5, 6, 7], [0, 1, 2], false],
    [[4, 5, 6, 7], [2, 1, 0], true],
    [[3000, 3], [0], false],
    [[4, 5, 6], [1, 2], false],
    [[4, 5, 6], [0, 2], true],
    [[4, 5], undefined, false],
  ] as [number[], number[] | undefined, boolean][]) {
    it(`Sum and Mean of ${shape} over ${axis ?? 'all'}${keep ? ' (keepDims)' : ''}`, async () => {
      await assertAgrees('sum', valueAndGrads([shape], (x) => tf.sum(x, axis, keep)));
      await assertAgrees('mean', valueAndGrads([shape], (x) => tf.mean(x, axis, keep)));
    });
  }

  const binaries: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5))],
  ];
  for (const [a, b] of [
    [[300, 7, 9], [300, 7, 9]],
    [[4, 5, 6, 7], [7]],
    [[7], [4, 5, 6, 7]],
    [[4, 5, 6, 7], [1, 1, 1, 7]],
    [[500, 300], []],
    [[], [500, 300]],
    [[4, 5, 6, 7], [1]],
    [[4, 5, 6, 7], [6, 7]],
    [[4, 1, 7], [4, 5, 7]],
  ]) {
    it(`Add, Sub, Mul, Div: ${JSON.stringify(a)} with ${JSON.stringify(b)}`, async () => {
      for (const [name, op] of binaries) await assertAgrees(name, valueAndGrads([a, b], op));
    });
  }

  it('FusedBatchNorm with scale and offset: values and gradients', async () => {
    await assertAgrees(
      'batchNorm',
      valueAndGrads([[6, 5, 5, 8], [8], [8], [8], [8]], (x, mean, v, offset, scale) => tf.batchNorm(x, mean, tf.add(tf.abs(v), 0.1), offset, scale, 1e-3)),
    );
  });

  // tfjs' own FusedBatchNorm gradient fails without offset/scale on every backend: values only.
  it('FusedBatchNorm without scale or offset: values', async () => {
    await assertAgrees('batchNorm bare', () => {
      const t = (shape: number[], seed: number) => tf.tensor(seededArray(tf.util.sizeFromShape(shape), seed), shape);
      return [tf.batchNorm(t([6, 5, 5, 8], 1), t([8], 2), tf.add(tf.abs(t([8], 3)), 0.1), undefined, undefined, 1e-3)];
    });
  });

  for (const activation of ['linear', 'relu', 'sigmoid'] as const) {
    it(`_FusedMatMul (Dense) with bias and ${activation}`, async () => {
      await assertAgrees(
        `fused matmul ${activation}`,
        valueAndGrads([[6, 9], [9, 4], [4]], (x, w, b) => tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, activation })),
      );
    });
  }
});
