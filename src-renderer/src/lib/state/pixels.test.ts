import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImageSample } from '$shared/contract';
import { decodeBase64, encodeBase64, sampleToGray, sampleToRgba } from './pixels';

const sample = (bytes: number[], width: number, height: number, channels: number): ImageSample => ({
  index: 7,
  label: 1,
  width,
  height,
  channels,
  pixelsBase64: Buffer.from(bytes).toString('base64'),
});

test('base64 pixels decode to the same bytes, every value 0–255', () => {
  const bytes = Array.from({ length: 256 }, (_, i) => 255 - i);
  assert.deepEqual(Array.from(decodeBase64(Buffer.from(bytes).toString('base64'))), bytes);
});

test('grey pixels become opaque RGBA, RGB pixels keep their channels', () => {
  assert.deepEqual(Array.from(sampleToRgba(sample([0, 128, 255, 9], 2, 2, 1))), [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 9, 9, 9, 255]);
  assert.deepEqual(Array.from(sampleToRgba(sample([1, 2, 3, 4, 5, 6], 2, 1, 3))), [1, 2, 3, 255, 4, 5, 6, 255]);
});

test('a sample whose bytes do not fit its size is refused by index', () => {
  assert.throws(() => sampleToRgba(sample([1, 2, 3], 2, 2, 1)), /test image 7: 3 pixel bytes for 2×2×1/);
});

test('sampleToGray: one value per pixel in [0, 1], colour as its luminance', () => {
  const rgb = { index: 0, label: 0, width: 2, height: 1, channels: 3, pixelsBase64: encodeBase64([255, 0, 0, 255, 255, 255]) };
  const g = sampleToGray(rgb);
  assert.equal(g.length, 2);
  assert.ok(Math.abs(g[0]! - 0.299) < 1e-9 && Math.abs(g[1]! - 1) < 1e-9, String(g));
  const grey = { index: 0, label: 0, width: 2, height: 1, channels: 1, pixelsBase64: encodeBase64([0, 51]) };
  assert.deepEqual(sampleToGray(grey).map((v) => Math.round(v * 100) / 100), [0, 0.2]);
});
