/**
 * Issue 13's "done when", through the real CLI as child processes on real Fashion-MNIST:
 *   - `kill -9` of a `train` during epoch 2, then `train --resume RUN`, finishes with byte-for-byte the weights
 *     of the same command left alone;
 *   - `--lr 10` on the small CNN ends 'diverged' (exit 1), not 'completed', with the best epoch's weights saved.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/cnn-workbench.js');
// Small enough to take seconds, large enough that epoch 2 lasts long enough to be killed inside it.
const ARGS = ['train', '--spec', 'small-cnn', '--epochs', '3', '--batch-size', '32', '--limit-train', '3000', '--limit-test', '500', '--json'];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, CNN_WORKBENCH_HOME: tmp }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const lastJson = (stdout: string) => JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as { runDir: string; status: string; epochs: number };

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-resume-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('cnn-workbench train --resume (real CLI, real Fashion-MNIST)', () => {
  it('kill -9 during epoch 2, then --resume: the same weights as the run left alone', async () => {
    const whole = await run([...ARGS, '--runs-dir', path.join(tmp, 'whole')]);
    assert.equal(whole.code, 0, whole.stderr);
    const wholeRun = lastJson(whole.stdout);

    const runsDir = path.join(tmp, 'killed');
    const child = spawn(process.execPath, [BIN, ...ARGS, '--runs-dir', runsDir], { cwd: ROOT, env: { ...process.env, CNN_WORKBENCH_HOME: tmp } });
    let out = '';
    const runDir = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        // The epoch line is printed after the epoch's checkpoint is on disk: kill as soon as epoch 2 is under way.
        if (/^Epoch 1\/3 /m.test(out)) {
          child.kill('SIGKILL');
          resolve(/^Run: (.+)$/m.exec(out)![1]!);
        }
      });
      child.on('exit', () => reject(new Error(`train ended before epoch 1 was reported:\n${out}`)));
    });
    await new Promise((resolve) => child.on('close', resolve));
    assert.equal(child.signalCode, 'SIGKILL');
    const history = (await fs.readFile(path.join(runDir, 'history.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(history.length, 1, 'killed during epoch 2: one epoch recorded');
    assert.ok(existsSync(path.join(runDir, 'checkpoint.bin')), 'epoch 1 is checkpointed');
    assert.ok(existsSync(path.join(runDir, 'model', 'weights.bin')), 'the best epoch so far is saved as the model (export works after a crash)');

    const resumed = await run(['train', '--resume', path.basename(runDir), '--runs-dir', runsDir, '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /^Resuming run: /m);
    assert.match(resumed.stdout, /^Resumed from the checkpoint of epoch 1\.$/m);
    assert.doesNotMatch(resumed.stdout, /^Epoch 1\/3 /m, 'epoch 1 is not trained again');
    const resumedRun = lastJson(resumed.stdout);
    assert.equal(resumedRun.runDir, runDir, 'the same run folder continues');
    assert.equal(resumedRun.status, wholeRun.status);
    const a = await fs.readFile(path.join(wholeRun.runDir, 'model', 'weights.bin'));
    const b = await fs.readFile(path.join(runDir, 'model', 'weights.bin'));
    assert.ok(a.equals(b), 'kill -9 + --resume = uninterrupted: weights.bin byte for byte');
    const run1 = JSON.parse(await fs.readFile(path.join(runDir, 'run.json'), 'utf8'));
    assert.equal(run1.epochsRun, 3);
    assert.equal(run1.error, null);

    // A finished run cannot be resumed again, and a flag that would change it is refused.
    const again = await run(['train', '--resume', runDir, '--json']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /only a failed or stopped run can be resumed/);
    const clash = await run(['train', '--resume', runDir, '--lr', '0.1']);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /--resume continues a run with its own settings: drop --lr/);
  });

  it('--lr 10 on the small CNN ends diverged, exit 1, with the best epoch saved and evaluated', async () => {
    const r = await run(['train', '--spec', 'small-cnn', '--lr', '10', '--limit-train', '2000', '--limit-test', '500', '--runs-dir', path.join(tmp, 'lr10'), '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cnn-workbench train: the training diverged: .*try a lower learning rate \(it was 10\); kept the weights of epoch \d+/);
    const result = lastJson(r.stdout);
    assert.equal(result.status, 'diverged');
    assert.ok(result.epochs < 50);
    const record = JSON.parse(await fs.readFile(path.join(result.runDir, 'run.json'), 'utf8'));
    assert.equal(record.status, 'diverged');
    assert.match(record.error.message, /the training diverged/);
    assert.ok(existsSync(path.join(result.runDir, 'model', 'weights.bin')));
    assert.ok(existsSync(path.join(result.runDir, 'evaluation.json')));
  });
});
