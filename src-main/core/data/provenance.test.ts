import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { IDX_FILE_NAMES } from './locate';
import { loadRunData } from './provenance';
import { cleanup, tempDir, writeSmallIdxFolder } from './testkit';

const root = tempDir('cnnwb-provenance-');
// An empty home of its own: no import registry that could know the ids used here.
process.env.CNN_WORKBENCH_HOME = path.join(root, 'home');
after(() => cleanup(root));

test('finds a run\'s data by its recorded path, and tells missing, changed and unknown apart', async () => {
  const dir = path.join(root, 'mine');
  mkdirSync(dir);
  await writeSmallIdxFolder(dir, 50, 20);
  const first = await loadRunData({ datasetId: 'mine-00000000', path: dir, fingerprint: null });
  assert.ok(first.ok);
  const fingerprint = first.dataset.info.fingerprint;
  const recorded = { datasetId: first.dataset.info.id, path: dir, fingerprint };
  const again = await loadRunData(recorded);
  assert.ok(again.ok && again.dataset.test.count === 20 && again.where === dir);

  // Changed in place, within the same process: the cached copy must not hide it.
  const labels = path.join(dir, IDX_FILE_NAMES.testLabels);
  const original = readFileSync(labels);
  const changed = Buffer.from(original);
  changed[8] = (changed[8]! + 1) % 10;
  writeFileSync(labels, changed);
  const c = await loadRunData(recorded);
  assert.ok(!c.ok && c.problem === 'changed', JSON.stringify(c));
  assert.match(c.reason, new RegExp(`the data at ${dir} has changed since the run trained on it \\(fingerprint [0-9a-f]{12}…, the run recorded ${fingerprint.slice(0, 12)}…\\)`));
  writeFileSync(labels, original);
  assert.ok((await loadRunData(recorded)).ok);

  renameSync(dir, `${dir}-moved`);
  const m = await loadRunData(recorded);
  assert.ok(!m.ok && m.problem === 'missing');
  assert.equal(m.reason, `the data at ${dir} is missing (moved or deleted)`);
  renameSync(`${dir}-moved`, dir);

  // A run from before sources were recorded, naming an id nobody imported here.
  const u = await loadRunData({ datasetId: 'never-imported-12345678', path: null, fingerprint: null });
  assert.ok(!u.ok && u.problem === 'unknown');
  assert.match(u.reason, /the dataset never-imported-12345678 could not be loaded/);
});
