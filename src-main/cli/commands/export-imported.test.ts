/**
 * A run trained on a folder of IDX files (`train --data DIR`) exports and verifies: the run records where its
 * data came from and its fingerprint, and export finds it there. When the folder has moved or its data has
 * changed, the export is still written and says "not verified" with its own exit code (3), distinct from an
 * export that disagrees with the model (1). Everything through the real CLI, as a user would.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cleanup, realIdx, tempDir, truncateIdxItems, writeSmallIdxFolder } from '../../core/data/testkit';
import { IDX_FILE_NAMES } from '../../core/data/locate';
import { runCli as cli, lastJson } from '../testkit';




let root: string;
let dataDir: string;
let runDir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  root = tempDir('cnnwb-export-imported-');
  dataDir = path.join(root, 'my-idx');
  mkdirSync(dataDir);
  await writeSmallIdxFolder(dataDir, 600, 200);
  // A home of its own: nothing imported there, so only the run's record can lead export to the data.
  env = { CNN_WORKBENCH_HOME: path.join(root, 'home') };
  const r = await cli(
    ['train', '--data', dataDir, '--spec', 'small-cnn', '--epochs', '1', '--batch-size', '32', '--runs-dir', path.join(root, 'runs'), '--json'],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  runDir = String(lastJson(r.stdout).runDir);
});

after(() => cleanup(root));

test('the run records its data source: the folder and the fingerprint', () => {
  const record = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { dataset: { id: string; fingerprint: string }; dataSource: { path: string; fingerprint: string } };
  assert.equal(record.dataSource.path, dataDir);
  assert.equal(record.dataSource.fingerprint, record.dataset.fingerprint);
  assert.match(record.dataset.id, /^my-idx-[0-9a-f]{8}$/);
});

test('export --format onnx on the imported data: verified, argmax agreement ≥ 0.99', async () => {
  const out = path.join(root, 'onnx');
  const r = await cli(['export', '--run', runDir, '--format', 'onnx', '--out', out, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const report = lastJson(r.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.outcome, 'verified');
  assert.equal(report.checked, 200);
  assert.ok(Number(report.argmaxAgreement) >= 0.99, JSON.stringify(report));
  assert.ok(Number(report.maxAbsDiff) < 1e-4, JSON.stringify(report));
});

test('the data changed: written, "not verified: … has changed", exit 3', async () => {
  const labels = path.join(dataDir, IDX_FILE_NAMES.testLabels);
  const original = readFileSync(labels);
  // Other labels for the same images: same sizes, other bytes.
  const changed = truncateIdxItems(await realIdx('testLabels'), 200);
  for (let i = 8; i < changed.length; i++) changed[i] = (changed[i]! + 1) % 10;
  writeFileSync(labels, changed);
  try {
    const out = path.join(root, 'onnx-changed');
    const r = await cli(['export', '--run', runDir, '--format', 'onnx', '--out', out, '--json'], env);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`NOT VERIFIED: ONNX export written but not verified: the data at ${dataDir} has changed`));
    assert.equal(lastJson(r.stdout).outcome, 'not-verified');
    assert.ok(existsSync(path.join(out, 'model.onnx')), 'the export is still written');
  } finally {
    writeFileSync(labels, original);
  }
});

test('the folder moved away: written, "not verified: the data at … is missing", exit 3, no stack trace', async () => {
  const moved = path.join(root, 'moved-away');
  renameSync(dataDir, moved);
  try {
    const out = path.join(root, 'tfjs-moved');
    const r = await cli(['export', '--run', runDir, '--format', 'tfjs', '--out', out, '--json'], env);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`not verified: the data at ${dataDir} is missing \\(moved or deleted\\)`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const report = lastJson(r.stdout);
    assert.deepEqual([report.ok, report.outcome, report.checked], [false, 'not-verified', null]);
    assert.ok(existsSync(path.join(out, 'model.json')), 'the export is still written');
    const verification = JSON.parse(readFileSync(path.join(out, 'verification.json'), 'utf8')) as { outcome: string };
    assert.equal(verification.outcome, 'not-verified');
  } finally {
    renameSync(moved, dataDir);
  }
});
