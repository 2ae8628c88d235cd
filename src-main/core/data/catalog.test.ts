import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { getTestImages, importDataset, listDatasets, readIdxHeaderFromFile } from './catalog';
import { FASHION_MNIST_CLASSES } from './classes';
import { DataError } from './errors';
import { loadDataset } from './load';
import { DEBIAN_FASHION_MNIST_DIR } from './locate';
import { registryPath } from './registry';
import { cleanup, realIdx, tempDir, writeSmallIdxFolder } from './testkit';

describe('listDatasets, importDataset, getTestImages', () => {
  let root: string;
  before(() => {
    root = tempDir();
    process.env.CNN_WORKBENCH_HOME = path.join(root, 'home');
  });
  after(() => cleanup(root));

  it('reads IDX dims from the first bytes of a gzip file', () => {
    assert.deepEqual(readIdxHeaderFromFile(path.join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')), [60000, 28, 28]);
    assert.deepEqual(readIdxHeaderFromFile(path.join(DEBIAN_FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')), [10000]);
  });

  it('finds the Debian Fashion-MNIST, with the fingerprint loadDataset records, and caches it', async () => {
    const list = await listDatasets();
    const fm = list.find((d) => d.id === 'fashion-mnist');
    assert.ok(fm, 'fashion-mnist listed');
    assert.equal(fm.location, DEBIAN_FASHION_MNIST_DIR);
    assert.deepEqual([fm.trainCount, fm.testCount], [60000, 10000]);
    assert.deepEqual(fm.imageShape, [28, 28, 1]);
    assert.deepEqual(fm.classNames, FASHION_MNIST_CLASSES);
    const loaded = await loadDataset('fashion-mnist', { download: false, limitTrain: 1, limitTest: 1 });
    assert.equal(fm.fingerprint, loaded.info.fingerprint);
    const cached = JSON.parse(readFileSync(registryPath(), 'utf8')) as { fingerprints: { fingerprint: string }[] };
    assert.deepEqual(cached.fingerprints.map((c) => c.fingerprint), [fm.fingerprint]);
    // The second listing is served from the cache: same answer.
    assert.deepEqual((await listDatasets()).find((d) => d.id === 'fashion-mnist'), fm);
  });

  it('imports a folder with a stable id, lists it, loads it by id, and forgets it when it is gone', async () => {
    const dir = path.join(root, 'My Data');
    mkdirSync(dir);
    await writeSmallIdxFolder(dir, 200, 60, { gzip: true });
    const info = await importDataset(dir);
    assert.match(info.id, /^my-data-[0-9a-f]{8}$/);
    assert.deepEqual([info.trainCount, info.testCount], [200, 60]);
    assert.equal((await importDataset(dir)).id, info.id, 'same data, same id');
    const listed = (await listDatasets()).filter((d) => d.id === info.id);
    assert.deepEqual(listed, [info], 'listed once');
    const byId = await loadDataset(info.id);
    assert.equal(byId.info.id, info.id);
    assert.equal(byId.test.count, 60);
    const samples = await getTestImages(info.id, [0, 59]);
    const labels = await realIdx('testLabels');
    assert.deepEqual(samples.map((s) => s.label), [labels[8], labels[8 + 59]]);
    rmSync(dir, { recursive: true });
    assert.equal((await listDatasets()).some((d) => d.id === info.id), false);
  });

  it('refuses to import invalid data, naming the file, and leaves the registry unchanged', async () => {
    const dir = path.join(root, 'broken');
    mkdirSync(dir);
    const files = await writeSmallIdxFolder(dir, 50, 20, { gzip: true });
    const gz = readFileSync(files.trainImages);
    writeFileSync(files.trainImages, gz.subarray(0, gz.length - 40));
    const before = readFileSync(registryPath(), 'utf8');
    await assert.rejects(importDataset(dir), (err: unknown) => err instanceof DataError && err.message.includes('train-images-idx3-ubyte.gz'));
    await assert.rejects(importDataset(path.join(root, 'nothing-here')), /no such file or folder/);
    assert.equal(readFileSync(registryPath(), 'utf8'), before);
    // A gzip stream cut short still yields its header to a listing.
    writeFileSync(path.join(root, 'head.gz'), gzipSync(await realIdx('testLabels')).subarray(0, 200));
    assert.deepEqual(readIdxHeaderFromFile(path.join(root, 'head.gz')), [10000]);
  });
});
