import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'bench/bench.ts', ...args], { cwd: repo, encoding: 'utf8', timeout: 180_000 });

describe('bench --paired', () => {
  it('trains the lesson CNN on two addon builds in turn and prints the per-step ratio (a build against itself: near 1)', () => {
    const r = bench('--paired', 'native/build/cnnwb.node', '--batches', '10');
    assert.equal(r.status, 0, r.stderr);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { paired: boolean; medianRatio: number; quartiles: number[]; steps: number; b: string };
    assert.equal(last.paired, true);
    assert.equal(last.steps, 10);
    assert.equal(last.b, 'cnnwb.node');
    // The same code twice: any ratio far from 1 would mean the pairing itself is unfair (e.g. a cold second trainer).
    assert.ok(last.medianRatio > 0.5 && last.medianRatio < 2, `median ratio ${last.medianRatio}`);
    assert.ok(last.quartiles[0]! <= last.medianRatio && last.medianRatio <= last.quartiles[1]!);
    assert.match(r.stdout, /B ÷ A per step: quartiles/);
  });

  it('refuses a file that is not an addon build, naming it', () => {
    const r = bench('--paired', 'README.md');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--paired needs the other addon build's \.node file \(got 'README\.md'\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});
