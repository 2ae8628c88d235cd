import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { getImages, toTensors } from './tensors';
import { realIdx } from './testkit';
import type { ImageSet } from './types';

describe('toTensors and getImages on real test images', () => {
  let set: ImageSet;
  before(async () => {
    const images = await realIdx('testImages');
    const labels = await realIdx('testLabels');
    set = { images: images.subarray(16, 16 + 200 * 784), labels: labels.subarray(8, 208), count: 200, height: 28, width: 28, channels: 1 };
  });

  it('makes NHWC float32 in [0, 1] and one-hot labels for chosen indices', async () => {
    const indices = Int32Array.from([5, 0, 199]);
    const { x, y } = toTensors(set, indices, 10);
    try {
      assert.deepEqual(x.shape, [3, 28, 28, 1]);
      assert.deepEqual(y.shape, [3, 10]);
      assert.equal(x.dtype, 'float32');
      const xs = await x.data();
      for (let r = 0; r < 3; r++) {
        for (let p = 0; p < 784; p++) assert.equal(xs[r * 784 + p], Math.fround(set.images[indices[r]! * 784 + p]! / 255));
      }
      assert.ok(xs.every((v) => v >= 0 && v <= 1));
      const ys = await y.array();
      ys.forEach((row, r) => {
        assert.equal(row.reduce((s, v) => s + v, 0), 1);
        assert.equal(row.indexOf(1), set.labels[indices[r]!]);
      });
    } finally {
      x.dispose();
      y.dispose();
    }
  });

  it('takes the whole set in order when indices is null', async () => {
    const { x, y } = toTensors(set, null, 10);
    try {
      assert.deepEqual(x.shape, [200, 28, 28, 1]);
      const argmax = await y.argMax(1).data();
      assert.deepEqual(Array.from(argmax), Array.from(set.labels));
    } finally {
      x.dispose();
      y.dispose();
    }
  });

  it('returns raw pixels and labels for galleries, and rejects bad indices', () => {
    const [img] = getImages(set, [3]);
    assert.equal(img!.label, set.labels[3]);
    assert.deepEqual([img!.width, img!.height, img!.channels], [28, 28, 1]);
    // Bytes as base64, not 784 JSON numbers.
    assert.equal(typeof img!.pixelsBase64, 'string');
    assert.deepEqual(new Uint8Array(Buffer.from(img!.pixelsBase64, 'base64')), set.images.subarray(3 * 784, 4 * 784));
    assert.throws(() => getImages(set, [200]), /index 200 is outside the set of 200/);
  });
});
