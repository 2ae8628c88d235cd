/**
 * The 'native' backend: the wasm backend (and its workbench kernels) with the hot training ops — Conv2D forward
 * and both backprops, matrix products — replaced by the N-API addon in native/ (im2col + OpenBLAS SGEMM on
 * every core). The addon reads and writes the wasm heap in place, so nothing is copied in or out.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmAlias } from './wasm';

const require = createRequire(import.meta.url);

/**
 * The addon's interface (native/cnnwb.cc). Geometry arrays are documented there. The addon checks every
 * argument and throws an Error naming the function and field for a bad one; the kernels below hand it only what
 * it covers (non-empty tensors, paddings shorter than the window) and leave the rest to the wasm kernels.
 */
export interface NativeAddon {
  conv2d(x: Float32Array, filter: Float32Array, bias: Float32Array | null, out: Float32Array, geometry: number[], relu: boolean): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: number[]): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: number[]): void;
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, geometry: number[], bias: Float32Array | null, relu: boolean): void;
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, geometry: number[]): void;
  reduceRows(x: Float32Array, out: Float32Array, rows: number, cols: number, scale: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, n: number, period: number, swap: boolean): void;
  batchNorm(
    x: Float32Array, mean: Float32Array, variance: Float32Array, offset: Float32Array | null, scale: Float32Array | null,
    out: Float32Array, channels: number, epsilon: number,
  ): void;
  setThreads(n: number): void;
  /** The fused training step (native/trainer.h): layer codes, [h, w, c], max batch, optimizer codes, seed, the
   *  graph (null: a straight list), precision (0 float32, 1 mixed_bfloat16). */
  trainerCreate(
    layers: number[][], input: number[], maxBatch: number, optimizer: number[], seed: number, graph?: number[][] | null, precision?: number,
  ): unknown;
  /** Per layer: output shape [h, w, c], the size of each weight in tfjs' order, and whether it computes in
   *  bfloat16 (absent in addons built before mixed_bfloat16). */
  trainerLayout(handle: unknown): { shape: number[]; params: number[]; bf16?: boolean }[];
  /** Copies one weight into the trainer (`write`) or out of it; `slot` 1 and 2 are its optimizer slots (0: the value). */
  trainerParam(handle: unknown, layer: number, param: number, data: Float32Array, write: boolean, slot?: number): void;
  /** [optimizer steps, Dropout calls] before the call; with `set`, replaces them (a resumed run continues the streams). */
  trainerCounters(handle: unknown, set?: [number, number]): [number, number];
  /** Frees the trainer's buffers now; the handle is unusable afterwards. */
  trainerDispose(handle: unknown): void;
  /** One step: [loss, accuracy, 1 if every weight is finite else 0]. */
  trainerStep(handle: unknown, x: Float32Array, labels: Int32Array, n: number, lr: number): number[];
  /** The inference pass (BatchNorm on moving statistics, Dropout off) of n images into y (n × outputs). */
  trainerInfer(handle: unknown, x: Float32Array, n: number, y: Float32Array): void;
  /** The index of the first layer trainerInfer does not cover, or -1. */
  trainerInferCheck(handle: unknown): number;
  /** Seconds per layer category (5) for forward, backward and inference, then loss, optimizer, steps, images inferred. */
  trainerProfile(handle: unknown, reset: boolean): number[];
  /**
   * The augmentation pass (native/augment.h) of n images [h, w, c] into `out` (may be `x`): `ops` are the leading
   * preprocessing layers' code lists, `params` the random layers' drawn per-image parameters (empty at inference,
   * where only Rescaling applies).
   */
  augment(x: Float32Array, out: Float32Array, n: number, shape: number[], ops: number[][], params: Float32Array, training: boolean): void;
  /** oneDNN convolutions (default, when built with them) or the im2col + OpenBLAS path (false; for tests). */
  useOneDnn(on: boolean): void;
  /**
   * `core`: the OpenBLAS kernel set; `coreChosenBy`: who chose it (OPENBLAS_CORETYPE, the addon on an AVX-512
   * CPU, or OpenBLAS itself); `convolutions`: the oneDNN build doing the convolutions, '' for im2col + OpenBLAS.
   */
  info(): { blas: string; core: string; threads: number; coreChosenBy: string; convolutions: string; bf16?: boolean };
}

/** The repository root: this file is src-main/core/backend/native.ts (or bundled into out/, two levels deep). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'native'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

let addon: NativeAddon | null = null;

/**
 * Loads native/build/cnnwb.node (or the build `CNN_WORKBENCH_ADDON` names: the bench compares an old build with a
 * new one in the same conditions), or throws saying why it is not there (the build's own reason if recorded).
 */
export function loadAddon(): NativeAddon {
  if (addon) return addon;
  const dir = path.join(repoRoot(), 'native', 'build');
  const file = process.env.CNN_WORKBENCH_ADDON ? path.resolve(process.env.CNN_WORKBENCH_ADDON) : path.join(dir, 'cnnwb.node');
  if (!fs.existsSync(file)) {
    const errFile = path.join(dir, 'build-error.txt');
    const why = fs.existsSync(errFile) ? fs.readFileSync(errFile, 'utf8').trim() : 'native kernels not built (run: bash scripts/build-native.sh)';
    throw new Error(why);
  }
  // OpenMP threads that wait at a barrier sleep instead of spinning (libgomp reads this when the addon loads it).
  // Spinning costs nothing on an idle machine but everything on a busy one: with 2 threads at load ~20, a lesson
  // training step took 3.6 s spinning and 0.5 s passive (the UI shares these cores too). A user's setting wins.
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) process.env.OMP_WAIT_POLICY = 'passive';
  addon = require(file) as NativeAddon;
  return addon;
}

/**
 * A second build of the addon beside the loaded one (the bench's `--paired` A/B: both in one process, their steps
 * alternating, so the host's noise falls on both alike); it gets the loaded one's thread count.
 */
export function loadAddonFrom(file: string): NativeAddon {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such addon build`);
  const lib = require(path.resolve(file)) as NativeAddon;
  lib.setThreads(nativeThreads());
  return lib;
}

/** Threads for the native kernels: CNN_WORKBENCH_THREADS, else every core the OS gives this process. */
export function nativeThreads(): number {
  const env = Number(process.env.CNN_WORKBENCH_THREADS);
  return Number.isInteger(env) && env > 0 ? env : os.availableParallelism();
}

type Args<A> = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: A };
type ConvInfo = tf.backend_util.Conv2DInfo;

function need(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: input '${name}' is missing`);
  return t;
}

function geometry(c: ConvInfo): number[] {
  return [
    c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.outChannels, c.outHeight, c.outWidth,
    c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth, c.padInfo.top, c.padInfo.left,
  ];
}

/**
 * Whether the addon takes this window geometry: no empty tensor, and each padding shorter than the (dilated)
 * window, which tfjs' 'same' and 'valid' always give; explicit paddings beyond it go to the wasm kernels.
 */
function windowCovered(
  sizes: number[],
  pad: { top: number; bottom: number; left: number; right: number },
  effectiveHeight: number,
  effectiveWidth: number,
): boolean {
  return (
    sizes.every((d) => d >= 1) &&
    [pad.top, pad.bottom].every((p) => p >= 0 && p < effectiveHeight) &&
    [pad.left, pad.right].every((p) => p >= 0 && p < effectiveWidth)
  );
}

function convCovered(c: ConvInfo): boolean {
  return windowCovered(geometry(c).slice(0, 13), c.padInfo, c.effectiveFilterHeight, c.effectiveFilterWidth);
}

function f32(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** Builds the native kernel set; `fallback(name)` is the wasm kernel used for cases the addon does not cover. */
function nativeKernels(lib: NativeAddon, fallback: (name: string) => KernelFunc): KernelConfig[] {
  const delegate = (name: string, args: Args<unknown>): TensorInfo =>
    fallback(name)({ inputs: args.inputs, backend: args.backend, attrs: args.attrs as NamedAttrMap }) as TensorInfo;

  function conv(name: 'Conv2D' | 'FusedConv2D', args: Args<ConvAttrs>): TensorInfo {
    const { inputs, backend, attrs } = args;
    const x = need(inputs, 'x', name);
    const filter = need(inputs, 'filter', name);
    const bias = inputs.bias;
    const act = attrs.activation ?? 'linear';
    const info = convInfo(x.shape, filter.shape, attrs);
    if (
      attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || inputs.preluActivationWeights || !convCovered(info) ||
      (act !== 'linear' && act !== 'relu') || (bias && bias.shape.reduce((p, d) => p * d, 1) !== info.outChannels)
    ) {
      return delegate(name, args);
    }
    const out = backend.makeOutput(info.outShape, 'float32');
    lib.conv2d(f32(backend, x), f32(backend, filter), bias ? f32(backend, bias) : null, f32(backend, out), geometry(info), act === 'relu');
    return out;
  }

  function backpropInput(args: Args<ConvAttrs>): TensorInfo {
    const { inputs, backend, attrs } = args;
    const dy = need(inputs, 'dy', 'Conv2DBackpropInput');
    const filter = need(inputs, 'filter', 'Conv2DBackpropInput');
    if (attrs.dataFormat === 'NCHW' || !attrs.inputShape) return delegate('Conv2DBackpropInput', args);
    const info = convInfo(attrs.inputShape, filter.shape, attrs);
    if (!convCovered(info)) return delegate('Conv2DBackpropInput', args);
    const out = backend.makeOutput(attrs.inputShape, 'float32');
    lib.conv2dBackpropInput(f32(backend, dy), f32(backend, filter), f32(backend, out), geometry(info));
    return out;
  }

  function backpropFilter(args: Args<ConvAttrs>): TensorInfo {
    const { inputs, backend, attrs } = args;
    const x = need(inputs, 'x', 'Conv2DBackpropFilter');
    const dy = need(inputs, 'dy', 'Conv2DBackpropFilter');
    if (attrs.dataFormat === 'NCHW' || !attrs.filterShape) return delegate('Conv2DBackpropFilter', args);
    const info = convInfo(x.shape, attrs.filterShape, attrs);
    if (!convCovered(info)) return delegate('Conv2DBackpropFilter', args);
    const out = backend.makeOutput(attrs.filterShape, 'float32');
    lib.conv2dBackpropFilter(f32(backend, x), f32(backend, dy), f32(backend, out), geometry(info));
    return out;
  }

  interface MatMulAttrs {
    transposeA: boolean;
    transposeB: boolean;
    activation?: string;
  }
  function matmul(name: 'BatchMatMul' | '_FusedMatMul', args: Args<MatMulAttrs>): TensorInfo {
    const { inputs, backend, attrs } = args;
    const a = need(inputs, 'a', name);
    const b = need(inputs, 'b', name);
    const bias = inputs.bias;
    const act = attrs.activation ?? 'linear';
    const ra = a.shape.length;
    const rb = b.shape.length;
    const M = attrs.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = attrs.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const N = attrs.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const Kb = attrs.transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const batchA = outerA.reduce((p, d) => p * d, 1);
    const batchB = outerB.reduce((p, d) => p * d, 1);
    const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
    if (
      a.dtype !== 'float32' || b.dtype !== 'float32' || K !== Kb || inputs.preluActivationWeights ||
      (act !== 'linear' && act !== 'relu') || (bias && bias.shape.reduce((p, d) => p * d, 1) !== N) ||
      !(sameOuter || batchA === 1 || batchB === 1) || ![batchA, batchB, M, N].every((d) => d >= 1)
    ) {
      return delegate(name, args);
    }
    const outer = batchA >= batchB ? outerA : outerB;
    const out = backend.makeOutput([...outer, M, N], 'float32');
    lib.matmul(
      f32(backend, a), f32(backend, b), f32(backend, out),
      [batchA, batchB, M, N, K, attrs.transposeA ? 1 : 0, attrs.transposeB ? 1 : 0],
      bias ? f32(backend, bias) : null, act === 'relu',
    );
    return out;
  }

  interface PoolAttrs {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'valid' | 'same' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  }
  function maxPoolGrad(args: Args<PoolAttrs>): TensorInfo {
    const { inputs, backend, attrs } = args;
    const dy = need(inputs, 'dy', 'MaxPoolGrad');
    const x = need(inputs, 'input', 'MaxPoolGrad');
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode,
    );
    const geometry = [
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.effectiveFilterHeight, info.effectiveFilterWidth,
      info.outHeight, info.outWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    ];
    if (!windowCovered(geometry.slice(0, 10), info.padInfo, info.effectiveFilterHeight, info.effectiveFilterWidth)) {
      return delegate('MaxPoolGrad', args);
    }
    const out = backend.makeOutput(x.shape, 'float32');
    lib.maxPoolGrad(f32(backend, x), f32(backend, dy), f32(backend, out), geometry);
    return out;
  }

  /** Sum / Mean over every axis but the last ([N,H,W,C] → [C]: bias, BatchNorm statistics and their gradients). */
  function reduce(name: 'Sum' | 'Mean', args: Args<{ axis: number | number[]; keepDims: boolean }>): TensorInfo {
    const { inputs, backend, attrs } = args;
    const x = need(inputs, 'x', name);
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((p, q) => p - q);
    if (x.dtype !== 'float32' || rank < 2 || axes.length !== rank - 1 || !axes.every((ax, i) => ax === i)) return delegate(name, args);
    const cols = x.shape[rank - 1];
    const rows = x.shape.slice(0, -1).reduce((p, d) => p * d, 1);
    if (rows === 0 || cols === 0) return delegate(name, args);
    const out = backend.makeOutput(attrs.keepDims ? x.shape.map((d, i) => (i === rank - 1 ? d : 1)) : [cols], 'float32');
    lib.reduceRows(f32(backend, x), f32(backend, out), rows, cols, name === 'Mean' ? 1 / rows : 1);
    return out;
  }

  const size = (shape: number[]): number => shape.reduce((p, d) => p * d, 1);
  /** Whether `v` broadcasts against `full` as one value per last-axis entry ([C], [1,1,1,C], …). */
  const isChannelVector = (v: number[], full: number[]): boolean =>
    v.length >= 1 && v.length <= full.length && v[v.length - 1] === full[full.length - 1] && size(v) === v[v.length - 1];

  /** Add / Sub / Mul / RealDiv when one side is the full shape and the other the same shape, a scalar or a channel vector. */
  function binary(name: string, op: number, args: Args<unknown>): TensorInfo {
    const { inputs, backend } = args;
    const a = need(inputs, 'a', name);
    const b = need(inputs, 'b', name);
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return delegate(name, args);
    const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
    const fits = (small: number[], full: number[]): boolean =>
      small.length <= full.length && (size(small) === 1 || isChannelVector(small, full));
    let swap = false;
    let full = a;
    let small = b;
    if (!same) {
      if (fits(b.shape, a.shape)) {
        // a op b with b broadcast.
      } else if (fits(a.shape, b.shape)) {
        swap = true;
        full = b;
        small = a;
      } else {
        return delegate(name, args);
      }
    }
    const n = size(full.shape);
    const period = same ? n : size(small.shape) === 1 ? 1 : full.shape[full.shape.length - 1];
    if (n === 0) return delegate(name, args);
    const out = backend.makeOutput(full.shape, 'float32');
    lib.binary(op, f32(backend, full), f32(backend, small), f32(backend, out), n, period, swap);
    return out;
  }

  function batchNorm(args: Args<{ varianceEpsilon: number }>): TensorInfo {
    const { inputs, backend, attrs } = args;
    const x = need(inputs, 'x', 'FusedBatchNorm');
    const mean = need(inputs, 'mean', 'FusedBatchNorm');
    const variance = need(inputs, 'variance', 'FusedBatchNorm');
    const { offset, scale } = inputs;
    const per = [mean, variance, offset, scale].filter((t): t is TensorInfo => t != null);
    if (x.dtype !== 'float32' || x.shape.length < 1 || size(x.shape) === 0 || !per.every((t) => t.dtype === 'float32' && isChannelVector(t.shape, x.shape))) {
      return delegate('FusedBatchNorm', args);
    }
    const out = backend.makeOutput(x.shape, 'float32');
    lib.batchNorm(
      f32(backend, x), f32(backend, mean), f32(backend, variance), offset ? f32(backend, offset) : null, scale ? f32(backend, scale) : null,
      f32(backend, out), x.shape[x.shape.length - 1], attrs.varianceEpsilon,
    );
    return out;
  }

  const k = (kernelName: string, fn: (args: Args<never>) => TensorInfo): KernelConfig => ({
    kernelName,
    backendName: 'native',
    kernelFunc: fn as unknown as KernelFunc,
  });
  return [
    k('Conv2D', (a) => conv('Conv2D', a)),
    k('FusedConv2D', (a) => conv('FusedConv2D', a)),
    k('Conv2DBackpropInput', backpropInput),
    k('Conv2DBackpropFilter', backpropFilter),
    k('BatchMatMul', (a) => matmul('BatchMatMul', a)),
    k('_FusedMatMul', (a) => matmul('_FusedMatMul', a)),
    k('MaxPoolGrad', maxPoolGrad),
    k('Sum', (a) => reduce('Sum', a)),
    k('Mean', (a) => reduce('Mean', a)),
    k('Add', (a) => binary('Add', 0, a)),
    k('Sub', (a) => binary('Sub', 1, a)),
    k('Multiply', (a) => binary('Multiply', 2, a)),
    k('RealDiv', (a) => binary('RealDiv', 3, a)),
    k('FusedBatchNorm', batchNorm),
  ];
}

let registered: Promise<NativeAddon> | null = null;

/**
 * Loads the addon and registers the 'native' backend (an alias of the wasm backend instance whose hot
 * kernels run in the addon). Throws, saying why, when the addon is not built or does not load.
 */
export function registerNativeBackend(): Promise<NativeAddon> {
  registered ??= (async () => {
    const lib = loadAddon();
    lib.setThreads(nativeThreads());
    // CNN_WORKBENCH_ONEDNN=0: im2col + OpenBLAS convolutions even where oneDNN is built in (to compare, or to
    // work around a oneDNN problem on some CPU).
    if (process.env.CNN_WORKBENCH_ONEDNN === '0') lib.useOneDnn(false);
    const fallback = (name: string): KernelFunc => {
      const kernel = tf.getKernel(name, 'wasm');
      if (!kernel) throw new Error(`the wasm backend has no ${name} kernel`);
      return kernel.kernelFunc;
    };
    await registerWasmAlias('native', nativeKernels(lib, fallback));
    return lib;
  })();
  registered.catch(() => {
    registered = null;
  });
  return registered;
}
