import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../shared/contract';

const require = createRequire(import.meta.url);
let chosen: BackendInfo | null = null;

/**
 * Picks the fastest training backend that loads here, once per process, and says which and why.
 * Order: tfjs-node-gpu, tfjs-node (libtensorflow), then the portable fallback.
 * (The speed issue replaces the portable fallback with wasm + workbench kernels.)
 */
export async function initBackend(): Promise<BackendInfo> {
  if (chosen) return chosen;
  const missing: string[] = [];
  for (const [pkg, name] of [
    ['@tensorflow/tfjs-node-gpu', 'tensorflow-gpu'],
    ['@tensorflow/tfjs-node', 'tensorflow'],
  ] as const) {
    try {
      require(pkg);
      await tf.setBackend('tensorflow');
      await tf.ready();
      chosen = { name, description: `${pkg} (libtensorflow)`, reason: `${pkg} loaded`, threads: 0 };
      return chosen;
    } catch (err) {
      missing.push(`${pkg}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  chosen = {
    name: 'cpu',
    description: 'tfjs cpu backend (pure JavaScript)',
    reason: `no native TensorFlow: ${missing.join('; ')}`,
    threads: 1,
  };
  return chosen;
}

/** The backend chosen by `initBackend`, or null before it ran. */
export function currentBackend(): BackendInfo | null {
  return chosen;
}
