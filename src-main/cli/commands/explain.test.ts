import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PNG } from 'pngjs';
import { initBackend } from '../../core/backend/index';
import { mulberry32 } from '../../core/data/random';
import { SIZE, mapStats, squareImage, trainSquareFinder, writePng, writeSquareIdx, writeSquareRun } from '../../core/explain/testkit';
import { runCli as cli } from '../testkit';



let root: string;
let runDir: string;
/** Square positions (top-left corners) of the images written, one per quadrant. */
const CASES = [
  { name: 'top-left', sq: { x: 3, y: 5 }, q: { x0: 0, y0: 0, x1: 14, y1: 14 } },
  { name: 'top-right', sq: { x: 19, y: 2 }, q: { x0: 14, y0: 0, x1: 28, y1: 14 } },
  { name: 'bottom-left', sq: { x: 6, y: 18 }, q: { x0: 0, y0: 14, x1: 14, y1: 28 } },
  { name: 'bottom-right', sq: { x: 17, y: 20 }, q: { x0: 14, y0: 14, x1: 28, y1: 28 } },
];

before(async () => {
  await initBackend();
  root = mkdtempSync(path.join(os.tmpdir(), 'cnnwb-explain-'));
  const { model } = await trainSquareFinder();
  writeSquareIdx(path.join(root, 'squares'), 20, 300, 9);
  runDir = path.join(root, 'runs', 'square-run');
  await writeSquareRun(model, runDir, path.join(root, 'squares'));
  model.dispose();
  CASES.forEach((c, i) => writePng(path.join(root, `${c.name}.png`), squareImage(mulberry32(100 + i), c.sq)));
});

after(() => rmSync(root, { recursive: true, force: true }));

test('explain --method gradcam on the synthetic case: ≥ 60% of the mass in the square\'s quadrant, peak within 3 px', async () => {
  const out = path.join(root, 'gradcam');
  const r = await cli(['explain', '--run', runDir, ...CASES.map((c) => path.join(root, `${c.name}.png`)), '--method', 'gradcam', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /top-left\.png: square \d+\.\d%, blank \d+\.\d% — gradcam for square \(conv2d_1\)/);
  const report = JSON.parse(r.stdout.trimEnd().split('\n').pop()!) as { source: string; png: string; json: string; className: string }[];
  assert.equal(report.length, 4);
  for (const c of CASES) {
    const file = JSON.parse(readFileSync(path.join(out, `${c.name}.gradcam.json`), 'utf8')) as { map: number[][]; width: number; height: number; className: string };
    assert.equal(file.className, 'square');
    assert.equal(file.map.length, SIZE);
    assert.ok(file.map.every((row) => row.length === SIZE && row.every((v) => v >= 0)));
    const { massInQuadrant, peakDistance } = mapStats(file.map.flat(), SIZE, c.sq, c.q);
    assert.ok(massInQuadrant >= 0.6, `${c.name}: ${(massInQuadrant * 100).toFixed(1)}% of the mass in its quadrant`);
    assert.ok(peakDistance <= 3, `${c.name}: peak ${peakDistance.toFixed(2)} px from the square`);
    const png = PNG.sync.read(readFileSync(path.join(out, `${c.name}.gradcam.png`)));
    assert.deepEqual([png.width, png.height], [SIZE * 8, SIZE * 8]);
  }
});

test('explain --method saliency --class blank: maps for the class asked for', async () => {
  const out = path.join(root, 'saliency');
  const r = await cli(['explain', '--run', runDir, path.join(root, 'top-left.png'), '--method', 'saliency', '--class', 'blank', '--out', out, '--scale', '1']);
  assert.equal(r.code, 0, r.stderr);
  const file = JSON.parse(readFileSync(path.join(out, 'top-left.saliency.json'), 'utf8')) as { className: string; classIndex: number; layer: string };
  assert.deepEqual([file.className, file.classIndex, file.layer], ['blank', 0, 'input']);
  assert.equal(PNG.sync.read(readFileSync(path.join(out, 'top-left.saliency.png'))).width, SIZE);
});

test('explain: bad input → one clear message, exit code 2, nothing written', async () => {
  const out = path.join(root, 'never');
  const img = path.join(root, 'top-left.png');
  const bad = path.join(root, 'not-an-image.png');
  writeFileSync(bad, 'hello');
  const cases: [string[], RegExp][] = [
    [['--run', runDir, img, '--method', 'occlusion', '--out', out], /--method must be gradcam or saliency, received 'occlusion'/],
    [['--run', runDir, img, '--out', out], /--method is required/],
    [['--run', runDir, img, '--method', 'gradcam'], /--out is required/],
    [['--run', runDir, img, bad, '--method', 'gradcam', '--out', out], /not-an-image\.png: not a PNG or JPEG image/],
    [['--run', runDir, img, '--method', 'gradcam', '--class', 'Shirt', '--out', out], /--class "Shirt": the model's classes are 0 blank, 1 square/],
    [['--run', path.join(root, 'no-such-run'), img, '--method', 'gradcam', '--out', out], /no such run folder/],
    [['--run', runDir, path.join(root, 'missing.png'), '--method', 'gradcam', '--out', out], /cannot read image .*missing\.png: ENOENT/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(['explain', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!existsSync(out), `${args.join(' ')}: wrote ${out}`);
  }
});

test('embed: the test set projected, reproducible with a seed; bad flags exit 2', async () => {
  const a = path.join(root, 'a.json');
  const b = path.join(root, 'b.json');
  for (const file of [a, b]) {
    const r = await cli(['embed', '--run', runDir, '--out', file, '--method', 'umap', '--seed', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /300 test images, features \(16 values each\) → UMAP seed 3/);
  }
  assert.equal(readFileSync(a, 'utf8'), readFileSync(b, 'utf8'));
  const e = JSON.parse(readFileSync(a, 'utf8')) as { x: number[]; y: number[]; truth: number[]; predicted: number[]; classNames: string[] };
  assert.equal(e.x.length, 300);
  assert.deepEqual(e.classNames, ['blank', 'square']);
  assert.ok(e.x.every(Number.isFinite) && e.y.every(Number.isFinite));
  // The two classes form two groups: their centres lie farther apart than the typical spread within a class.
  const centre = (k: number) => {
    const idx = e.truth.map((t, i) => (t === k ? i : -1)).filter((i) => i >= 0);
    return [idx.reduce((s, i) => s + e.x[i]!, 0) / idx.length, idx.reduce((s, i) => s + e.y[i]!, 0) / idx.length] as const;
  };
  const [c0, c1] = [centre(0), centre(1)];
  const spread = Math.max(...e.x) - Math.min(...e.x);
  assert.ok(Math.hypot(c0[0] - c1[0], c0[1] - c1[1]) > spread / 5, 'classes are not separated on the map');

  const pca = path.join(root, 'pca.json');
  const r = await cli(['embed', '--run', runDir, '--out', pca, '--method', 'pca', '--max-points', '50']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(readFileSync(pca, 'utf8')) as { x: number[] }).x.length, 50);

  const before = readdirSync(root).length;
  for (const [args, message] of [
    [['--run', runDir, '--out', path.join(root, 'c.json'), '--method', 'tsne'], /--method must be umap or pca, received 'tsne'/],
    [['--run', runDir], /--out is required/],
    [['--run', runDir, '--out', path.join(root, 'nope', 'c.json')], /the folder .*nope does not exist/],
  ] as [string[], RegExp][]) {
    const bad = await cli(['embed', ...args]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, message);
  }
  assert.equal(readdirSync(root).length, before, 'a refused embed wrote a file');
});
