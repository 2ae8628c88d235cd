import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXPORT_FORMATS } from '$shared/contract';
import { formatBytes, loadSnippet } from './snippets';

test('every format has a snippet naming its loader and the export folder', () => {
  const folder = '/home/me/exports/my model';
  const loaders = { tfjs: 'tf.loadLayersModel', onnx: 'ort.InferenceSession.create', keras: 'python model.py', r: 'Rscript model.R' };
  for (const format of EXPORT_FORMATS) {
    const text = loadSnippet(format, folder);
    assert.ok(text.includes(loaders[format]), `${format}: ${text}`);
    assert.ok(text.includes(folder), `${format} names the folder`);
  }
  assert.match(loadSnippet('onnx', '/x'), /"\/x\/model\.onnx"/);
  assert.match(loadSnippet('tfjs', '/x/'), /"file:\/\/\/x\/model\.json"/);
});

test('a folder with quotes stays one string literal', () => {
  assert.match(loadSnippet('keras', 'C:\\a "b"'), /^cd "C:\\\\a \\"b\\""$/m);
});

test('file sizes read as a person would say them', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(3 * 1024 * 1024), '3.00 MB');
});
