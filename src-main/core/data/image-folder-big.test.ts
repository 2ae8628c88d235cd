/**
 * A folder holding two 10,000 × 10,000 images: both are decoded (one at a time, even with two workers) and
 * shrunk, and the process's peak memory stays bounded. Measured in a child process of its own, so the figure is
 * the loader's: a decoded 10,000² image is 400 MB of RGBA plus 100 MB of inflated scanlines; two decoded at once
 * would pass 1.2 GB, and float planes of the whole image (what predict's resize held before) another 1.2 GB.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { bigGrayPngBytes, pngBytes, put, solid } from './image-testkit';
import { cleanup, tempDir } from './testkit';

const exec = promisify(execFile);
const PEAK_LIMIT_MB = 1024;
let root: string;

before(() => {
  root = tempDir('cnnwb-big-image-');
  const big = bigGrayPngBytes(10_000, 10_000);
  put(root, 'data/a/huge0.png', big);
  put(root, 'data/b/huge1.png', big);
  for (let i = 0; i < 4; i++) {
    put(root, `data/a/s${i}.png`, pngBytes(32, 32, solid(32, 32, [20, 20, 20]), { colorType: 0 }));
    put(root, `data/b/s${i}.png`, pngBytes(32, 32, solid(32, 32, [230, 230, 230]), { colorType: 0 }));
  }
});
after(() => cleanup(root));

test('two 10,000 × 10,000 PNGs are decoded one at a time and shrunk: peak RSS stays under 1 GB', { timeout: 600_000 }, async () => {
  const script = path.join(root, 'load.mts');
  const loader = path.resolve(import.meta.dirname, 'image-folder.ts');
  writeFileSync(
    script,
    `import { loadImageFolder } from ${JSON.stringify(loader)};
const ds = await loadImageFolder(${JSON.stringify(path.join(root, 'data'))}, { threads: 2, noCache: true });
const all = [...ds.train.labels, ...ds.test.labels].length;
console.log(JSON.stringify({ maxRssMB: process.resourceUsage().maxRSS / 1024, shape: ds.info.imageShape, all, notes: ds.info.imageFolder.notes }));
`,
  );
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', script], { timeout: 600_000, env: { ...process.env, CNN_WORKBENCH_HOME: path.join(root, 'home') } });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { maxRssMB: number; shape: number[]; all: number; notes: string[] };
  assert.deepEqual(r.shape, [32, 32, 1]);
  assert.equal(r.all, 10, 'both huge images are in the dataset, with the 8 small ones');
  assert.ok(r.notes.includes('2 large images (up to 10000×10000) decoded one at a time and shrunk to 32×32 (a/huge0.png, b/huge1.png).'), r.notes.join('\n'));
  assert.ok(r.maxRssMB < PEAK_LIMIT_MB, `peak RSS ${r.maxRssMB.toFixed(0)} MB ≥ ${PEAK_LIMIT_MB} MB`);
  console.log(`peak RSS ${r.maxRssMB.toFixed(0)} MB loading two 10,000 × 10,000 PNGs`);
});
