/**
 * Training kernels that `@tensorflow/tfjs-backend-wasm` 4.22 lacks, so that every layer of the spec can be
 * trained on it: Conv2DBackpropFilter (Conv2D, SeparableConv2D) and both depthwise backprops
 * (DepthwiseConv2D, SeparableConv2D). They read and write the wasm heap directly (no copies in or out).
 */
import * as tf from '@tensorflow/tfjs';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type ConvInfo = tf.backend_util.Conv2DInfo;
type Args<A> = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: A };

/** Input `name` of a kernel call; tfjs always passes them, the check only satisfies the types. */
function need(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: input '${name}' is missing`);
  return t;
}

/** Tuning knobs (tests lower them to exercise the chunked paths on small tensors). */
export const wasmKernelTuning = {
  /** Bounds the im2col scratch buffer of Conv2DBackpropFilter (elements; 8 Mi = 32 MB). */
  maxIm2colElements: 8 * 1024 * 1024,
};

function requireNhwc(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on the wasm backend supports dataFormat NHWC only (got '${dataFormat}')`);
  }
}

/**
 * Gathers, for one filter tap (kh, kw), the input value each output position reads, transposed: row c holds
 * channel c for every output pixel of images [n0, n1) (zeros where the tap falls into the padding), so
 * that the following matrix product needs no transpose (the wasm BatchMatMul is much slower with one).
 */
export function gatherTapTransposed(
  x: Float32Array,
  info: ConvInfo,
  kh: number,
  kw: number,
  n0: number,
  n1: number,
  out: Float32Array,
): void {
  const { inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } =
    info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rows = (n1 - n0) * outHeight * outWidth;
  let r = 0;
  for (let n = n0; n < n1; n++) {
    const xBatch = n * inHeight * inWidth * inChannels;
    for (let oh = 0; oh < outHeight; oh++) {
      const ih = oh * strideHeight - top + kh * dilationHeight;
      for (let ow = 0; ow < outWidth; ow++, r++) {
        const iw = ow * strideWidth - left + kw * dilationWidth;
        if (ih < 0 || ih >= inHeight || iw < 0 || iw >= inWidth) {
          for (let c = 0; c < inChannels; c++) out[c * rows + r] = 0;
        } else {
          const src = xBatch + (ih * inWidth + iw) * inChannels;
          for (let c = 0; c < inChannels; c++) out[c * rows + r] = x[src + c];
        }
      }
    }
  }
}

/**
 * dW = im2colᵀ · dy. The product has a huge inner dimension (every output pixel of the batch) and a small
 * output; the stock wasm BatchMatMul is slow at that shape, so it runs as a 1×1 XNNPACK convolution whose
 * "image" is im2colᵀ ([K = kH·kW·inC] pixels of `rows` channels) and whose filter is dy ([rows, outC]).
 * The batch is processed in chunks to bound the im2col scratch memory.
 */
function conv2DBackpropFilter(args: Args<Conv2DBackpropFilterAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = need(inputs, 'x', 'Conv2DBackpropFilter');
  const dy = need(inputs, 'dy', 'Conv2DBackpropFilter');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  requireNhwc('Conv2DBackpropFilter', dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const conv = stockKernel('Conv2D');
  const { batchSize, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth } = info;
  const pixels = outHeight * outWidth;
  const K = filterHeight * filterWidth * inChannels;
  const chunk = Math.max(1, Math.min(batchSize, Math.floor(wasmKernelTuning.maxIm2colElements / (pixels * K))));
  const out = backend.makeOutput(filterShape, 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
  const colsInfo = backend.makeOutput([1, 1, K, chunk * pixels], 'float32');
  for (let n0 = 0; n0 < batchSize; n0 += chunk) {
    const n1 = Math.min(batchSize, n0 + chunk);
    const rows = (n1 - n0) * pixels;
    const dyChunk = sliceRows(backend, dy, n0 * pixels * outChannels, rows, outChannels);
    // Re-read heap views after every wasm allocation: growing the heap detaches the old ones.
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    const cols = backend.typedArrayFromHeap(colsInfo) as Float32Array;
    for (let kh = 0; kh < filterHeight; kh++) {
      for (let kw = 0; kw < filterWidth; kw++) {
        const at = (kh * filterWidth + kw) * inChannels * rows;
        gatherTapTransposed(xs, info, kh, kw, n0, n1, cols.subarray(at, at + inChannels * rows));
      }
    }
    const colsView: TensorInfo = { dataId: colsInfo.dataId, shape: [1, 1, K, rows], dtype: 'float32' };
    const filterView: TensorInfo = { dataId: dyChunk.dataId, shape: [1, 1, rows, outChannels], dtype: 'float32' };
    const prod = conv({
      inputs: { x: colsView, filter: filterView },
      backend,
      attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 } as unknown as tf.NamedAttrMap,
    }) as TensorInfo;
    const p = backend.typedArrayFromHeap(prod) as Float32Array;
    const dW = backend.typedArrayFromHeap(out) as Float32Array;
    for (let i = 0; i < dW.length; i++) dW[i] += p[i];
    backend.disposeData(prod.dataId);
    backend.disposeData(dyChunk.dataId);
  }
  backend.disposeData(colsInfo.dataId);
  return out;
}

/** A [1, rows, cols] tensor holding a copy of `rows` rows of `t` starting at element `offset`. */
function sliceRows(backend: BackendWasm, t: TensorInfo, offset: number, rows: number, cols: number): TensorInfo {
  const res = backend.makeOutput([1, rows, cols], 'float32');
  const src = backend.typedArrayFromHeap(t) as Float32Array;
  (backend.typedArrayFromHeap(res) as Float32Array).set(src.subarray(offset, offset + rows * cols));
  return res;
}

function depthwiseInfo(xShape: number[], filterShape: number[], a: DepthwiseConv2dNativeBackpropFilterAttrs | DepthwiseConv2dNativeBackpropInputAttrs): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    true,
  );
}

/** dW[kh,kw,c,m] = Σ x[n, ih, iw, c] · dy[n, oh, ow, c·mult + m]. Depthwise work is small: plain loops. */
function depthwiseBackpropFilter(args: Args<DepthwiseConv2dNativeBackpropFilterAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = need(inputs, 'x', 'DepthwiseConv2dNativeBackpropFilter');
  const dy = need(inputs, 'dy', 'DepthwiseConv2dNativeBackpropFilter');
  const info = depthwiseInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const mult = outChannels / inChannels;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = backend.makeOutput(attrs.filterShape, 'float32');
  const dW = backend.typedArrayFromHeap(out) as Float32Array;
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  dW.fill(0);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const wBase = (kh * filterWidth + kw) * outChannels;
      for (let n = 0; n < batchSize; n++) {
        for (let oh = 0; oh < outHeight; oh++) {
          const ih = oh * strideHeight - top + kh * dilationHeight;
          if (ih < 0 || ih >= inHeight) continue;
          for (let ow = 0; ow < outWidth; ow++) {
            const iw = ow * strideWidth - left + kw * dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            const xb = ((n * inHeight + ih) * inWidth + iw) * inChannels;
            const db = ((n * outHeight + oh) * outWidth + ow) * outChannels;
            for (let c = 0; c < inChannels; c++) {
              const xv = xs[xb + c];
              for (let m = 0; m < mult; m++) dW[wBase + c * mult + m] += xv * dys[db + c * mult + m];
            }
          }
        }
      }
    }
  }
  return out;
}

/** dx[n, ih, iw, c] = Σ over taps and multipliers of W[kh,kw,c,m] · dy[n, oh, ow, c·mult + m]. */
function depthwiseBackpropInput(args: Args<DepthwiseConv2dNativeBackpropInputAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = need(inputs, 'dy', 'DepthwiseConv2dNativeBackpropInput');
  const filter = need(inputs, 'filter', 'DepthwiseConv2dNativeBackpropInput');
  const info = depthwiseInfo(attrs.inputShape, filter.shape, attrs);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const mult = outChannels / inChannels;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = backend.makeOutput(attrs.inputShape, 'float32');
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const ws = backend.typedArrayFromHeap(filter) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let kh = 0; kh < filterHeight; kh++) {
        const ih = oh * strideHeight - top + kh * dilationHeight;
        if (ih < 0 || ih >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const db = ((n * outHeight + oh) * outWidth + ow) * outChannels;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth - left + kw * dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            const xb = ((n * inHeight + ih) * inWidth + iw) * inChannels;
            const wb = (kh * filterWidth + kw) * outChannels;
            for (let c = 0; c < inChannels; c++) {
              let s = 0;
              for (let m = 0; m < mult; m++) s += ws[wb + c * mult + m] * dys[db + c * mult + m];
              dx[xb + c] += s;
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * For stride 1, dx is a plain convolution of dy with the filter rotated 180° and its in/out channels
 * swapped, padded by (k − 1 − pad): that runs on the stock XNNPACK Conv2D instead of the stock naive loop.
 * Other strides keep the stock kernel.
 */
function conv2DBackpropInput(args: Args<Conv2DBackpropInputAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = need(inputs, 'dy', 'Conv2DBackpropInput');
  const filter = need(inputs, 'filter', 'Conv2DBackpropInput');
  requireNhwc('Conv2DBackpropInput', attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1) {
    return stockKernel('Conv2DBackpropInput')({ inputs, backend, attrs: attrs as unknown as tf.NamedAttrMap }) as TensorInfo;
  }
  const { filterHeight: kH, filterWidth: kW, inChannels, outChannels } = info;
  const flipped = backend.makeOutput([kH, kW, outChannels, inChannels], 'float32');
  const w = backend.typedArrayFromHeap(filter) as Float32Array;
  const f = backend.typedArrayFromHeap(flipped) as Float32Array;
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      const src = ((kH - 1 - kh) * kW + (kW - 1 - kw)) * inChannels * outChannels;
      const dst = (kh * kW + kw) * outChannels * inChannels;
      for (let ci = 0; ci < inChannels; ci++) {
        for (let co = 0; co < outChannels; co++) f[dst + co * inChannels + ci] = w[src + ci * outChannels + co];
      }
    }
  }
  const { top, bottom, left, right } = info.padInfo;
  const pad: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [kH - 1 - top, kH - 1 - bottom],
    [kW - 1 - left, kW - 1 - right],
    [0, 0],
  ];
  const out = stockKernel('Conv2D')({
    inputs: { x: dy, filter: flipped },
    backend,
    attrs: { strides: 1, pad, dataFormat: 'NHWC', dilations: 1 } as unknown as tf.NamedAttrMap,
  }) as TensorInfo;
  backend.disposeData(flipped.dataId);
  return out;
}

/**
 * Tile where every repeated axis lies before every non-trivial axis of x (the BatchNorm gradient's
 * [1,1,1,C] → [N,H,W,C]): the output is x repeated end to end, done by doubling copies. Else the stock kernel.
 */
function tile(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: { reps: number[] } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = need(inputs, 'x', 'Tile');
  const { reps } = attrs;
  const lastRep = reps.reduce((last, r, i) => (r > 1 ? i : last), -1);
  const firstBig = x.shape.findIndex((d) => d > 1);
  if (x.dtype === 'string' || (firstBig !== -1 && lastRep >= firstBig)) {
    return stockKernel('Tile')({ inputs, backend, attrs: attrs as unknown as tf.NamedAttrMap }) as TensorInfo;
  }
  const out = backend.makeOutput(
    x.shape.map((d, i) => d * reps[i]),
    x.dtype,
  );
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  dst.set(src);
  for (let filled = src.length; filled < dst.length; filled *= 2) dst.copyWithin(filled, 0, Math.min(filled, dst.length - filled));
  return out;
}

/**
 * Sum over every axis but the last (bias and BatchNorm gradients: [N,H,W,C] → [C]): one streaming pass with
 * float64 accumulators. The stock kernel transposes the whole tensor first. Other reductions: stock kernel.
 */
function sum(args: Args<{ axis: number | number[]; keepDims: boolean }>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = need(inputs, 'x', 'Sum');
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
  const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
  if (!leading || x.dtype !== 'float32') {
    return stockKernel('Sum')({ inputs, backend, attrs: attrs as unknown as tf.NamedAttrMap }) as TensorInfo;
  }
  const C = x.shape[rank - 1];
  const acc = new Float64Array(C);
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  for (let i = 0; i < xs.length; i += C) {
    for (let c = 0; c < C; c++) acc[c] += xs[i + c];
  }
  const out = backend.makeOutput(attrs.keepDims ? x.shape.map((d, i) => (i === rank - 1 ? d : 1)) : [C], 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}

/** Identity shares the input's memory (as the cpu backend does); the stock kernel copies the whole tensor. */
function identity(args: Args<unknown>): TensorInfo {
  const x = need(args.inputs, 'x', 'Identity');
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Cast to the dtype it already has shares the memory too (tfjs-layers casts float32 to float32 often). */
function cast(args: Args<{ dtype: string }>): TensorInfo {
  const x = need(args.inputs, 'x', 'Cast');
  if (x.dtype !== args.attrs.dtype) return stockKernel('Cast')({ inputs: args.inputs, backend: args.backend, attrs: args.attrs as unknown as tf.NamedAttrMap }) as TensorInfo;
  return identity(args);
}

const stock = new Map<string, KernelFunc>();

/** The wasm backend's own kernel of that name, captured before ours replaced it. */
function stockKernel(name: string): KernelFunc {
  const k = stock.get(name);
  if (!k) throw new Error(`stock wasm kernel ${name} was not captured`);
  return k;
}

/** Remembers the stock wasm kernels that ours delegate to; call before registering ours for 'wasm'. */
export function captureStockKernels(): void {
  for (const name of ['Conv2D', 'Conv2DBackpropInput', 'Tile', 'Sum', 'Cast']) {
    if (stock.has(name)) continue;
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
    stock.set(name, k.kernelFunc);
  }
}

/** The kernels registered on top of the stock wasm backend, for `backendName` (an alias of wasm). */
export function wasmTrainingKernels(backendName: string): KernelConfig[] {
  return [
    { kernelName: 'Conv2DBackpropFilter', backendName, kernelFunc: conv2DBackpropFilter as unknown as KernelFunc },
    { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName, kernelFunc: depthwiseBackpropFilter as unknown as KernelFunc },
    { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName, kernelFunc: depthwiseBackpropInput as unknown as KernelFunc },
    { kernelName: 'Conv2DBackpropInput', backendName, kernelFunc: conv2DBackpropInput as unknown as KernelFunc },
    { kernelName: 'Tile', backendName, kernelFunc: tile as unknown as KernelFunc },
    { kernelName: 'Sum', backendName, kernelFunc: sum as unknown as KernelFunc },
    { kernelName: 'Identity', backendName, kernelFunc: identity as unknown as KernelFunc },
    { kernelName: 'Cast', backendName, kernelFunc: cast as unknown as KernelFunc },
  ];
}
