/**
 * A user's own colour images, end to end in the UI (browser mode):
 * - a folder of class subfolders of RGB PNGs (colour-coded shapes, written here at test time, imbalanced on
 *   purpose, with a text file and a corrupt PNG among them) imported from a path under the data root;
 * - the Data view: image size, colour mode RGB, per-class counts as bars with the imbalance named, colour
 *   thumbnails per class, the split sizes, the skipped files;
 * - the model editor: RandomFlip after the input shows one training image and eight draws, "New draws" redraws;
 * - a short run trains on it, and Results shows a confusion matrix over the test images and a colour gallery.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { PNG } from 'pngjs';
// The images are the same on every run: the data module's own seeded generator.
import { mulberry32 } from '../src-main/core/data/random';
import { expect, expectAccessible, openView, test, trainToEnd } from './fixtures';

const SIZE = 16;
/** Class folder → [count, colour]: red 120 vs blue 60 is 2.0×, above the 1.5× imbalance line. */
const CLASSES: Record<string, [number, [number, number, number]]> = {
  'blue-triangles': [60, [40, 70, 230]],
  'green-circles': [100, [40, 200, 60]],
  'red-squares': [120, [225, 40, 40]],
};

/** One shape of the class's colour at a random place and size on a dark, noisy background, as PNG bytes. */
function shapePng(kind: string, colour: [number, number, number], r: () => number): Buffer {
  const png = new PNG({ width: SIZE, height: SIZE });
  const s = 4 + Math.floor(r() * 5);
  const cx = s / 2 + r() * (SIZE - s);
  const cy = s / 2 + r() * (SIZE - s);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const inside = kind.startsWith('red')
        ? Math.abs(dx) <= s / 2 && Math.abs(dy) <= s / 2
        : kind.startsWith('green')
          ? dx * dx + dy * dy <= (s / 2) ** 2
          : dy >= -s / 2 && dy <= s / 2 && Math.abs(dx) <= (dy + s / 2) / 2;
      const noise = Math.floor(r() * 30);
      const px = inside ? colour.map((c) => Math.max(0, Math.min(255, c - 15 + noise))) : [noise, noise, noise];
      png.data.set([...px, 255], (y * SIZE + x) * 4);
    }
  }
  return PNG.sync.write(png);
}

/** Writes the class folders under `root` and returns the number of images written. */
function writeShapes(root: string): number {
  const r = mulberry32(14);
  let n = 0;
  for (const [name, [count, colour]] of Object.entries(CLASSES)) {
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < count; i++, n++) fs.writeFileSync(path.join(dir, `${name}-${String(i).padStart(3, '0')}.png`), shapePng(name, colour, r));
  }
  // Not images: a note is ignored and counted; a PNG that is not one is skipped, counted and listed.
  fs.writeFileSync(path.join(root, 'red-squares', 'notes.txt'), 'drawn by the e2e test\n');
  fs.writeFileSync(path.join(root, 'green-circles', 'broken.png'), Buffer.from('this is not a PNG'));
  return n;
}

/** How many of a canvas's pixels are clearly coloured (channels differ by more than 60), and its size. */
async function colourPixels(canvas: Locator): Promise<{ coloured: number; width: number; height: number; bytes: string }> {
  return canvas.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
    let coloured = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.max(d[i]!, d[i + 1]!, d[i + 2]!) - Math.min(d[i]!, d[i + 1]!, d[i + 2]!) > 60) coloured++;
    return { coloured, width: c.width, height: c.height, bytes: Array.from(d).join(',') };
  });
}

/** Adds a layer from the palette after the selected one and fills its fields (`name!` = a select). */
async function addLayer(page: Page, index: number, className: string, fields: Record<string, string>): Promise<void> {
  await page.getByTestId(`palette-${className}`).click();
  await expect(page.getByTestId(`layer-${index}`)).toHaveAttribute('data-class-name', className);
  for (const [key, value] of Object.entries(fields)) {
    const field = page.getByTestId(`field-${key.replace(/!$/, '')}`);
    if (key.endsWith('!')) await field.selectOption(value);
    else await field.fill(value);
  }
}

test('import a folder of colour images, see it, preview the augmentation, train and judge it in colour', async ({ page, server }, testInfo) => {
  const folder = path.join(server.home, 'datasets', 'shapes');
  const written = writeShapes(folder);

  // ---- import from a path under the data root, in the Data view
  await openView(page, 'Data');
  await page.getByTestId('import-path').fill(folder);
  await page.getByTestId('dataset-import').click();
  await expect(page.getByTestId('notice')).toContainText('Imported', { timeout: 120_000 });
  const view = page.getByTestId('data-view');
  await expect(view.getByTestId('fact-size')).toHaveText(`${SIZE} × ${SIZE} px`);
  await expect(view.getByTestId('fact-colour')).toHaveText('RGB');
  await expect(view.getByTestId('fact-classes')).toHaveText('3');

  // Counts: every image is in the training or the test set, per class as written.
  const counts = view.getByTestId('class-counts');
  await expect(counts).toBeVisible();
  const names = Object.keys(CLASSES).sort();
  const label = await counts.locator('[role="img"]').getAttribute('aria-label');
  const perClass = names.map((n) => {
    const m = new RegExp(`${n}: (\\d+) train, (\\d+) test`).exec(label ?? '');
    expect(m, `${n} in "${label}"`).not.toBeNull();
    return Number(m![1]) + Number(m![2]);
  });
  expect(perClass).toEqual(names.map((n) => CLASSES[n]![0]));
  expect(perClass.reduce((a, b) => a + b, 0)).toBe(written);
  const imbalance = view.getByTestId('imbalance');
  await expect(imbalance).toHaveAttribute('data-flagged', 'true');
  await expect(imbalance).toContainText('red-squares');
  await expect(imbalance).toContainText('blue-triangles');

  // Split sizes: train + validation + test = every image; validation is the form's 10 %.
  const split = view.getByTestId('fact-split');
  const [tr, va, te] = await Promise.all(['data-train', 'data-validation', 'data-test'].map(async (a) => Number(await split.getAttribute(a))));
  expect(tr + va + te).toBe(written);
  expect(va).toBe((tr + va) - Math.floor(0.9 * (tr + va) + 1e-9));

  // Skipped: the corrupt PNG (unreadable) and the note (not an image), each counted and listed.
  const skipped = view.getByTestId('fact-skipped');
  await expect(skipped).toHaveAttribute('data-count', '2');
  await expect(skipped).toContainText('1 unreadable, 1 not PNG/JPEG');
  await skipped.locator('summary').click();
  await expect(skipped).toContainText('green-circles/broken.png');
  await expect(skipped).toContainText('red-squares/notes.txt');
  await expect(view.getByTestId('fact-split-kind')).toContainText('of each class, held out with seed');

  // Thumbnails: a row per class, drawn in the class's colour.
  await expect(view.getByTestId('class-row')).toHaveCount(3);
  for (const [name, [, colour]] of Object.entries(CLASSES)) {
    const row = view.locator(`[data-testid="class-row"][data-class="${name}"]`);
    await expect(row.getByTestId('thumbnail')).toHaveCount(8);
    await expect(row.getByTestId('thumbnail').first()).toHaveAttribute('data-channels', '3');
    const c = row.locator('canvas').first();
    const px = await colourPixels(c);
    expect(px.coloured, `${name}: coloured pixels`).toBeGreaterThan(4);
    // The dominant channel of the coloured pixels is the class's own.
    const dominant = await c.evaluate((el: HTMLCanvasElement) => {
      const d = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) if (Math.max(d[i]!, d[i + 1]!, d[i + 2]!) > 120) for (let k = 0; k < 3; k++) sum[k] += d[i + k]!;
      return sum.indexOf(Math.max(...sum));
    });
    expect(dominant, name).toBe(colour.indexOf(Math.max(...colour)));
  }
  await expectAccessible(page, 'Data');
  await page.screenshot({ path: testInfo.outputPath('data-view.png'), fullPage: true });

  // ---- a small colour CNN with RandomFlip after the input: the augmentation preview
  await openView(page, 'Model');
  await page.getByTestId('project-new').click();
  await expect(page.getByTestId('layer-stack-empty')).toBeVisible();
  await expect(page.getByTestId('augmentation-preview')).toHaveCount(0);
  await addLayer(page, 0, 'InputLayer', { shape: `${SIZE}, ${SIZE}, 3` });
  await addLayer(page, 1, 'RandomFlip', {});
  const preview = page.getByTestId('augmentation-preview');
  await expect(preview).toBeVisible();
  const draws = preview.getByTestId('augmentation-draw');
  await expect(draws).toHaveCount(8, { timeout: 60_000 });
  const before = await Promise.all((await draws.locator('canvas').all()).map(colourPixels));
  for (const d of before) expect([d.width, d.height, d.coloured > 0]).toEqual([SIZE, SIZE, true]);
  // Flips in both directions: eight draws of a shape off-centre are not all alike.
  expect(new Set(before.map((d) => d.bytes)).size).toBeGreaterThan(1);
  const seed = await preview.getByTestId('augmentation-draws').getAttribute('data-seed');
  await preview.getByTestId('augmentation-new-draws').click();
  await expect(preview.getByTestId('augmentation-draws')).not.toHaveAttribute('data-seed', seed ?? '', { timeout: 60_000 });
  const after = await Promise.all((await draws.locator('canvas').all()).map(colourPixels));
  expect(after.map((d) => d.bytes)).not.toEqual(before.map((d) => d.bytes));

  for (const [i, [cls, fields]] of (
    [
      ['Conv2D', { filters: '8', kernel_size: '3, 3', 'activation!': 'relu' }],
      ['MaxPooling2D', { pool_size: '2, 2' }],
      ['Flatten', {}],
      ['Dense', { units: '3', 'activation!': 'softmax' }],
    ] as const
  ).entries()) {
    await addLayer(page, i + 2, cls, fields);
  }
  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
  await expectAccessible(page, 'Model with the augmentation preview');
  await page.screenshot({ path: testInfo.outputPath('augmentation-preview.png'), fullPage: true });

  // ---- a short run on the imported set
  await openView(page, 'Train');
  await page.getByTestId('hp-epochs').fill('8');
  await page.getByTestId('hp-batch_size').fill('16');
  await page.getByTestId('hp-learning_rate').fill('0.01');
  await expect(page.getByTestId('train')).toBeEnabled();
  await trainToEnd(page);
  await page.getByRole('button', { name: 'See results' }).click();
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d{1,3}\.\d{2} %$/);
  const cells = page.locator('[data-testid="confusion-matrix"] button.cell');
  await expect(cells).toHaveCount(9);
  const grid = await cells.evaluateAll((els) => els.map((el) => ({ t: Number(el.dataset.truth), p: Number(el.dataset.predicted), n: Number(el.dataset.count) })));
  expect(grid.reduce((s, c) => s + c.n, 0)).toBe(te);
  // Colour alone tells these classes apart: a short run learns most of it.
  const accuracy = grid.filter((c) => c.t === c.p).reduce((s, c) => s + c.n, 0) / te;
  expect(accuracy).toBeGreaterThan(0.8);

  // The gallery of the largest diagonal cell, in colour, and its large view.
  const best = grid.filter((c) => c.t === c.p).sort((a, b) => b.n - a.n)[0]!;
  await page.locator(`[data-testid="confusion-matrix"] button[data-truth="${best.t}"][data-predicted="${best.t}"]`).click();
  const gallery = page.getByTestId('gallery');
  const first = gallery.locator('li canvas').first();
  await expect(first).toBeVisible();
  const g = await colourPixels(first);
  expect([g.width, g.height]).toEqual([SIZE, SIZE]);
  expect(g.coloured).toBeGreaterThan(4);
  await page.screenshot({ path: testInfo.outputPath('results-colour-gallery.png'), fullPage: true });
  await gallery.getByTestId('gallery-open').first().click();
  const viewer = page.getByTestId('image-viewer');
  await expect(viewer.locator('tbody tr')).toHaveCount(3);
  expect((await colourPixels(viewer.locator('canvas'))).coloured).toBeGreaterThan(4);
  await page.screenshot({ path: testInfo.outputPath('results-large-view.png') });
  await page.keyboard.press('Escape');
});
