/**
 * The one end-to-end test: the real CLI, as a child process, trains the small CNN on 2,000 real Fashion-MNIST
 * images for one epoch and evaluates it on 1,000 test images.
 *
 * Batch size 16 rather than the lesson's 128: one epoch of 1,800 images is only 15 steps at 128, which leaves
 * this architecture near 45-60% (checked against PyTorch with the same layers and initialisers); 113 steps at
 * 16 put it well above the 0.6 bar. The run is seeded (123), so the figure is the same on every run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let tmp: string;
let stdout = '';
let stderr = '';
let code = -1;

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-train-'));
  const args = ['bin/cnn-workbench.js', 'train', '--spec', 'examples/small-cnn.json', '--epochs', '1', '--batch-size', '16'];
  args.push('--limit-train', '2000', '--limit-test', '1000', '--json', '--runs-dir', tmp);
  await new Promise<void>((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, CNN_WORKBENCH_HOME: tmp }, maxBuffer: 1 << 24 }, (err, out, errOut) => {
      code = err ? ((err as { code?: number }).code ?? 1) : 0;
      stdout = out;
      stderr = errOut;
      resolve();
    });
  });
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('cnn-workbench train (real CLI, real Fashion-MNIST)', () => {
  it('trains one epoch of the small CNN to well above chance and ends with one JSON line', async () => {
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^Backend: \w+/, 'first line says which backend');
    assert.match(stdout, /^Epoch 1\/1 - .* - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - learning_rate: 0\.001$/m);
    assert.match(stdout, /Test loss: \d\.\d{4} - test accuracy: \d\.\d{4} \(1000 test images\)/);
    const result = JSON.parse(lines[lines.length - 1]!) as {
      runDir: string;
      backend: string;
      testAccuracy: number;
      testLoss: number;
      confusionMatrix: number[][];
      epochs: number;
    };
    assert.ok(result.testAccuracy > 0.6, `test accuracy ${result.testAccuracy}`);
    assert.ok(result.testLoss > 0 && result.testLoss < 2, `test loss ${result.testLoss}`);
    assert.equal(result.epochs, 1);
    assert.ok(result.backend.length > 0);
    assert.equal(result.confusionMatrix.length, 10);
    assert.ok(result.confusionMatrix.every((row) => row.length === 10));
    assert.equal(result.confusionMatrix.flat().reduce((a, b) => a + b, 0), 1000);
    const diagonal = result.confusionMatrix.reduce((a, row, i) => a + row[i]!, 0);
    assert.equal(diagonal / 1000, result.testAccuracy, 'accuracy is the matrix diagonal');

    // The run folder holds everything.
    assert.equal(path.dirname(result.runDir), tmp);
    assert.deepEqual((await fs.readdir(result.runDir)).sort(), ['evaluation.json', 'history.jsonl', 'hyperparameters.json', 'model', 'run.json', 'spec.json']);
    assert.deepEqual((await fs.readdir(path.join(result.runDir, 'model'))).sort(), ['model.json', 'weights.bin']);
    const run = JSON.parse(await fs.readFile(path.join(result.runDir, 'run.json'), 'utf8'));
    assert.equal(run.status, 'completed');
    assert.equal(run.backend.name, result.backend);
    assert.match(run.dataset.fingerprint, /^[0-9a-f]{64}$/);
    assert.deepEqual(run.counts, { train: 1800, validation: 200, test: 1000 });
    const history = (await fs.readFile(path.join(result.runDir, 'history.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(history.length, 1);
    const evaluation = JSON.parse(await fs.readFile(path.join(result.runDir, 'evaluation.json'), 'utf8'));
    assert.deepEqual(evaluation.confusionMatrix, result.confusionMatrix);
    assert.equal(evaluation.perClass.length, 10);
    const spec = JSON.parse(await fs.readFile(path.join(result.runDir, 'spec.json'), 'utf8'));
    assert.equal(spec.config.name, 'small_cnn');
    const hp = JSON.parse(await fs.readFile(path.join(result.runDir, 'hyperparameters.json'), 'utf8'));
    assert.equal(hp.batch_size, 16);
  });
});
