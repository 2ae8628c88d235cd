import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, BackendName } from '../../shared/contract';
import { registerNativeBackend } from './native';
import { loadWasmBackend } from './wasm';

const require = createRequire(import.meta.url);
let chosen: BackendInfo | null = null;

/** Options of `initBackend`. */
export interface InitBackendOptions {
  /**
   * Force one backend instead of the fastest that loads ('auto'). Also read from the environment variable
   * `CNN_WORKBENCH_BACKEND`. A forced backend that cannot load is an error, not a silent fallback.
   */
  prefer?: BackendName | 'auto';
}

function firstLine(err: unknown): string {
  if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
    const m = /Cannot find module '([^']+)'/.exec(err.message);
    if (m) return `${m[1]} is not installed`;
  }
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

async function tryTfjsNode(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node', name: 'tensorflow' | 'tensorflow-gpu'): Promise<BackendInfo> {
  require(pkg);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialise`);
  await tf.ready();
  return { name, description: `${pkg} (libtensorflow)`, reason: `${pkg} loaded`, threads: 0 };
}

async function tryWasm(): Promise<BackendInfo> {
  await loadWasmBackend();
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return {
    name: 'wasm',
    description: `wasm${simd ? ' (SIMD)' : ''} + workbench training kernels, 1 thread`,
    reason: '',
    threads: 1,
  };
}

async function tryNative(): Promise<BackendInfo> {
  const lib = await registerNativeBackend();
  if (!(await tf.setBackend('native'))) throw new Error('the native backend did not initialise');
  const { core, threads, convolutions } = lib.info();
  const blas = `${convolutions ? `${convolutions} convolutions, ` : ''}OpenBLAS ${core}`;
  return {
    name: 'native',
    description: `native kernels (${blas}, ${threads} thread${threads === 1 ? '' : 's'}) for the hot ops + wasm (SIMD) for the rest`,
    reason: '',
    threads,
  };
}

async function tryCpu(): Promise<BackendInfo> {
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', description: 'tfjs cpu backend (pure JavaScript)', reason: '', threads: 1 };
}

const LOADERS: Record<BackendName, () => Promise<BackendInfo>> = {
  'tensorflow-gpu': () => tryTfjsNode('@tensorflow/tfjs-node-gpu', 'tensorflow-gpu'),
  tensorflow: () => tryTfjsNode('@tensorflow/tfjs-node', 'tensorflow'),
  native: tryNative,
  wasm: tryWasm,
  cpu: tryCpu,
};
/**
 * The order `initBackend` tries the backends in: the one place that ranks them. tfjs-node-gpu (CUDA) first. Then
 * the native addon before CPU tfjs-node: on native a whole training step and every inference pass run fused in
 * one addon call (oneDNN convolutions), while tfjs-node still runs tfjs layers' ~600 kernel calls per step;
 * CPU tfjs-node cannot be installed on the measuring machine (libtensorflow cannot be downloaded), so that
 * ranking is the fused step's ~5× lead over the tfjs-layers path on the same kernels (bench/results.md), not a
 * head-to-head figure. `CNN_WORKBENCH_BACKEND_ORDER=tensorflow,native,…` (comma-separated, a subset is fine)
 * overrides it, e.g. to measure tfjs-node first where it installs.
 */
const DEFAULT_ORDER: BackendName[] = ['tensorflow-gpu', 'native', 'tensorflow', 'wasm', 'cpu'];

/** The order to try, from `CNN_WORKBENCH_BACKEND_ORDER` when set; an unknown name there is an error naming it. */
export function backendOrder(env: string | undefined = process.env.CNN_WORKBENCH_BACKEND_ORDER): BackendName[] {
  if (!env || env.trim() === '') return [...DEFAULT_ORDER];
  const names = env.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const n of names) {
    if (!(DEFAULT_ORDER as string[]).includes(n)) {
      throw new Error(`CNN_WORKBENCH_BACKEND_ORDER: unknown backend '${n}' (expected a comma-separated list of ${DEFAULT_ORDER.join(', ')})`);
    }
  }
  return names as BackendName[];
}

/**
 * Picks the fastest training backend that loads here, once per process, and says which and why.
 * Order: `backendOrder()` — tfjs-node-gpu, the native addon, tfjs-node (libtensorflow), wasm, pure-JS cpu.
 * `reason` names every faster backend that was skipped and why, in one line.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  if (chosen) return chosen;
  const prefer = options.prefer ?? (process.env.CNN_WORKBENCH_BACKEND as BackendName | 'auto' | undefined) ?? 'auto';
  if (prefer !== 'auto') {
    const load = LOADERS[prefer];
    if (!load) throw new Error(`unknown backend '${prefer}' (CNN_WORKBENCH_BACKEND / prefer): expected one of auto, ${DEFAULT_ORDER.join(', ')}`);
    try {
      chosen = { ...(await load()), reason: `requested (${prefer})` };
    } catch (err) {
      throw new Error(`backend '${prefer}' was requested but cannot load: ${firstLine(err)}`);
    }
    return chosen;
  }
  const skipped: string[] = [];
  for (const name of backendOrder()) {
    try {
      const info = await LOADERS[name]();
      chosen = { ...info, reason: skipped.length ? skipped.join('; ') : `${name} is the fastest backend` };
      return chosen;
    } catch (err) {
      const why = firstLine(err);
      skipped.push(why.startsWith('@tensorflow/') ? why : `${name}: ${why}`);
    }
  }
  throw new Error(`no tfjs backend could load: ${skipped.join('; ')}`);
}

/**
 * Loads and lists the tfjs backends this module provides ('native' when the addon is built, and 'wasm'),
 * without changing the active backend. For tests that compare each against `cpu`.
 */
export async function workbenchBackends(): Promise<string[]> {
  const active = tf.getBackend();
  const names: string[] = [];
  for (const name of ['native', 'wasm'] as const) {
    try {
      await LOADERS[name]();
      names.push(name);
    } catch {
      // Not available here; initBackend explains why when it picks.
    }
  }
  if (active) await tf.setBackend(active);
  return names;
}

/** The backend chosen by `initBackend`, or null before it ran. */
export function currentBackend(): BackendInfo | null {
  return chosen;
}
