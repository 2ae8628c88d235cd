import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classes';
import { DataError } from './errors';
import { CSV_TEST_FRACTION, loadDataset } from './load';
import { cleanup, csvFromIdx, realIdx, tempDir, truncateIdxItems, writeSmallIdxFolder } from './testkit';

/** Asserts a rejection with a DataError whose message names `file` and matches `pattern`. */
async function rejectsNaming(p: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.ok(err.message.includes(file), `message should name ${file}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('loadDataset', () => {
  let root: string;
  before(() => {
    root = tempDir();
    process.env.CNN_WORKBENCH_HOME = path.join(root, 'home');
  });
  after(() => cleanup(root));

  it('loads the real Fashion-MNIST (Debian copy) with its class names, counts and limits', async () => {
    const ds = await loadDataset('fashion-mnist', { limitTrain: 1000, limitTest: 500, download: false });
    assert.equal(ds.info.id, 'fashion-mnist');
    assert.deepEqual(ds.info.classNames, FASHION_MNIST_CLASSES);
    assert.deepEqual([ds.info.trainCount, ds.info.testCount], [60000, 10000]);
    assert.deepEqual(ds.info.imageShape, [28, 28, 1]);
    assert.match(ds.info.fingerprint, /^[0-9a-f]{64}$/);
    assert.deepEqual([ds.train.count, ds.train.images.length, ds.train.labels.length], [1000, 1000 * 784, 1000]);
    assert.deepEqual([ds.test.count, ds.test.labels.length], [500, 500]);
    assert.deepEqual(Array.from(ds.train.labels.subarray(0, 4)), [9, 0, 0, 3]);
  });

  it('loads a folder of raw or gzipped IDX files alike, with the same fingerprint', async () => {
    const rawDir = path.join(root, 'raw');
    const gzDir = path.join(root, 'gz');
    mkdirSync(rawDir);
    mkdirSync(gzDir);
    await writeSmallIdxFolder(rawDir, 300, 100);
    await writeSmallIdxFolder(gzDir, 300, 100, { gzip: true });
    const a = await loadDataset(rawDir);
    const b = await loadDataset(gzDir);
    assert.deepEqual([a.train.count, a.test.count], [300, 100]);
    assert.equal(a.info.fingerprint, b.info.fingerprint);
    assert.deepEqual(Buffer.from(a.train.images), Buffer.from(b.train.images));
    assert.match(a.info.id, /^raw-[0-9a-f]{8}$/);
    assert.deepEqual(a.info.classNames, MNIST_CLASSES, 'a folder not known to be Fashion-MNIST gets digit names');
  });

  it('uses classes.txt for class names and the class count', async () => {
    const dir = path.join(root, 'named');
    mkdirSync(dir);
    await writeSmallIdxFolder(dir, 100, 50);
    writeFileSync(path.join(dir, 'classes.txt'), FASHION_MNIST_CLASSES.join('\n') + '\n');
    assert.deepEqual((await loadDataset(dir)).info.classNames, FASHION_MNIST_CLASSES);
    writeFileSync(path.join(dir, 'classes.txt'), 'a\nb\nc\n');
    await rejectsNaming(loadDataset(dir), 'labels-idx1-ubyte', /label \d at index \d+ is outside \[0, 3\)/);
  });

  it('rejects a count mismatch between images and labels, naming the labels file', async () => {
    const dir = path.join(root, 'mismatch');
    mkdirSync(dir);
    const labels = truncateIdxItems(await realIdx('trainLabels'), 299);
    await writeSmallIdxFolder(dir, 300, 100, { override: { trainLabels: labels } });
    await rejectsNaming(loadDataset(dir), 'train-labels-idx1-ubyte', /299 labels, but .*train-images-idx3-ubyte has 300 images/);
  });

  it('rejects labels out of range, naming the file and index', async () => {
    const dir = path.join(root, 'badlabel');
    mkdirSync(dir);
    const labels = truncateIdxItems(await realIdx('testLabels'), 100);
    labels[8 + 42] = 12;
    await writeSmallIdxFolder(dir, 300, 100, { override: { testLabels: labels } });
    await rejectsNaming(loadDataset(dir), 't10k-labels-idx1-ubyte', /label 12 at index 42 is outside \[0, 10\)/);
  });

  it('rejects a truncated images file and a images/labels swap, naming the file', async () => {
    const dir = path.join(root, 'truncated');
    mkdirSync(dir);
    const images = truncateIdxItems(await realIdx('trainImages'), 300);
    await writeSmallIdxFolder(dir, 300, 100, { override: { trainImages: images.subarray(0, images.length - 784) } });
    await rejectsNaming(loadDataset(dir), 'train-images-idx3-ubyte', /truncated IDX payload/);
    const swapped = path.join(root, 'swapped');
    mkdirSync(swapped);
    await writeSmallIdxFolder(swapped, 300, 100, { override: { trainImages: truncateIdxItems(await realIdx('trainLabels'), 300) } });
    await rejectsNaming(loadDataset(swapped), 'train-images-idx3-ubyte', /needs 3 dimensions.*found \[300\]/);
  });

  it('rejects a folder missing files, a non-dataset file and an unknown id', async () => {
    const dir = path.join(root, 'partial');
    mkdirSync(dir);
    await writeSmallIdxFolder(dir, 10, 10);
    rmSync(path.join(dir, 't10k-labels-idx1-ubyte'));
    await rejectsNaming(loadDataset(dir), dir, /missing t10k-labels-idx1-ubyte/);
    writeFileSync(path.join(root, 'notes.txt'), 'hello');
    await rejectsNaming(loadDataset(path.join(root, 'notes.txt')), 'notes.txt', /not a dataset/);
    await rejectsNaming(loadDataset('no-such-dataset'), 'no-such-dataset', /unknown dataset "no-such-dataset"/);
  });

  it('loads a CSV with its sibling test CSV', async () => {
    const dir = path.join(root, 'csv');
    mkdirSync(dir);
    const [trImg, trLbl, teImg, teLbl] = await Promise.all([realIdx('trainImages'), realIdx('trainLabels'), realIdx('testImages'), realIdx('testLabels')]);
    writeFileSync(path.join(dir, 'fashion-mnist_train.csv'), csvFromIdx(trImg, trLbl, 120));
    writeFileSync(path.join(dir, 'fashion-mnist_test.csv'), csvFromIdx(teImg, teLbl, 40));
    const ds = await loadDataset(path.join(dir, 'fashion-mnist_train.csv'), { limitTrain: 100 });
    assert.equal(ds.info.format, 'csv');
    assert.deepEqual([ds.info.trainCount, ds.info.testCount, ds.train.count, ds.test.count], [120, 40, 100, 40]);
    assert.deepEqual(ds.info.classNames, FASHION_MNIST_CLASSES);
    assert.deepEqual(Buffer.from(ds.test.labels), Buffer.from(teLbl.subarray(8, 48)));
    assert.match(ds.info.id, /^fashion-mnist-train-[0-9a-f]{8}$/);
  });

  it('holds out a seeded 1/7 of a lone CSV as the test set, the same rows every time', async () => {
    const dir = path.join(root, 'lone');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'digits.csv'), csvFromIdx(await realIdx('testImages'), await realIdx('testLabels'), 700));
    const a = await loadDataset(path.join(dir, 'digits.csv'));
    const b = await loadDataset(path.join(dir, 'digits.csv'));
    assert.equal(a.test.count, 700 - Math.floor((1 - CSV_TEST_FRACTION) * 700 + 1e-9));
    assert.equal(a.train.count + a.test.count, 700);
    assert.deepEqual(Buffer.from(a.test.images), Buffer.from(b.test.images));
    assert.match(a.info.location, /held out as test/);
  });

  it('says where it looked when MNIST is absent', async () => {
    await rejectsNaming(loadDataset('mnist'), path.join(root, 'home', 'datasets', 'mnist'), /MNIST not found in .* or \/usr\/share\/datasets\/mnist/);
  });

  it('still loads by path when the registry is damaged, and names the registry when an id needs it', async () => {
    const dir = path.join(root, 'reg');
    mkdirSync(dir);
    await writeSmallIdxFolder(dir, 20, 10);
    mkdirSync(path.join(root, 'home'), { recursive: true });
    const registry = path.join(root, 'home', 'datasets.json');
    writeFileSync(registry, '{ not json');
    try {
      assert.equal((await loadDataset(dir)).train.count, 20);
      await rejectsNaming(loadDataset('some-id-1234abcd'), registry, /not valid JSON/);
    } finally {
      rmSync(registry);
    }
  });
});
