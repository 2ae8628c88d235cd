/** The path policy: what a renderer may name, on a real temporary file tree (with a symlink that escapes). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PathGrants, isUnder, safeExportName } from './paths';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-paths-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const root = path.join(tmp, 'data');
const outside = path.join(tmp, 'secret');
fs.mkdirSync(path.join(root, 'fashion'), { recursive: true });
fs.mkdirSync(outside);
fs.symlinkSync(outside, path.join(root, 'link-out'));

describe('isUnder', () => {
  it('accepts the root and what is inside it', () => {
    assert.equal(isUnder(root, root), true);
    assert.equal(isUnder(root, path.join(root, 'fashion')), true);
    assert.equal(isUnder(root, path.join(root, 'fashion', 'not-yet-there.csv')), true);
  });

  it('refuses .. walks, siblings with a common prefix, and symlinks pointing out', () => {
    assert.equal(isUnder(root, path.join(root, '..', 'secret')), false);
    assert.equal(isUnder(root, `${root}-evil`), false);
    assert.equal(isUnder(root, path.join(root, 'link-out')), false);
  });
});

describe('PathGrants', () => {
  it('allows data roots and what a dialog granted, nothing else, naming the refused path', () => {
    const grants = new PathGrants([root]);
    assert.equal(grants.allows(path.join(root, 'fashion')), true);
    assert.equal(grants.allows(outside), false);
    assert.throws(() => grants.check('datasets.importDataset', 'path', outside), (err: Error) => err.name === 'ValidationError' && err.message.includes(JSON.stringify(outside)));
    grants.grant(outside);
    assert.equal(grants.allows(outside), true);
    assert.equal(grants.allows(path.join(outside, 'a.csv')), true);
  });
});

describe('safeExportName', () => {
  it('keeps plain names and refuses anything that walks or hides', () => {
    assert.equal(safeExportName(' model v2 '), 'model v2');
    assert.equal(safeExportName('lesson_cnn.onnx'), 'lesson_cnn.onnx');
    for (const bad of ['', '..', '../x', 'a/b', 'a\\b', '.hidden', '/abs', 'x'.repeat(65), 'a..b']) {
      assert.throws(() => safeExportName(bad), (err: Error) => err.name === 'ValidationError', bad);
    }
  });
});
