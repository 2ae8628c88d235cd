import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint';

const CKPT: Checkpoint = {
  epoch: 3,
  learningRate: 5e-4,
  steps: 27,
  lastTrainAccuracy: 0.5,
  stepKind: 'fused',
  counters: [27, 54],
  callbacks: [{ best: 'Infinity', wait: 1 }, null],
  arrays: [
    { group: 'weights', name: '0', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { group: 'optimizer', name: 'slot0', shape: [0], data: new Float32Array(0) },
    { group: 'callback:0', name: '0', shape: [1], data: Float32Array.from([Math.PI]) },
  ],
};

test('a checkpoint survives the round trip through its file, arrays bit for bit', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ckpt-'));
  try {
    assert.equal(await readCheckpoint(dir), null, 'no checkpoint yet: null, not an error');
    await writeCheckpoint(dir, CKPT);
    const back = await readCheckpoint(dir);
    assert.deepEqual(back, CKPT);
    assert.deepEqual((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a damaged checkpoint is refused naming the file and what is wrong', () => {
  const bytes = encodeCheckpoint(CKPT);
  const cases: [Uint8Array, RegExp][] = [
    [bytes.subarray(0, bytes.length - 4), /run\/checkpoint.bin is not a usable checkpoint: it holds \d+ bytes, its header describes \d+/],
    [Uint8Array.from([...Buffer.from('NOTACKPT'), ...bytes.subarray(8)]), /does not start with CNNWBCKP/],
    [bytes.subarray(0, 20), /header is cut short/],
  ];
  for (const [b, message] of cases) {
    assert.throws(
      () => decodeCheckpoint(b, 'run/checkpoint.bin'),
      (err: unknown) => err instanceof CheckpointError && message.test(err.message),
    );
  }
});
