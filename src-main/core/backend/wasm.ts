/**
 * The portable training backend: `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD) plus the training kernels it
 * lacks. Installs from the npm registry alone; single-threaded in Node (wasm threads need a browser).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { captureStockKernels, wasmTrainingKernels } from './wasm-kernels';

const require = createRequire(import.meta.url);
let ready: Promise<BackendWasm> | null = null;

/** Folder holding the .wasm binaries, with a trailing separator as `setWasmPaths` wants. */
export function wasmBinaryDir(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

/** Registers `kernels` for their backend, replacing a stock kernel of the same name without tfjs' warning. */
export function registerKernels(kernels: tf.KernelConfig[]): void {
  for (const k of kernels) {
    if (tf.getKernel(k.kernelName, k.backendName)) tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(k);
  }
}

/**
 * Initialises the wasm backend once per process (leaving it the active backend) and registers the missing
 * training kernels for it.
 */
export function loadWasmBackend(): Promise<BackendWasm> {
  ready ??= (async () => {
    setWasmPaths(wasmBinaryDir());
    // Emscripten's Node glue installs uncaughtException/unhandledRejection handlers that rethrow and print
    // the whole minified module: every later error would look like a wasm crash. Take them back out.
    const before = {
      uncaughtException: new Set(process.listeners('uncaughtException')),
      unhandledRejection: new Set(process.listeners('unhandledRejection')),
    };
    const ok = await tf.setBackend('wasm');
    for (const l of process.listeners('uncaughtException')) {
      if (!before.uncaughtException.has(l)) process.removeListener('uncaughtException', l);
    }
    for (const l of process.listeners('unhandledRejection')) {
      if (!before.unhandledRejection.has(l)) process.removeListener('unhandledRejection', l);
    }
    if (!ok) throw new Error(`the wasm backend did not initialise (binaries looked for in ${wasmBinaryDir()})`);
    captureStockKernels();
    registerKernels(wasmTrainingKernels('wasm'));
    return tf.engine().findBackend('wasm') as BackendWasm;
  })();
  return ready;
}

/**
 * Registers backend `name` as an alias of the (single) wasm backend instance, with all wasm kernels plus
 * `overrides`. One instance, because the stock wasm kernels keep module-level handles to one wasm module.
 */
export async function registerWasmAlias(name: string, overrides: tf.KernelConfig[], priority = 0): Promise<void> {
  const wasm = await loadWasmBackend();
  if (!tf.findBackendFactory(name)) tf.registerBackend(name, () => wasm, priority);
  const kernels = tf.getKernelsForBackend('wasm').map((k) => ({ ...k, backendName: name }));
  registerKernels(kernels);
  registerKernels(overrides.map((k) => ({ ...k, backendName: name })));
}
