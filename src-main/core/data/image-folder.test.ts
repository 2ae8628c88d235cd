import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataError } from './errors';
import { cacheCounter, imageCacheDir } from './image-cache';
import { decodeCounter } from './image-decode';
import { IMAGE_TEST_FRACTION, loadImageFolder } from './image-folder';
import { cmykJpegBytes, FASHION_FOLDERS, jpegBytes, palettePngBytes, pngBytes, put, solid, writeColourFolders, writeFashionFolders } from './image-testkit';
import { loadDataset } from './load';
import { cleanup, tempDir } from './testkit';

/** Asserts a rejection with a DataError whose message names `file` and matches `pattern`. */
async function rejectsNaming(p: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.ok(err.message.includes(file), `message should name ${file}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('image-folder datasets', () => {
  let root: string;
  before(() => {
    root = tempDir('cnnwb-imgfolder-');
    process.env.CNN_WORKBENCH_HOME = path.join(root, 'home');
  });
  after(() => cleanup(root));

  it('reads Fashion-MNIST written as class folders of PNG: sorted classes, a stratified seeded split, exact pixels', async () => {
    const dir = path.join(root, 'fashion');
    const written = await writeFashionFolders(dir, 300);
    put(dir, 'README.md', '# not an image');
    put(dir, `${FASHION_FOLDERS[0]}/notes.txt`, 'ignored too');
    const ds = await loadDataset(dir, { images: { threads: 0 } });
    assert.equal(ds.info.format, 'images');
    assert.deepEqual(ds.info.classNames, FASHION_FOLDERS);
    assert.deepEqual(ds.info.imageShape, [28, 28, 1]);
    const f = ds.info.imageFolder!;
    assert.equal(f.colorMode, 'grayscale');
    assert.equal(f.sourceColorMode, 'grayscale');
    assert.deepEqual(f.imageSize, [28, 28]);
    assert.equal(f.imageSizeFrom, 'most-common');
    assert.deepEqual(f.split, { kind: 'seeded', testFraction: IMAGE_TEST_FRACTION, seed: f.split.kind === 'seeded' ? f.split.seed : -1 });
    assert.equal(ds.train.count + ds.test.count, 300);
    assert.equal(f.ignored.count, 2);
    assert.deepEqual([...f.ignored.first].sort(), ['0-T-shirt-top/notes.txt', 'README.md']);
    assert.ok(f.notes.some((n) => /2 files that are not PNG or JPEG ignored/.test(n)), f.notes.join('\n'));
    // Per class: counts add up to what was written, and every class has about a fifth in the test set.
    for (let c = 0; c < 10; c++) {
      const total = written.labels.filter((l) => l === c).length;
      assert.equal(f.classCounts.train[c]! + f.classCounts.test[c]!, total);
      assert.ok(Math.abs(f.classCounts.test[c]! - total * IMAGE_TEST_FRACTION) <= 1, `class ${c}: ${f.classCounts.test[c]} of ${total}`);
    }
    // The bytes are the images' own (a 28×28 grayscale PNG read at 28×28 is lossless): find each test image.
    const byBytes = new Map(written.pixels.map((px, i) => [Buffer.from(px).toString('base64'), written.labels[i]!]));
    for (let i = 0; i < ds.test.count; i++) {
      const key = Buffer.from(ds.test.images.subarray(i * 784, (i + 1) * 784)).toString('base64');
      assert.equal(byBytes.get(key), ds.test.labels[i], `test image ${i}`);
    }
  });

  it('uses train/ and test/ when both are at the top; the test set may lack a class but not add one', async () => {
    const dir = path.join(root, 'split');
    for (const [split, n] of [['train', 6], ['test', 2]] as const) {
      for (const cls of ['cat', 'dog']) for (let i = 0; i < n; i++) put(dir, `${split}/${cls}/${i}.png`, pngBytes(8, 8, solid(8, 8, cls === 'cat' ? [20, 20, 20] : [220, 220, 220])));
    }
    const ds = await loadImageFolder(dir, { threads: 0 });
    assert.deepEqual(ds.info.classNames, ['cat', 'dog']);
    assert.deepEqual(ds.info.imageFolder!.split, { kind: 'folders' });
    assert.deepEqual(ds.info.imageFolder!.classCounts, { train: [6, 6], test: [2, 2] });
    put(dir, 'test/bird/0.png', pngBytes(8, 8, solid(8, 8, [1, 2, 3])));
    await rejectsNaming(loadImageFolder(dir, { threads: 0 }), path.join(dir, 'test'), /class folder\(s\) "bird" are not in train\//);
  });

  it('refuses a folder with no class folders, a single class, or an empty class folder, naming it', async () => {
    const none = path.join(root, 'none');
    put(none, 'a.png', pngBytes(4, 4, solid(4, 4, [0, 0, 0])));
    await rejectsNaming(loadImageFolder(none), none, /no class subfolders/);
    const one = path.join(root, 'one');
    put(one, 'cats/a.png', pngBytes(4, 4, solid(4, 4, [0, 0, 0])));
    await rejectsNaming(loadImageFolder(one), one, /only one class folder \("cats"\); a classifier needs at least two classes/);
    const empty = path.join(root, 'empty');
    put(empty, 'cats/a.png', pngBytes(4, 4, solid(4, 4, [0, 0, 0])));
    put(empty, 'cats/b.png', pngBytes(4, 4, solid(4, 4, [0, 0, 0])));
    put(empty, 'dogs/readme.txt', 'no pictures yet');
    await rejectsNaming(loadImageFolder(empty), path.join(empty, 'dogs'), /class folder "dogs" holds no PNG or JPEG images \(1 other file\)/);
  });

  it('skips, counts and lists a corrupt image; --strict refuses it naming the file, and nothing is cached', async () => {
    const dir = path.join(root, 'corrupt');
    for (const cls of ['a', 'b']) for (let i = 0; i < 5; i++) put(dir, `${cls}/${i}.png`, pngBytes(6, 6, solid(6, 6, cls === 'a' ? [0, 0, 0] : [255, 255, 255])));
    const good = pngBytes(6, 6, solid(6, 6, [9, 9, 9]));
    const truncated = put(dir, 'a/truncated.png', good.subarray(0, good.length - 20));
    put(dir, 'b/garbage.jpg', 'this is not a jpeg');
    put(dir, 'b/empty.png', '');
    const ds = await loadImageFolder(dir, { threads: 0 });
    const f = ds.info.imageFolder!;
    assert.equal(f.skipped.count, 3);
    assert.deepEqual(f.skipped.first.map((s) => s.path).sort(), ['a/truncated.png', 'b/empty.png', 'b/garbage.jpg']);
    assert.match(f.skipped.first.find((s) => s.path === 'a/truncated.png')!.reason, /PNG that cannot be decoded/);
    assert.match(f.skipped.first.find((s) => s.path === 'b/empty.png')!.reason, /the file is empty/);
    assert.equal(ds.train.count + ds.test.count, 10);
    assert.ok(f.notes.some((n) => n.startsWith('3 unreadable images skipped: ')), f.notes.join('\n'));
    // --strict: refused at the first unreadable file, from the cache entry just written or decoding afresh.
    const emptyFile = path.join(dir, 'b', 'empty.png');
    await rejectsNaming(loadImageFolder(dir, { strict: true, threads: 0 }), emptyFile, /the file is empty \(refused by --strict; without it the image would be skipped and listed\)/);
    await rejectsNaming(loadImageFolder(dir, { strict: true, threads: 0, noCache: true }), emptyFile, /refused by --strict/);
    rmSync(path.join(dir, 'b', 'empty.png'));
    rmSync(path.join(dir, 'b', 'garbage.jpg'));
    await rejectsNaming(loadImageFolder(dir, { strict: true, threads: 0 }), truncated, /PNG that cannot be decoded.*refused by --strict/);
  });

  it('reads RGB by default for colour images, grayscale when the model takes one channel, and notes it', async () => {
    const dir = path.join(root, 'colour');
    writeColourFolders(dir, 6, 8);
    const rgb = await loadImageFolder(dir, { threads: 0 });
    assert.deepEqual(rgb.info.imageShape, [8, 8, 3]);
    assert.equal(rgb.info.imageFolder!.colorMode, 'rgb');
    // Blue images have more blue than red on average, red images the opposite.
    const mean = (ds: typeof rgb, cls: number, ch: number) => {
      let s = 0;
      let n = 0;
      for (let i = 0; i < ds.train.count; i++) {
        if (ds.train.labels[i] !== cls) continue;
        const c = ds.train.channels;
        for (let p = 0; p < 64; p++) s += ds.train.images[(i * 64 + p) * c + ch]!;
        n += 64;
      }
      return s / n;
    };
    assert.ok(mean(rgb, 0, 2) > mean(rgb, 0, 0) + 30, 'blue class is blue');
    assert.ok(mean(rgb, 2, 0) > mean(rgb, 2, 2) + 30, 'red class is red');
    const gray = await loadImageFolder(dir, { threads: 0, modelChannels: 1 });
    assert.deepEqual(gray.info.imageShape, [8, 8, 1]);
    assert.ok(gray.info.imageFolder!.notes.some((n) => /Colour images read as grayscale \(BT.601 luminance\): the model takes 1 channel/.test(n)));
    // Equal luminance by construction: the grayscale class means agree to within sampling noise (σ ≈ 32 per pixel, 320 pixels: ±2 each).
    const g = [0, 1, 2].map((c) => mean(gray, c, 0));
    assert.ok(Math.max(...g) - Math.min(...g) < 8, `grayscale means ${g.join(', ')}`);
    const asked = await loadImageFolder(dir, { threads: 0, colorMode: 'grayscale', imageSize: [4, 6] });
    assert.deepEqual(asked.info.imageShape, [4, 6, 1]);
    assert.equal(asked.info.imageFolder!.imageSizeFrom, 'option');
  });

  it('resizes mixed sizes to the most common one, honours EXIF orientation, and notes 16-bit and palette transparency', async () => {
    const dir = path.join(root, 'mixed');
    for (let i = 0; i < 3; i++) put(dir, `a/s${i}.png`, pngBytes(10, 10, solid(10, 10, [100, 100, 100])));
    put(dir, 'a/big.png', pngBytes(20, 30, solid(30, 20, [100, 100, 100])));
    // A 4 wide × 2 tall JPEG stored sideways with orientation 6 (turn 90° clockwise): displayed 2 wide × 4 tall.
    const stored = new Uint8Array(4 * 2 * 4);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) stored.set(x < 2 ? [250, 250, 250, 255] : [0, 0, 0, 255], (y * 4 + x) * 4);
    put(dir, 'b/rotated.jpg', jpegBytes(4, 2, stored, 6));
    put(dir, 'b/deep.png', pngBytes(10, 10, solid(10, 10, [200, 200, 200]), { colorType: 2, bitDepth: 16 }));
    put(dir, 'b/palette.png', palettePngBytes(10, 10, new Uint8Array(100).map((_, i) => i % 2), [[255, 255, 255], [255, 0, 0]], [255, 0]));
    const ds = await loadImageFolder(dir, { threads: 0, colorMode: 'grayscale', noCache: true });
    const f = ds.info.imageFolder!;
    assert.deepEqual(f.imageSize, [10, 10]);
    assert.deepEqual(f.sizes.slice(0, 1), [{ height: 10, width: 10, count: 5 }]);
    assert.ok(f.sizes.some((s) => s.height === 4 && s.width === 2), 'the rotated JPEG counts as 4 tall × 2 wide');
    const notes = f.notes.join('\n');
    assert.match(notes, /Mixed sizes: the images come in 3 sizes \(10×10: 5, .*\); all are resized to 10×10 \(the most common size; --image-size HxW to choose another\)/);
    assert.match(notes, /1 16-bit PNG reduced to 8 bits per channel \(b\/deep.png\)/);
    assert.match(notes, /1 image with transparency \(1 palette PNG with a tRNS chunk\): transparent pixels are composited over black \(b\/palette.png\)/);
    // Through the predict pipeline: the rotated image, upright, is bright on top and dark below.
    const upright = await loadImageFolder(dir, { threads: 0, colorMode: 'grayscale', imageSize: [4, 2], noCache: true });
    const all = [...Array(upright.train.count).keys()].map((i) => ({ set: upright.train, i })).concat([...Array(upright.test.count).keys()].map((i) => ({ set: upright.test, i })));
    const rotated = all.find(({ set, i }) => set.images[i * 8]! > 200 && set.images[i * 8 + 7]! < 40);
    assert.ok(rotated, 'one image is bright on top and dark at the bottom (orientation 6 applied)');
  });

  it('converts an Adobe CMYK JPEG to RGB with a note, and skips a CMYK JPEG it cannot convert, saying why', async () => {
    const dir = path.join(root, 'cmyk');
    for (let i = 0; i < 3; i++) put(dir, `plain/${i}.png`, pngBytes(8, 8, solid(8, 8, [0, 0, 255]), { colorType: 2 }));
    // Adobe CMYK stores inverted inks: C=255, M=0, Y=0, K=255 is no cyan, full magenta and yellow, no black: red.
    for (let i = 0; i < 3; i++) put(dir, `print/${i}.jpg`, cmykJpegBytes([255, 0, 0, 255]));
    put(dir, 'print/no-adobe.jpg', cmykJpegBytes([255, 0, 0, 255], false));
    const ds = await loadImageFolder(dir, { threads: 0 });
    const f = ds.info.imageFolder!;
    assert.equal(f.colorMode, 'rgb');
    assert.match(f.notes.join('\n'), /3 CMYK JPEGs converted to RGB \(print\/0.jpg, print\/1.jpg, print\/2.jpg\)/);
    assert.deepEqual(f.skipped.first, [{ path: 'print/no-adobe.jpg', reason: "a CMYK JPEG without Adobe's APP14 colour marker, so its inks cannot be converted to RGB; save it as an RGB JPEG or PNG" }]);
    const sets = [ds.train, ds.test];
    const reds = sets.flatMap((s) => [...Array(s.count).keys()].filter((i) => s.labels[i] === 1).map((i) => Array.from(s.images.subarray(i * 192, i * 192 + 3))));
    assert.equal(reds.length, 3);
    for (const px of reds) assert.deepEqual(px, [255, 0, 0]);
  });

  it('decodes in worker threads with the same bytes, and a second load reads the cache instead of decoding', async () => {
    const dir = path.join(root, 'workers');
    writeColourFolders(dir, 40, 12);
    rmSync(imageCacheDir(), { recursive: true, force: true });
    const inThread = await loadImageFolder(dir, { threads: 0, noCache: true });
    const before = decodeCounter.files;
    const first = await loadImageFolder(dir, { threads: 2 });
    assert.equal(decodeCounter.files - before, 120, 'every image decoded once, by the workers');
    assert.deepEqual(Buffer.compare(Buffer.from(first.train.images), Buffer.from(inThread.train.images)), 0);
    assert.equal(first.info.fingerprint, inThread.info.fingerprint);
    assert.equal(readdirSync(imageCacheDir()).filter((n) => n.endsWith('.bin')).length, 1, 'one cache file written');
    const hits = cacheCounter.hits;
    const again = await loadImageFolder(dir, { threads: 2 });
    assert.equal(decodeCounter.files - before, 120, 'nothing decoded the second time');
    assert.equal(cacheCounter.hits, hits + 1);
    assert.deepEqual(again.info, first.info);
    assert.equal(Buffer.compare(Buffer.from(again.test.images), Buffer.from(first.test.images)), 0);
    // A changed file changes the key: decoded afresh, with a new fingerprint.
    writeFileSync(path.join(dir, 'red', 'red0000.png'), pngBytes(12, 12, solid(12, 12, [250, 10, 10]), { colorType: 2 }));
    const changed = await loadImageFolder(dir, { threads: 0 });
    assert.notEqual(changed.info.fingerprint, first.info.fingerprint);
    assert.ok(existsSync(imageCacheDir()));
  });

  it('keeps the cache under CNN_WORKBENCH_IMAGE_CACHE_BYTES: the newest entries that fit, nothing larger than it', async () => {
    const cached = (): string[] => readdirSync(imageCacheDir()).filter((n) => n.endsWith('.bin'));
    const small = path.join(root, 'budget-small');
    const other = path.join(root, 'budget-other');
    const large = path.join(root, 'budget-large');
    writeColourFolders(small, 10, 8);
    writeColourFolders(other, 10, 8, 99);
    writeColourFolders(large, 40, 16);
    rmSync(imageCacheDir(), { recursive: true, force: true });
    try {
      await loadImageFolder(small, { threads: 0 });
      const [one] = cached();
      const bytes = statSync(path.join(imageCacheDir(), one!)).size;
      // Room for one small entry, not two, and not the large folder (16×16, 120 images: ~92 KB of pixels).
      process.env.CNN_WORKBENCH_IMAGE_CACHE_BYTES = String(Math.floor(bytes * 1.5));
      await loadImageFolder(other, { threads: 0 });
      assert.equal(cached().length, 1, 'the older entry went to make room');
      assert.notEqual(cached()[0], one);
      const before = decodeCounter.files;
      await loadImageFolder(large, { threads: 0 });
      await loadImageFolder(large, { threads: 0 });
      assert.equal(decodeCounter.files - before, 240, 'too large to cache: decoded on each load');
      assert.equal(cached().length, 1, 'the large folder was not written');
      process.env.CNN_WORKBENCH_IMAGE_CACHE_BYTES = '12 apples';
      await assert.rejects(loadImageFolder(other, { threads: 0, noCache: false }), (err: Error) => err instanceof DataError && /^CNN_WORKBENCH_IMAGE_CACHE_BYTES '12 apples': expected bytes/.test(err.message));
    } finally {
      delete process.env.CNN_WORKBENCH_IMAGE_CACHE_BYTES;
    }
  });
});
