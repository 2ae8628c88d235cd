import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { initBackend } from '../backend/index';
import { trainedRun, type TrainedRun } from '../export/testkit';
import { predictTfjs } from '../export/verify';
import * as tf from '@tensorflow/tfjs';
import { applyOrientation, exifOrientation } from './image';
import { decodeImage, predictImages, preprocessImage, resizePlane } from './index';

let run: TrainedRun;
/** In-app predictions (argmax) of the 200 test images. */
let inApp: number[];

before(async () => {
  await initBackend();
  run = await trainedRun(600, 200);
  const probs = await predictTfjs(run.model, { data: Float32Array.from(run.test.images, (v) => v / 255), shape: [200, 28, 28, 1] });
  inApp = Array.from({ length: 200 }, (_, i) => {
    const row = probs.subarray(i * 10, i * 10 + 10);
    return row.indexOf(Math.max(...row));
  });
});

after(() => run?.cleanup());

/** Test image `i` as PNG bytes: gray (colorType 0) or RGB with the gray value in every channel, optionally upscaled. */
function testImagePng(i: number, opts: { rgb?: boolean; upscale?: number } = {}): Uint8Array {
  const k = opts.upscale ?? 1;
  const png = new PNG({ width: 28 * k, height: 28 * k });
  for (let y = 0; y < 28 * k; y++) {
    for (let x = 0; x < 28 * k; x++) {
      const v = run.test.images[i * 784 + Math.floor(y / k) * 28 + Math.floor(x / k)]!;
      const o = (y * 28 * k + x) * 4;
      png.data[o] = v;
      png.data[o + 1] = v;
      png.data[o + 2] = v;
      png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png, opts.rgb ? { colorType: 2 } : { colorType: 0 });
}

/** Test images the in-app model classifies correctly. */
function correctlyClassified(): number[] {
  return inApp.flatMap((p, i) => (p === run.test.labels[i] ? [i] : []));
}

test('a Fashion-MNIST test image written as PNG is predicted as its true class, as in-app', async (t) => {
  const correct = correctlyClassified();
  t.diagnostic(`the tiny model classifies ${correct.length}/200 test images correctly in-app`);
  // Twice chance: the model has learnt something, so "true class" is not a coin toss.
  assert.ok(correct.length > 40, `the tiny model gets only ${correct.length}/200 right`);
  const picks = [correct[0]!, correct[Math.floor(correct.length / 2)]!, correct[correct.length - 1]!];
  const preds = await predictImages(
    run.runDir,
    picks.map((i) => ({ name: `test-${i}.png`, bytes: testImagePng(i) })),
  );
  preds.forEach((p, j) => {
    const i = picks[j]!;
    assert.equal(p.source, `test-${i}.png`);
    assert.equal(p.top.length, 3);
    assert.equal(p.top[0]!.classIndex, run.test.labels[i], `image ${i}: predicted ${p.top[0]!.className}`);
    assert.ok(p.top[0]!.probability >= p.top[1]!.probability && p.top[1]!.probability >= p.top[2]!.probability);
    assert.equal(typeof p.top[0]!.className, 'string');
  });
});

test('an RGB PNG and a 3× upscaled PNG of the same image preprocess to the same input', () => {
  const i = 5;
  const expected = Array.from(run.test.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
  for (const bytes of [testImagePng(i), testImagePng(i, { rgb: true }), testImagePng(i, { upscale: 3 })]) {
    const got = preprocessImage(decodeImage('x.png', bytes), 28, 28, 1);
    let maxDiff = 0;
    got.forEach((v, p) => (maxDiff = Math.max(maxDiff, Math.abs(v - expected[p]!))));
    assert.ok(maxDiff < 1e-5, `max difference ${maxDiff}`);
  }
});

test('a JPEG is decoded and predicted', async () => {
  const i = correctlyClassified()[0]!;
  const raw = Buffer.alloc(28 * 28 * 4);
  for (let p = 0; p < 784; p++) raw.fill(run.test.images[i * 784 + p]!, p * 4, p * 4 + 3).writeUInt8(255, p * 4 + 3);
  const bytes = jpeg.encode({ width: 28, height: 28, data: raw }, 95).data;
  const [pred] = await predictImages(run.runDir, [{ name: 'shoe.jpg', bytes }]);
  assert.equal(pred!.top.length, 3);
  const total = pred!.top.reduce((s, t) => s + t.probability, 0);
  assert.ok(total > 0 && total <= 1 + 1e-6);
});

test('resizePlane: area averaging when shrinking, identity at the same size', () => {
  const src = Float32Array.from([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]);
  assert.deepEqual(Array.from(resizePlane(src, 4, 4, 2, 2)), [5, 9, 21, 25]);
  assert.deepEqual(Array.from(resizePlane(src, 4, 4, 4, 4)), Array.from(src));
});

test('corrupt and non-image files give errors naming the file', async () => {
  const png = testImagePng(0);
  await assert.rejects(
    predictImages(run.runDir, [{ name: 'truncated.png', bytes: png.subarray(0, 40) }]),
    /truncated\.png: a PNG that cannot be decoded/,
  );
  await assert.rejects(
    predictImages(run.runDir, [{ name: 'notes.txt', bytes: new TextEncoder().encode('hello, not an image') }]),
    /notes\.txt: not a PNG or JPEG image \(the file starts with bytes 68 65 6c 6c/,
  );
  await assert.rejects(predictImages(run.runDir, [{ name: 'empty.png', bytes: new Uint8Array(0) }]), /empty\.png: the file is empty/);
  await assert.rejects(
    predictImages(run.runDir, [{ name: 'broken.jpg', bytes: Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 1, 2]) }]),
    /broken\.jpg: a JPEG that cannot be decoded/,
  );
});

/** `jpegBytes` with an APP1 EXIF segment holding orientation `o` inserted after SOI, in the given byte order. */
function withExifOrientation(jpegBytes: Uint8Array, o: number, little: boolean): Uint8Array {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write(little ? 'II' : 'MM', 0, 'latin1');
  const w16 = (v: number, at: number) => (little ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const w32 = (v: number, at: number) => (little ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  w16(42, 2);
  w32(8, 4); // IFD0 right after the header
  w16(1, 8); // one entry
  w16(0x0112, 10); // Orientation
  w16(3, 12); // SHORT
  w32(1, 14);
  w16(o, 18);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const seg = Buffer.alloc(4);
  seg.writeUInt16BE(0xffe1, 0);
  seg.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([Buffer.from(jpegBytes.subarray(0, 2)), seg, body, Buffer.from(jpegBytes.subarray(2))]);
}

test('EXIF orientation: each of the 8 values turns the stored pixels back upright', () => {
  // An upright 3×2 image with distinct pixels; stored versions are made with tf ops (independent of our code).
  const upright = tf.tensor3d(Array.from({ length: 2 * 3 * 4 }, (_, i) => i), [2, 3, 4], 'int32');
  const stored: Record<number, tf.Tensor3D> = {
    1: upright,
    2: tf.reverse(upright, 1),
    3: tf.reverse(upright, [0, 1]),
    4: tf.reverse(upright, 0),
    5: tf.transpose(upright, [1, 0, 2]),
    6: tf.reverse(tf.transpose(upright, [1, 0, 2]), 0),
    7: tf.reverse(tf.transpose(upright, [1, 0, 2]), [0, 1]),
    8: tf.reverse(tf.transpose(upright, [1, 0, 2]), 1),
  };
  for (const [o, t] of Object.entries(stored)) {
    const img = { width: t.shape[1], height: t.shape[0], rgba: Uint8Array.from(t.dataSync()) };
    const turned = applyOrientation(img, Number(o));
    assert.deepEqual([turned.width, turned.height], [3, 2], `orientation ${o}`);
    assert.deepEqual(Array.from(turned.rgba), Array.from(upright.dataSync()), `orientation ${o}`);
  }
});

test('a JPEG with an EXIF orientation tag is decoded upright', () => {
  const raw = Buffer.alloc(40 * 20 * 4, 255);
  const plain = jpeg.encode({ width: 40, height: 20, data: raw }, 90).data;
  assert.equal(exifOrientation(plain), 1);
  for (const little of [true, false]) {
    const rotated = withExifOrientation(plain, 6, little);
    assert.equal(exifOrientation(rotated), 6);
    const img = decodeImage('phone.jpg', rotated);
    assert.deepEqual([img.width, img.height], [20, 40]);
  }
});
