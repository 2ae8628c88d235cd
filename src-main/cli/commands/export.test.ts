import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PNG } from 'pngjs';
import { initBackend } from '../../core/backend/index';
import { trainedRun, type TrainedRun } from '../../core/export/testkit';
import { runCli as cli } from '../testkit';



function lastLine(s: string): string {
  return s.trimEnd().split('\n').pop() ?? '';
}

let run: TrainedRun;

before(async () => {
  await initBackend();
  run = await trainedRun(400, 200);
});

after(() => run?.cleanup());

test('export --format onnx --json: verified, last line is the JSON report', async () => {
  const out = path.join(run.root, 'cli-onnx');
  const r = await cli(['export', '--run', run.runDir, '--format', 'onnx', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(lastLine(r.stdout));
  assert.deepEqual(Object.keys(report), ['format', 'path', 'checked', 'argmaxAgreement', 'maxAbsDiff', 'ok', 'outcome']);
  assert.equal(report.outcome, 'verified');
  assert.equal(report.format, 'onnx');
  assert.equal(report.path, out);
  assert.equal(report.checked, 200);
  assert.ok(report.argmaxAgreement >= 0.99 && report.maxAbsDiff < 1e-4, JSON.stringify(report));
  assert.ok(existsSync(path.join(out, 'model.onnx')));
});

test('export by run id under --runs-dir, keras format: nulls where TensorFlow is absent', async () => {
  const out = path.join(run.root, 'cli-keras');
  const r = await cli(['export', '--run', path.basename(run.runDir), '--runs-dir', path.dirname(run.runDir), '--format', 'keras', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(lastLine(r.stdout));
  assert.equal(report.checked, null);
  assert.equal(report.argmaxAgreement, null);
  assert.equal(report.maxAbsDiff, null);
  assert.ok(existsSync(path.join(out, 'model.py')));
});

test('predict --json on a test image written as PNG gives top-3 classes', async () => {
  const png = new PNG({ width: 28, height: 28 });
  for (let p = 0; p < 784; p++) {
    png.data.fill(run.test.images[p]!, p * 4, p * 4 + 3);
    png.data[p * 4 + 3] = 255;
  }
  const file = path.join(run.root, 'first-test-image.png');
  writeFileSync(file, PNG.sync.write(png));
  const r = await cli(['predict', '--run', run.runDir, file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^first-test-image\.png: .+ \d+\.\d%, .+ \d+\.\d%, .+ \d+\.\d%$/m);
  const [pred] = JSON.parse(lastLine(r.stdout));
  assert.equal(pred.source, 'first-test-image.png');
  assert.equal(pred.top.length, 3);
});

test('bad input exits 2 with a message naming it', async () => {
  const notImage = path.join(run.root, 'notes.png');
  writeFileSync(notImage, 'plain text');
  const cases: [string[], RegExp][] = [
    [['export', '--run', run.runDir, '--format', 'pmml', '--out', path.join(run.root, 'x')], /--format must be one of tfjs, onnx, keras, r \(received "pmml"\)/],
    [['export', '--run', 'no-such-run', '--runs-dir', run.root, '--format', 'onnx', '--out', path.join(run.root, 'x')], /--run "no-such-run": no run with that id/],
    [['export', '--run', run.runDir, '--format', 'onnx'], /--out is required/],
    [['predict', '--run', run.runDir, notImage], /notes\.png: not a PNG or JPEG image/],
    [['predict', '--run', run.runDir, path.join(run.root, 'missing.png')], /cannot read image .*missing\.png: ENOENT/],
  ];
  const occupied = path.join(run.root, 'occupied');
  mkdirSync(occupied);
  writeFileSync(path.join(occupied, 'keep.txt'), 'x');
  cases.push([['export', '--run', run.runDir, '--format', 'tfjs', '--out', occupied], /already holds other files \(keep\.txt\)/]);
  for (const [args, message] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
