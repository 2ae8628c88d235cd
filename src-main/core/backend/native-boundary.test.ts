/**
 * The addon refuses bad calls: every entry point of native/cnnwb.cc is called with inconsistent geometry —
 * negative, zero, fractional, non-finite and huge sizes, products that overflow, lengths that disagree with the
 * geometry, wrong types, missing arguments — and must throw an Error whose message names the function and the
 * field. In-process on purpose: a crash (a read past a buffer, a division by zero, an escaped C++ exception)
 * kills the test runner, which fails the run. After all of it, the addon still computes correctly.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadAddon, type NativeAddon } from './native';

type Raw = Record<string, (...args: unknown[]) => unknown>;

let lib: NativeAddon;
let raw: Raw;

const f = (n: number): Float32Array => new Float32Array(n);
const BIG = 2 ** 31; // one past the largest element count the addon takes
/** A same-padded 3×3 convolution of 2 images 5×5×3 into 4 channels: [n, h, w, c, kh, kw, oc, oh, ow, sh, sw, dh, dw, pt, pl]. */
const CONV = [2, 5, 5, 3, 3, 3, 4, 5, 5, 1, 1, 1, 1, 1, 1];
const X = 2 * 5 * 5 * 3;
const W = 3 * 3 * 3 * 4;
const Y = 2 * 5 * 5 * 4;
const conv = (patch: Record<number, number>): number[] => CONV.map((v, i) => patch[i] ?? v);
/** A 2×2 stride-2 max pool of 2 images 4×4×3: [n, h, w, c, fh, fw, oh, ow, sh, sw, pt, pl]. */
const POOL = [2, 4, 4, 3, 2, 2, 2, 2, 2, 2, 0, 0];
const pool = (patch: Record<number, number>): number[] => POOL.map((v, i) => patch[i] ?? v);
/** Conv → Flatten → Dense softmax on 6×6×2 images. */
const LAYERS = [[1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1], [7], [2, 5, 1, 2]];
const ADAM = [1, 0.9, 0.999, 1e-7];

/** Calls addon[fn](...args) and expects an Error whose message starts with `fn: ` and matches `why`. */
function refuses(fn: string, args: unknown[], why: RegExp): void {
  assert.throws(
    () => raw[fn]!(...args),
    (err: unknown) => {
      assert.ok(err instanceof Error, `${fn}: threw ${String(err)}, not an Error`);
      assert.ok(err.message.startsWith(`${fn}: `), `${fn}: the message should name the function: ${err.message}`);
      assert.match(err.message, why);
      return true;
    },
    `${fn}(${JSON.stringify(args.map((a) => (ArrayBuffer.isView(a) ? `<${a.constructor.name} ${(a as Float32Array).length}>` : a)))}) did not throw`,
  );
}

describe('the native addon refuses bad calls with a clear Error, never a crash', () => {
  before(() => {
    lib = loadAddon();
    raw = lib as unknown as Raw;
  });

  // Each entry point's cases; the first test checks that every function the addon exports has some.
  const cases: Record<string, () => void> = {
    conv2d: () => {
      const ok = (g: number[]): unknown[] => [f(X), f(W), null, f(Y), g, false];
      refuses('conv2d', ok(conv({ 0: -1 })), /geometry: batch -1 is outside \[0, 2147483647\]/);
      refuses('conv2d', ok(conv({ 0: 0 })), /geometry: batch must be ≥ 1, got 0/);
      refuses('conv2d', ok(conv({ 3: 0 })), /channels must be ≥ 1, got 0/);
      refuses('conv2d', ok(conv({ 9: 0 })), /stride height must be ≥ 1, got 0/);
      refuses('conv2d', ok(conv({ 10: 0 })), /stride width must be ≥ 1/);
      refuses('conv2d', ok(conv({ 11: 0 })), /dilation height must be ≥ 1/);
      refuses('conv2d', ok(conv({ 12: -2 })), /dilation width/);
      refuses('conv2d', ok(conv({ 13: -1 })), /padding top -1 is outside/);
      refuses('conv2d', ok(conv({ 1: 2.5 })), /height: expected an integer, got 2.5/);
      refuses('conv2d', ok(conv({ 2: NaN })), /expected a finite number/);
      refuses('conv2d', ok(conv({ 2: Infinity })), /expected a finite number/);
      refuses('conv2d', ok(conv({ 1: BIG })), /height 2147483648 is outside \[0, 2147483647\]/);
      refuses('conv2d', ok(conv({ 1: 2 ** 60 })), /height: expected an integer, got 1.15292e\+18/);
      // Consistent geometry whose tensors overflow the element count.
      refuses('conv2d', ok([1, 65536, 65536, 1, 1, 1, 1, 65536, 65536, 1, 1, 1, 1, 0, 0]), /input: more than 2\^31 - 1 elements/);
      refuses('conv2d', ok([1, 64, 64, 1, 1, 1, 1 << 20, 64, 64, 1, 1, 1, 1, 0, 0]), /output: more than 2\^31 - 1 elements/);
      refuses('conv2d', ok([1, 8, 8, 65536, 256, 256, 1, 1, 1, 1, 1, 1, 1, 0, 0]), /filter: more than/);
      // Output sizes or paddings that do not follow from the rest.
      refuses('conv2d', ok(conv({ 7: 9 })), /output height 9 does not follow from input height 5, window 3 \(dilation 1\), stride 1 and padding 1/);
      refuses('conv2d', ok(conv({ 8: 1 })), /output width 1 does not follow/);
      refuses('conv2d', ok(conv({ 13: 3 })), /does not follow/);
      refuses('conv2d', ok(conv({ 7: 1000000, 1: 5 })), /does not follow/);
      // Buffers that disagree with the geometry.
      refuses('conv2d', [f(X - 1), f(W), null, f(Y), CONV, false], /x: 149 floats, the geometry needs 150/);
      refuses('conv2d', [f(X), f(W - 1), null, f(Y), CONV, false], /filter: 107 floats, the geometry needs 108/);
      refuses('conv2d', [f(X), f(W), null, f(Y - 1), CONV, false], /out: 199 floats/);
      refuses('conv2d', [f(X), f(W), f(3), f(Y), CONV, true], /bias: 3 floats, the geometry needs 4/);
      refuses('conv2d', [f(0), f(0), null, f(0), CONV, false], /x: 0 floats/);
      // Types and arity.
      refuses('conv2d', [new Float64Array(X), f(W), null, f(Y), CONV, false], /x: expected a Float32Array/);
      refuses('conv2d', [Array.from(f(X)), f(W), null, f(Y), CONV, false], /x: expected a Float32Array/);
      refuses('conv2d', [f(X), f(W), 'bias', f(Y), CONV, false], /bias: expected a Float32Array or null/);
      refuses('conv2d', [f(X), f(W), null, f(Y), CONV.slice(1), false], /geometry: expected 15 numbers, received 14/);
      refuses('conv2d', [f(X), f(W), null, f(Y), 'geometry', false], /geometry: expected an array of numbers/);
      refuses('conv2d', [f(X), f(W), null, f(Y), CONV, 1], /relu: expected true or false/);
      refuses('conv2d', [f(X), f(W), null, f(Y), CONV], /expected 6 arguments, received 5/);
      refuses('conv2d', [], /expected 6 arguments, received 0/);
    },
    conv2dBackpropInput: () => {
      refuses('conv2dBackpropInput', [f(Y), f(W), f(X), conv({ 9: 0 })], /stride height must be ≥ 1/);
      refuses('conv2dBackpropInput', [f(Y), f(W), f(X), conv({ 0: 0 })], /batch must be ≥ 1/);
      refuses('conv2dBackpropInput', [f(Y), f(W), f(X), conv({ 7: 3 })], /output height 3 does not follow/);
      refuses('conv2dBackpropInput', [f(Y - 1), f(W), f(X), CONV], /dy: 199 floats, the geometry needs 200/);
      refuses('conv2dBackpropInput', [f(Y), f(W), f(X - 1), CONV], /dx: 149 floats/);
      refuses('conv2dBackpropInput', [f(Y), f(W), f(X), conv({ 0: BIG - 1 })], /input: more than/);
      refuses('conv2dBackpropInput', [f(Y), f(W), f(X)], /expected 4 arguments/);
    },
    conv2dBackpropFilter: () => {
      refuses('conv2dBackpropFilter', [f(X), f(Y), f(W), conv({ 12: 0 })], /dilation width must be ≥ 1/);
      refuses('conv2dBackpropFilter', [f(X), f(Y), f(W), conv({ 14: -5 })], /padding left -5 is outside/);
      refuses('conv2dBackpropFilter', [f(X), f(Y), f(W - 4), CONV], /dw: 104 floats, the geometry needs 108/);
      refuses('conv2dBackpropFilter', [f(X), f(Y - 1), f(W), CONV], /dy: 199 floats/);
      refuses('conv2dBackpropFilter', [f(X), f(Y), f(W), conv({ 4: 1e6 })], /dw: 108 floats, the geometry needs 36000000/);
    },
    matmul: () => {
      // [batchA, batchB, M, N, K, transA, transB]: a 3×(2×4) batch against 2×(4×5) neither broadcasts nor matches
      // (the old check read a[2] past a's 3 matrices... and b[2] past b's 2).
      refuses('matmul', [f(3 * 8), f(2 * 20), f(3 * 10), [3, 2, 2, 5, 4, 0, 0], null, false], /batches 3 and 2 do not broadcast/);
      refuses('matmul', [f(8), f(20), f(10), [1, 1, 0, 5, 4, 0, 0], null, false], /M must be ≥ 1, got 0/);
      refuses('matmul', [f(8), f(20), f(10), [1, 1, 2, 0, 4, 0, 0], null, false], /N must be ≥ 1, got 0/);
      refuses('matmul', [f(8), f(20), f(10), [1, 1, 2, 5, -4, 0, 0], null, false], /K -4 is outside/);
      refuses('matmul', [f(8), f(20), f(10), [1, 1, 2, 5, 4, 2, 0], null, false], /transpose flags must be 0 or 1/);
      refuses('matmul', [f(7), f(20), f(10), [1, 1, 2, 5, 4, 0, 0], null, false], /a: 7 floats, the geometry needs 8/);
      refuses('matmul', [f(8), f(19), f(10), [1, 1, 2, 5, 4, 0, 0], null, false], /b: 19 floats/);
      refuses('matmul', [f(8), f(20), f(9), [1, 1, 2, 5, 4, 0, 0], null, false], /out: 9 floats/);
      refuses('matmul', [f(8), f(20), f(10), [1, 1, 2, 5, 4, 0, 0], f(4), true], /bias: 4 floats, the geometry needs 5/);
      refuses('matmul', [f(8), f(20), f(10), [1, 1, 65536, 65536, 1, 0, 0], null, false], /out: more than 2\^31 - 1 elements/);
      refuses('matmul', [f(8), f(20), f(10), [1, 1, 2 ** 40, 1, 1, 0, 0], null, false], /M 1099511627776 is outside/);
      refuses('matmul', [f(8), f(20), f(10), [1, 1, 2, 5], null, false], /geometry: expected 7 numbers, received 4/);
    },
    maxPoolGrad: () => {
      const x = f(2 * 4 * 4 * 3);
      const dy = f(2 * 2 * 2 * 3);
      refuses('maxPoolGrad', [x, dy, f(x.length), pool({ 8: 0 })], /stride height must be ≥ 1, got 0/);
      refuses('maxPoolGrad', [x, dy, f(x.length), pool({ 4: 0 })], /pool height must be ≥ 1/);
      refuses('maxPoolGrad', [x, dy, f(x.length), pool({ 10: -1 })], /padding top -1 is outside/);
      refuses('maxPoolGrad', [x, dy, f(x.length), pool({ 6: 40 })], /output height 40 does not follow/);
      refuses('maxPoolGrad', [x, dy, f(x.length), pool({ 10: 2 })], /does not follow/);
      refuses('maxPoolGrad', [x, f(dy.length - 1), f(x.length), POOL], /dy: 23 floats, the geometry needs 24/);
      refuses('maxPoolGrad', [x, dy, f(x.length - 1), POOL], /dx: 95 floats/);
      refuses('maxPoolGrad', [x, dy, f(x.length), pool({ 0: BIG - 1 })], /x: more than/);
      refuses('maxPoolGrad', [x, dy, f(x.length), POOL.slice(0, 11)], /expected 12 numbers, received 11/);
    },
    reduceRows: () => {
      refuses('reduceRows', [f(12), f(3), 0, 3, 1], /rows: 0 is outside \[1, 2147483647\]/);
      refuses('reduceRows', [f(12), f(3), 4, -3, 1], /cols: -3 is outside/);
      refuses('reduceRows', [f(12), f(3), 65536, 65536, 1], /x: more than 2\^31 - 1 elements/);
      refuses('reduceRows', [f(11), f(3), 4, 3, 1], /x: 11 floats, the geometry needs 12/);
      refuses('reduceRows', [f(12), f(2), 4, 3, 1], /out: 2 floats/);
      refuses('reduceRows', [f(12), f(3), 4, 3, NaN], /scale: expected a finite number/);
      refuses('reduceRows', [f(12), f(3), 4, 3.5, 1], /cols: expected an integer, got 3.5/);
    },
    binary: () => {
      refuses('binary', [7, f(6), f(3), f(6), 6, 3, false], /op: 7 is outside \[0, 3\]/);
      refuses('binary', [0, f(6), f(3), f(6), 6, 0, false], /period: 0 is outside/);
      refuses('binary', [0, f(6), f(4), f(6), 6, 4, false], /period 4 does not divide n 6/);
      refuses('binary', [0, f(6), f(2), f(6), 6, 3, false], /b: 2 floats, the geometry needs 3/);
      refuses('binary', [0, f(5), f(3), f(6), 6, 3, false], /a: 5 floats/);
      refuses('binary', [0, f(6), f(3), f(5), 6, 3, false], /out: 5 floats/);
      refuses('binary', [0, f(6), f(3), f(6), -6, 3, false], /n: -6 is outside/);
      refuses('binary', [0, f(6), f(3), f(6), BIG, 1, false], /n: 2147483648 is outside/);
      refuses('binary', [0, f(6), f(3), f(6), 6, 3, 'yes'], /swap: expected true or false/);
    },
    batchNorm: () => {
      const ok = (patch: Record<number, unknown>): unknown[] => [f(12), f(3), f(3), null, null, f(12), 3, 1e-3].map((v, i) => (i in patch ? patch[i] : v));
      refuses('batchNorm', ok({ 6: 0 }), /channels: 0 is outside/);
      refuses('batchNorm', ok({ 6: -3 }), /channels: -3 is outside/);
      refuses('batchNorm', ok({ 6: 5 }), /x: 12 floats are not whole rows of 5 channels/);
      refuses('batchNorm', ok({ 1: f(2) }), /mean: 2 floats, the geometry needs 3/);
      refuses('batchNorm', ok({ 2: f(2) }), /variance: 2 floats/);
      refuses('batchNorm', ok({ 3: f(1) }), /offset: 1 floats/);
      refuses('batchNorm', ok({ 4: f(1) }), /scale: 1 floats/);
      refuses('batchNorm', ok({ 5: f(11) }), /out: 11 floats/);
      refuses('batchNorm', ok({ 7: -1 }), /epsilon: must be ≥ 0/);
      refuses('batchNorm', ok({ 7: NaN }), /epsilon: expected a finite number/);
      refuses('batchNorm', ok({ 0: f(0) }), /x: 0 floats are not whole rows/);
    },
    setThreads: () => {
      refuses('setThreads', [0], /threads: 0 is outside \[1, 1024\]/);
      refuses('setThreads', [-3], /threads: -3 is outside/);
      refuses('setThreads', [1e9], /outside/);
      refuses('setThreads', ['two'], /threads: expected an integer/);
      refuses('setThreads', [], /expected 1 arguments, received 0/);
    },
    useOneDnn: () => {
      refuses('useOneDnn', ['no'], /on: expected true or false/);
      refuses('useOneDnn', [], /expected 1 arguments/);
    },
    info: () => {
      // Takes nothing from JS; extra arguments are ignored.
      assert.equal(typeof (raw.info!(1, 'x', null) as { threads: number }).threads, 'number');
    },
    trainerCreate: () => {
      const create = (layers: unknown, input: unknown = [6, 6, 2], maxBatch: unknown = 4, opt: unknown = ADAM, seed: unknown = 1): unknown[] => [
        layers, input, maxBatch, opt, seed,
      ];
      const withFirst = (first: number[]): number[][] => [first, ...LAYERS.slice(1)];
      refuses('trainerCreate', create('layers'), /layers: expected an array of code lists/);
      refuses('trainerCreate', create([[1, 4, 3]]), /layer 0: expected 11 numbers, received 3/);
      refuses('trainerCreate', create(withFirst([1, 4, 3, 3, 0, 1, 1, 1, 1, 1, 1])), /layer 0: stride height must be an integer in \[1, 2\^31 - 1\], got 0/);
      refuses('trainerCreate', create(withFirst([1, 4, 3, 3, 1, 1, 0, 1, 1, 1, 1])), /layer 0: dilation height must be an integer/);
      refuses('trainerCreate', create(withFirst([1, -4, 3, 3, 1, 1, 1, 1, 1, 1, 1])), /layer 0: filters must be an integer in \[1, 2\^31 - 1\], got -4/);
      refuses('trainerCreate', create(withFirst([1, 4, 2.5, 3, 1, 1, 1, 1, 1, 1, 1])), /kernel height must be an integer .*got 2.5/);
      refuses('trainerCreate', create(withFirst([1, 4, 1e12, 3, 1, 1, 1, 1, 1, 1, 1])), /kernel height must be an integer .*got 1e\+12/);
      refuses('trainerCreate', create(withFirst([1, 4, 3, 3, 1, 1, 1, 1, 2, 1, 1])), /padding \(same\) must be 0 or 1, got 2/);
      refuses('trainerCreate', create(withFirst([1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 99])), /layer 0: unknown activation 99/);
      refuses('trainerCreate', create(withFirst([1, 4, 9, 9, 1, 1, 1, 1, 0, 1, 1])), /layer 0: output would be empty/);
      refuses('trainerCreate', create(withFirst([1, 4, 3, NaN, 1, 1, 1, 1, 1, 1, 1])), /layer 0\[3\]: expected a finite number/);
      refuses('trainerCreate', create(withFirst([1, 65536, 3, 3, 1, 1, 1, 1, 1, 1, 1]), [6, 6, 65536]), /layer 0 kernel: more than 2\^31 - 1 elements/);
      refuses('trainerCreate', create(withFirst([5, 0, 2, 2, 2, 0])), /layer 0: pool height must be an integer/);
      refuses('trainerCreate', create(withFirst([8, 2, 2, 0, 2, 0])), /layer 0: stride height must be an integer .*got 0/);
      refuses('trainerCreate', create(withFirst([11, 1, -1, 1, 1])), /layer 0: bottom padding must be an integer in \[0/);
      refuses('trainerCreate', create(withFirst([99])), /layer 0: unknown layer kind 99/);
      refuses('trainerCreate', create(withFirst([1.5])), /layer 0: unknown layer kind 1.5/);
      refuses('trainerCreate', create(withFirst([])), /layer 0: empty description/);
      refuses('trainerCreate', create([[7], [2, BIG - 1, 1, 2]]), /layer 1 kernel: more than 2\^31 - 1 elements/);
      refuses('trainerCreate', create([[7], [2, 5, 1, 2]], [6, 6, 2], 2 ** 30), /input: more than 2\^31 - 1 elements/);
      refuses('trainerCreate', create([[2, 5, 1, 2]]), /layer 0: Dense needs a flat input/);
      refuses('trainerCreate', create([[6, 1], ...LAYERS]), /layer 0: Dropout rate must be in \[0, 1\)/);
      refuses('trainerCreate', create([[7], [2, 5, 1, 0]]), /the last layer must end with a softmax/);
      // The two new layers: GroupNormalization [14, groups, ε, center, scale] and ReLU [15, max (-1: none), slope, threshold].
      refuses('trainerCreate', create(withFirst([14, 3, 1e-3, 1, 1])), /layer 0: 2 channels do not split into 3 groups/);
      refuses('trainerCreate', create(withFirst([14, 0, 1e-3, 1, 1])), /layer 0: groups must be an integer in \[1/);
      refuses('trainerCreate', create(withFirst([14, 2, -1, 1, 1])), /layer 0: epsilon must be a finite number ≥ 0/);
      refuses('trainerCreate', create(withFirst([14, 2, 1e-3, 2, 1])), /layer 0: center must be 0 or 1/);
      refuses('trainerCreate', create(withFirst([15, -2, 0, 0])), /layer 0: max_value \(or -1 for none\) must be a finite number ≥ 0/);
      refuses('trainerCreate', create(withFirst([15, 6, -0.1, 0])), /layer 0: negative_slope must be a finite number ≥ 0/);
      refuses('trainerCreate', create(withFirst([15, 6, 0, -1])), /layer 0: threshold must be a finite number ≥ 0, got -1/);
      refuses('trainerCreate', create(withFirst([15, 6, 0]), [6, 6, 2]), /layer 0: expected 4 numbers, received 3/);
      // The input, max batch, optimizer and seed.
      refuses('trainerCreate', create(LAYERS, [0, 6, 2]), /input: height 0 is outside \[1, 2147483647\]/);
      refuses('trainerCreate', create(LAYERS, [6, 6]), /input: expected 3 numbers, received 2/);
      refuses('trainerCreate', create(LAYERS, [6, 6, 2], 0), /maxBatch: 0 is outside/);
      refuses('trainerCreate', create(LAYERS, [6, 6, 2], 2 ** 40), /maxBatch: 1099511627776 is outside/);
      refuses('trainerCreate', create(LAYERS, [6, 6, 2], 4, [9, 0.9, 0.999, 1e-7]), /optimizer: expected \[kind \(1-5\), a, b, eps\]/);
      refuses('trainerCreate', create(LAYERS, [6, 6, 2], 4, [1, 0.9]), /optimizer: expected 4 numbers, received 2/);
      refuses('trainerCreate', create(LAYERS, [6, 6, 2], 4, ADAM, 0.5), /seed: expected an integer, got 0.5/);
      refuses('trainerCreate', create(LAYERS, [6, 6, 2], 4, ADAM, Number.MAX_VALUE), /seed: expected an integer/);
      // Each buffer fits, all of them would not: refused before any is allocated (not killed by the OOM killer).
      refuses('trainerCreate', create([...Array.from({ length: 40 }, () => [4, 0]), [7], [2, 5, 1, 2]], [1000, 1000, 2], 1000), /would need \d+ MB, more than this machine's \d+ MB/);
      refuses('trainerCreate', [LAYERS, [6, 6, 2]], /expected 5 arguments, received 2/);
      // Graphs (the 6th argument: per layer the layers it reads, -1 the input): a residual Conv → Add(input, conv).
      const graph = (layers: unknown, inputs: unknown, input: unknown = [6, 6, 2]): unknown[] => [...create(layers, input), inputs];
      const RES = [[1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1], [18], [7], [2, 5, 1, 2]];
      refuses('trainerCreate', graph(RES, 'x'), /graph: expected an array of input lists/);
      refuses('trainerCreate', graph(RES, [[-1], [-1, 0], [1]]), /graph: 3 input lists for 4 layers/);
      refuses('trainerCreate', graph(RES, [[-1], [-1, 0], [1], [3]]), /layer 3: input 3 must be -1 \(the model's input\) or an earlier layer, 0..2/);
      refuses('trainerCreate', graph(RES, [[-2], [-1, 0], [1], [2]]), /layer 0: input -2 must be -1/);
      refuses('trainerCreate', graph(RES, [[-1], [-1, 0.5], [1], [2]]), /layer 1: input 0.5 must be -1/);
      refuses('trainerCreate', graph(RES, [[-1], [0], [1], [2]]), /layer 1: Add takes 2 or more inputs, the graph gives 1/);
      refuses('trainerCreate', graph(RES, [[-1, -1], [-1, 0], [1], [2]]), /layer 0: this layer takes exactly 1 inputs, the graph gives 2/);
      refuses('trainerCreate', graph(RES, [[-1], [-1, 0], [1], [2]], [6, 6, 3]), /layer 1: Add needs inputs of one shape: the input \[6, 6, 3\] and layer 0 \[6, 6, 2\]/);
      refuses('trainerCreate', graph([[1, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1], [19], [7], [2, 5, 1, 2]], [[-1], [-1, 0], [1], [2]]), /layer 1: Concatenate needs the same height and width: the input \[6, 6, 2\] and layer 0 \[3, 3, 2\]/);
      refuses('trainerCreate', graph([[1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1], [23], [7], [2, 5, 1, 2]], [[-1], [-1, 0, 0], [1], [2]]), /layer 1: Subtract takes exactly 2 inputs, the graph gives 3/);
      refuses('trainerCreate', graph([[1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1], [1, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1], [7], [2, 5, 1, 2]], [[-1], [-1], [1], [2]]), /layer 0: its output reaches no later layer/);
      refuses('trainerCreate', graph([[18, 1], [7], [2, 5, 1, 2]], [[-1, -1], [0], [1]]), /layer 0: expected 1 numbers, received 2/);
      refuses('trainerCreate', create(RES), /layer 1: a merge layer needs a graph/);
    },
    trainerLayout: () => {
      refuses('trainerLayout', [{}], /expected a trainer handle/);
      refuses('trainerLayout', [42], /expected a trainer handle/);
      refuses('trainerLayout', [], /expected 1 arguments/);
    },
    trainerParam: () => {
      const t = lib.trainerCreate(LAYERS, [6, 6, 2], 4, ADAM, 1);
      refuses('trainerParam', [t, 3, 0, f(1), true], /layer: 3 is outside \[0, 2\]/);
      refuses('trainerParam', [t, -1, 0, f(1), true], /layer: -1 is outside/);
      refuses('trainerParam', [t, 1, 0, f(1), true], /param: 0 is outside \[0, -1\]/); // Flatten has no weights
      refuses('trainerParam', [t, 0, 2, f(1), true], /param: 2 is outside \[0, 1\]/);
      refuses('trainerParam', [t, 0, 0, f(71), true], /layer 0 param 0 has 72 values, received 71/);
      refuses('trainerParam', [t, 0, 0, f(72), 'write'], /write: expected true or false/);
      refuses('trainerParam', [t, 0.5, 0, f(72), true], /layer: expected an integer, got 0.5/);
      refuses('trainerParam', [{}, 0, 0, f(72), true], /expected a trainer handle/);
      // The optimizer slots (checkpoints): slot 1 / 2 of a trainable weight; a non-trainable one has none.
      refuses('trainerParam', [t, 0, 0, f(72), true, 3], /slot: 3 is outside \[0, 2\]/);
      refuses('trainerParam', [t, 0, 0, f(71), false, 2], /layer 0 param 0 slot 2 has 72 values, received 71/);
      lib.trainerDispose(t);
      refuses('trainerParam', [t, 0, 0, f(72), true], /this trainer was disposed/);
    },
    trainerCounters: () => {
      const t = lib.trainerCreate(LAYERS, [6, 6, 2], 4, ADAM, 1);
      refuses('trainerCounters', [t, [1]], /counters: expected 2 numbers, received 1/);
      refuses('trainerCounters', [t, [-1, 0]], /counters: steps -1 is outside/);
      refuses('trainerCounters', [t, [0, 0.5]], /counters: dropoutCalls: expected an integer, got 0.5/);
      refuses('trainerCounters', [], /expected 1 arguments/);
      assert.deepEqual(lib.trainerCounters(t, [3, 4]), [0, 0]);
      assert.deepEqual(lib.trainerCounters(t), [3, 4]);
      lib.trainerDispose(t);
      refuses('trainerCounters', [t], /this trainer was disposed/);
    },
    trainerStep: () => {
      const t = lib.trainerCreate(LAYERS, [6, 6, 2], 4, ADAM, 1);
      const x = f(4 * 72);
      const labels = new Int32Array(4);
      refuses('trainerStep', [t, x, labels, 0, 1e-3], /n: 0 is outside \[1, 4\]/);
      refuses('trainerStep', [t, x, labels, 5, 1e-3], /n: 5 is outside \[1, 4\]/);
      refuses('trainerStep', [t, x, labels, 2 ** 40, 1e-3], /n: 1099511627776 is outside/);
      refuses('trainerStep', [t, x.subarray(0, 3 * 72 - 1), labels, 3, 1e-3], /x: 215 floats, the geometry needs 216/);
      refuses('trainerStep', [t, x, labels.subarray(0, 2), 3, 1e-3], /labels: 2 labels for 3 images/);
      refuses('trainerStep', [t, x, Float32Array.from(labels), 4, 1e-3], /labels: expected an Int32Array/);
      refuses('trainerStep', [t, x, Int32Array.of(0, 1, 7, 2), 4, 1e-3], /label 7 outside \[0, 5\)/);
      refuses('trainerStep', [t, x, labels, 4, NaN], /lr: expected a finite number/);
      refuses('trainerStep', [t, x, labels, 4], /expected 5 arguments, received 4/);
      lib.trainerDispose(t);
      refuses('trainerStep', [t, x, labels, 4, 1e-3], /this trainer was disposed/);
    },
    augment: () => {
      // 2 images 3×4×2; a flip (2 flags per image) then a transform (8 per image): 20 parameters.
      const OPS = [[2, 1], [3, 0, 0, 0]];
      const P = [1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0];
      const ok = (patch: Record<number, unknown>): unknown[] => [f(48), f(48), 2, [3, 4, 2], OPS, Float32Array.from(P), true].map((v, i) => (i in patch ? patch[i] : v));
      refuses('augment', ok({ 0: f(47) }), /x: 47 floats, the geometry needs 48/);
      refuses('augment', ok({ 1: f(47) }), /out: 47 floats, the geometry needs 48/);
      refuses('augment', ok({ 2: -1 }), /n: -1 is outside/);
      refuses('augment', ok({ 2: 1.5 }), /n: expected an integer, got 1.5/);
      refuses('augment', ok({ 3: [3, 0, 2] }), /shape: width 0 is outside \[1, 2147483647\]/);
      refuses('augment', ok({ 3: [65536, 65536, 2], 2: 0 }), /one image: more than 2\^31 - 1 elements/);
      refuses('augment', ok({ 4: 'flip' }), /ops: expected an array of code lists/);
      refuses('augment', ok({ 4: [[9]] }), /ops: op 0: unknown kind 9/);
      refuses('augment', ok({ 4: [[2]] }), /ops: op 0: kind 2 takes 2 numbers, received 1/);
      refuses('augment', ok({ 4: [[2, 4], [3, 0, 0, 0]] }), /op 0: flip mode 4 is not 1 \(horizontal\), 2 \(vertical\) or 3/);
      refuses('augment', ok({ 4: [[2, 1], [3, 5, 0, 0]] }), /op 1: fill mode 5 is not 0 \(reflect\)/);
      refuses('augment', ok({ 4: [[2, 1], [3, 0, 2, 0]] }), /op 1: interpolation 2 is not 0 \(bilinear\) or 1 \(nearest\)/);
      refuses('augment', ok({ 4: [[2, 1], [3, 0, 0, NaN]] }), /op 1\[3\]: expected a finite number/);
      refuses('augment', ok({ 4: [[4, 1.5, 0, 1]], 5: f(2) }), /op 0: contrast factor 1.5 is outside \[0, 1\]/);
      refuses('augment', ok({ 4: [[5, -0.1, 0, 1]], 5: f(2) }), /op 0: brightness factor -0.1 is outside \[0, 1\]/);
      refuses('augment', ok({ 4: [[5, 0.1, 1, 1]], 5: f(2) }), /op 0: brightness value range \[1, 1\] is empty/);
      refuses('augment', ok({ 4: [[1, 2]] }), /op 0: kind 1 takes 3 numbers, received 2/);
      refuses('augment', ok({ 5: f(19) }), /params: 19 floats, the ops need 20/);
      refuses('augment', ok({ 5: [1, 0] }), /params: expected a Float32Array/);
      refuses('augment', ok({ 5: Float32Array.from(P, (v, i) => (i === 0 ? 0.5 : v)) }), /params: op 0: image 0: flip flag 0.5 is not 0 or 1/);
      refuses('augment', ok({ 5: Float32Array.from(P, (v, i) => (i === 11 ? 1 : v)) }), /params: op 0: image 1: a vertical flip this mode does not allow/);
      refuses('augment', ok({ 5: Float32Array.from(P, (v, i) => (i === 4 ? NaN : v)) }), /params: op 1: image 0: parameter 2 is not finite/);
      refuses('augment', ok({ 5: Float32Array.from(P, (v, i) => (i === 2 ? 1e9 : v)) }), /params: op 1: image 0: matrix entry 0 = 1e\+09 is beyond ±1e6/);
      refuses('augment', ok({ 4: [[4, 0.2, 0, 1]], 5: Float32Array.of(1.1, 1.5) }), /params: op 0: image 1: contrast 1.5 is outside \[0.8, 1.2\]/);
      refuses('augment', ok({ 4: [[5, 0.2, 0, 1]], 5: Float32Array.of(-0.3, 0) }), /params: op 0: image 0: brightness -0.3 is outside ±0.2/);
      refuses('augment', ok({ 5: f(1), 6: false }), /params: 1 floats, the ops need 0/);
      refuses('augment', ok({ 6: 1 }), /training: expected true or false/);
      refuses('augment', [f(48), f(48), 2], /expected 7 arguments, received 3/);
      lib.augment(f(48), f(48), 2, [3, 4, 2], OPS, Float32Array.from(P), true); // the same call, well-formed, works
    },
    trainerInfer: () => {
      const t = lib.trainerCreate(LAYERS, [6, 6, 2], 1, ADAM, 1);
      refuses('trainerInfer', [t, f(3 * 72 - 1), 3, f(15)], /x: 215 floats, the geometry needs 216/);
      refuses('trainerInfer', [t, f(3 * 72), 3, f(14)], /y: 14 floats, the geometry needs 15/);
      refuses('trainerInfer', [t, f(72), -1, f(5)], /n: -1 is outside/);
      refuses('trainerInfer', [t, f(72), 1], /expected 4 arguments, received 3/);
      lib.trainerInfer(t, f(300 * 72), 300, f(300 * 5)); // more images than maxBatch: it works in chunks
      lib.trainerDispose(t);
      refuses('trainerInfer', [t, f(72), 1, f(5)], /this trainer was disposed/);
    },
    trainerInferCheck: () => {
      refuses('trainerInferCheck', [{}], /expected a trainer handle/);
      refuses('trainerInferCheck', [], /expected 1 arguments/);
    },
    trainerProfile: () => {
      const t = lib.trainerCreate(LAYERS, [6, 6, 2], 1, ADAM, 1);
      refuses('trainerProfile', [t, 'yes'], /reset: expected true or false/);
      refuses('trainerProfile', [t], /expected 2 arguments, received 1/);
      lib.trainerDispose(t);
      refuses('trainerProfile', [t, false], /this trainer was disposed/);
    },
    trainerDispose: () => {
      refuses('trainerDispose', ['handle'], /expected a trainer handle/);
      refuses('trainerDispose', [], /expected 1 arguments/);
      const t = lib.trainerCreate(LAYERS, [6, 6, 2], 4, ADAM, 1);
      lib.trainerDispose(t);
      lib.trainerDispose(t); // twice is harmless
      refuses('trainerLayout', [t], /this trainer was disposed/);
    },
  };

  it('has refusal cases for every function the addon exports', () => {
    // (The addon's properties are not enumerable: napi_default.)
    const exported = Object.getOwnPropertyNames(lib).filter((k) => typeof raw[k] === 'function');
    assert.deepEqual(exported.sort(), Object.keys(cases).sort());
  });

  for (const [fn, run] of Object.entries(cases)) {
    it(`${fn}: refuses bad arguments`, () => run());
  }

  it('still computes correctly afterwards (a 1×1 convolution, a product, a fused step)', () => {
    const threads = lib.info().threads;
    lib.setThreads(2);
    const out = f(2);
    lib.conv2d(Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 10), null, out, [1, 1, 2, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 0, 0], false);
    assert.deepEqual(Array.from(out), [21, 43]);
    const mm = f(4);
    lib.matmul(Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 0, 0, 1), mm, [1, 1, 2, 2, 2, 0, 0], null, false);
    assert.deepEqual(Array.from(mm), [1, 2, 3, 4]);
    const t = lib.trainerCreate(LAYERS, [6, 6, 2], 4, ADAM, 1);
    const [loss, , finite] = lib.trainerStep(t, f(4 * 72), Int32Array.of(0, 1, 2, 3), 4, 1e-3);
    assert.ok(Math.abs(loss! - Math.log(5)) < 1e-6, `zero weights give uniform probabilities: loss ${loss} vs ln 5`);
    assert.equal(finite, 1);
    lib.trainerDispose(t);
    lib.setThreads(threads);
  });
});
