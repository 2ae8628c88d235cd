import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PointGrid, fitScale, mapToRgba } from './plot';

test('mapToRgba spans the map from its minimum to its maximum colour, with a stride for channels', () => {
  const rgba = mapToRgba([5, 1, 9, 1, 5, 1], 0, 2, 3); // channel 0 of a 3-pixel, 2-channel map: 5, 9, 5
  assert.equal(rgba.length, 12);
  assert.deepEqual(Array.from(rgba.subarray(0, 4)), Array.from(rgba.subarray(8, 12)));
  assert.notDeepEqual(Array.from(rgba.subarray(0, 4)), Array.from(rgba.subarray(4, 8)));
});

test('PointGrid finds the nearest point within a radius and the points inside a rectangle', () => {
  const n = 10_000;
  const xs = Array.from({ length: n }, (_, i) => (i % 100) * 5);
  const ys = Array.from({ length: n }, (_, i) => Math.floor(i / 100) * 5);
  const grid = new PointGrid(xs, ys);
  assert.equal(grid.nearest(51, 99), 20 * 100 + 10);
  assert.equal(grid.nearest(2000, 2000), -1);
  assert.equal(grid.within(0, 0, 12, 12).length, 9);
  const s = fitScale([0, 10], [0, 5], 100, 100, 0);
  assert.equal(s.toX(0), 0);
  assert.equal(s.toX(10), 100);
  assert.equal(s.toY(0), 75); // y grows upwards, centred vertically
});
