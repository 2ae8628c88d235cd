/**
 * The addon without oneDNN (a machine without libdnnl-dev) still builds, loads and trains with the fused step
 * on im2col + OpenBLAS convolutions. Built into a temporary folder, so the real build is untouched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import type { NativeAddon } from '../src-main/core/backend/native';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-no-dnnl-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

it('builds without oneDNN and the fused step trains (loss falls) on im2col convolutions', () => {
  const r = spawnSync('bash', ['scripts/build-native.sh'], { cwd: repo, encoding: 'utf8', env: { ...process.env, CNNWB_NO_DNNL: '1', CNNWB_BUILD_DIR: dir } });
  assert.equal(r.status, 0, `build failed: ${r.stderr}`);
  assert.match(r.stdout, /im2col \+ OpenBLAS convolutions/);
  const lib = createRequire(import.meta.url)(path.join(dir, 'cnnwb.node')) as NativeAddon;
  assert.equal(lib.info().convolutions, '');
  lib.setThreads(2);
  // Conv 3×3 'same' relu → BatchNorm → MaxPool 2 → Flatten → Dense softmax, Adam; weights start at the trainer's
  // defaults (zeros, BatchNorm γ = 1), so set the kernels to something that breaks the symmetry.
  const t = lib.trainerCreate([[1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1], [3, 0.99, 1e-3, 1, 1], [5, 2, 2, 2, 2, 0], [7], [2, 10, 1, 2]], [8, 8, 1], 4, [1, 0.9, 0.999, 1e-7], 1);
  lib.trainerParam(t, 0, 0, Float32Array.from({ length: 36 }, (_, i) => Math.sin(i + 1) * 0.5), true);
  lib.trainerParam(t, 4, 0, Float32Array.from({ length: 640 }, (_, i) => Math.cos(i) * 0.1), true);
  const x = Float32Array.from({ length: 4 * 64 }, (_, i) => ((i * 37) % 11) / 11);
  const labels = Int32Array.from([1, 2, 3, 4]);
  const losses = Array.from({ length: 8 }, () => lib.trainerStep(t, x, labels, 4, 0.01));
  assert.ok(losses.every(([, , finite]) => finite === 1));
  assert.ok(losses[7]![0]! < losses[0]![0]! * 0.9, `loss did not fall: ${losses.map((l) => l[0]!.toFixed(4)).join(', ')}`);
  lib.trainerDispose(t);
});
