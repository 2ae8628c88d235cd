/**
 * Export and "Try it" from the app (browser mode), after a short real run:
 * - each of the four formats exported from Results: files on disk, the report shown, the ONNX one verified;
 * - the .zip download unpacks to the same files, byte for byte;
 * - a PNG made from a test image the run classified right is predicted as its true class when uploaded (with a
 *   JPEG beside it), and shown as the model sees it; invert flips what the model sees;
 * - the drawing canvas predicts while one draws; a random test image shows its truth beside the prediction.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { expect, openView, prepareQuickRun, test, trainToEnd } from './fixtures';

const FASHION = '/usr/share/datasets/fashion-mnist';
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** The id of the run the Results view shows. */
async function shownRunId(page: Page): Promise<string> {
  const id = await page.locator('.run-line code').innerText();
  expect(id).toMatch(/^\d{4}-\d\d-\d\dT/);
  return id;
}

/** A Fashion-MNIST test image (28×28 grey) and its label, read from the Debian files at test time. */
function testImage(index: number): { pixels: Uint8Array; label: number } {
  const images = gunzipSync(fs.readFileSync(path.join(FASHION, 't10k-images-idx3-ubyte.gz')));
  const labels = gunzipSync(fs.readFileSync(path.join(FASHION, 't10k-labels-idx1-ubyte.gz')));
  return { pixels: new Uint8Array(images.subarray(16 + index * 784, 16 + (index + 1) * 784)), label: labels[8 + index]! };
}

function rgba(pixels: Uint8Array): Buffer {
  const out = Buffer.alloc(784 * 4);
  for (let p = 0; p < 784; p++) out.set([pixels[p]!, pixels[p]!, pixels[p]!, 255], p * 4);
  return out;
}

function pngOf(pixels: Uint8Array): Buffer {
  const png = new PNG({ width: 28, height: 28 });
  rgba(pixels).copy(png.data);
  return PNG.sync.write(png);
}

test('export all four formats from Results; ONNX verified; the .zip holds the same files', async ({ page, server }, testInfo) => {
  await prepareQuickRun(page, { epochs: 1, limitTrain: 2000, limitTest: 500 });
  await trainToEnd(page);
  await page.getByRole('button', { name: 'See results' }).click();
  const runId = await shownRunId(page);
  const panel = page.getByTestId('export-panel');
  await expect(panel.getByRole('heading', { name: 'Export the model' })).toBeVisible();

  const expectedFiles = {
    tfjs: ['model.json', 'preprocessing.json', 'verification.json', 'weights.bin'],
    onnx: ['model.onnx', 'preprocessing.json', 'verification.json'],
    keras: ['model.py', 'preprocessing.json', 'verification.json', 'weights.bin', 'weights.json'],
    r: ['model.R', 'preprocessing.json', 'verification.json', 'weights.bin', 'weights.json'],
  };
  for (const format of ['tfjs', 'onnx', 'keras', 'r'] as const) {
    await panel.getByTestId(`export-format-${format}`).check();
    await expect(panel.getByTestId('export-folder')).toHaveValue(format);
    await panel.getByTestId('export-run').click();
    const report = panel.getByTestId('export-report');
    await expect(report).toBeVisible({ timeout: 120_000 });
    await expect(panel.getByTestId('export-progress')).toHaveCount(0);
    const dir = path.join(server.home, 'runs', runId, 'exports', format);
    await expect(panel.getByTestId('export-path')).toHaveText(dir);
    // The files listed are the files written.
    await expect(panel.getByTestId('export-files').locator('li code')).toHaveText(expectedFiles[format]);
    expect(fs.readdirSync(dir).sort()).toEqual(expectedFiles[format]);
    const outcome = await report.getAttribute('data-outcome');
    if (format === 'tfjs' || format === 'onnx') {
      expect(outcome).toBe('verified');
      await expect(panel.getByTestId('export-checked')).toHaveText('200');
      await expect(panel.getByTestId('export-verdict')).toHaveText('ok — verified');
    } else {
      // Keras and R cannot run here: written and checked as far as this machine allows.
      expect(['verified', 'unchecked']).toContain(outcome);
    }
    const snippet = panel.getByTestId('load-snippet');
    const loader = { tfjs: 'tf.loadLayersModel', onnx: 'ort.InferenceSession.create', keras: 'python model.py', r: 'Rscript model.R' }[format];
    await expect(snippet).toContainText(loader);
    await expect(snippet).toContainText(dir);
    if (format === 'onnx') {
      await expect(panel.getByTestId('export-agreement')).toHaveText(/^(100|99\.\d\d) %$/);
      await panel.scrollIntoViewIfNeeded();
      await page.screenshot({ path: testInfo.outputPath('export-onnx-verified.png'), fullPage: true });

      // The browser user gets the files onto their machine as a .zip.
      const [download] = await Promise.all([page.waitForEvent('download'), panel.getByTestId('export-download').click()]);
      expect(download.suggestedFilename()).toBe(`${runId}-onnx.zip`);
      const saved = testInfo.outputPath('export.zip');
      await download.saveAs(saved);
      const entries = unzipSync(new Uint8Array(fs.readFileSync(saved)));
      const root = `${runId}-onnx/`;
      expect(Object.keys(entries).sort()).toEqual(expectedFiles.onnx.map((f) => root + f));
      for (const f of expectedFiles.onnx) expect(Buffer.from(entries[root + f]!).equals(fs.readFileSync(path.join(dir, f)))).toBe(true);
    }
  }
  await page.screenshot({ path: testInfo.outputPath('export-r.png'), fullPage: true });

  // A folder name that would walk out of exports/ is refused where it is typed.
  await panel.getByTestId('export-folder').fill('../elsewhere');
  await expect(panel.getByTestId('export-run')).toBeDisabled();
  await expect(panel).toContainText('no slashes');
});

test('Try it on a run\'s page: an uploaded test image gets its true class, the canvas predicts, a random test image shows its truth', async ({ page, server }, testInfo) => {
  await prepareQuickRun(page, { epochs: 1, limitTrain: 2000, limitTest: 300 });
  await trainToEnd(page);
  await page.getByRole('button', { name: 'See results' }).click();
  const runId = await shownRunId(page);

  // A test image the run's own evaluation classified right: the upload must reproduce that prediction.
  const evaluation = JSON.parse(fs.readFileSync(path.join(server.home, 'runs', runId, 'evaluation.json'), 'utf8')) as { misclassified: { index: number }[]; testCount: number };
  const wrong = new Set(evaluation.misclassified.map((m) => m.index));
  const index = Array.from({ length: evaluation.testCount }, (_, i) => i).find((i) => !wrong.has(i))!;
  const { pixels, label } = testImage(index);
  const pngFile = testInfo.outputPath(`test-${index}.png`);
  fs.writeFileSync(pngFile, pngOf(pixels));
  const jpegFile = testInfo.outputPath('photo.jpg');
  fs.writeFileSync(jpegFile, jpeg.encode({ data: rgba(testImage(1).pixels), width: 28, height: 28 }, 95).data);

  // From the run's page in Runs.
  await openView(page, 'Runs');
  await page.locator('[data-testid="run-list"] tbody tr').first().getByRole('button', { name: /^Open / }).click();
  const tryIt = page.getByTestId('run-detail').getByTestId('try-it');
  await expect(tryIt).toBeVisible();

  await tryIt.getByTestId('pick-images').setInputFiles([pngFile, jpegFile]);
  const uploaded = tryIt.locator('[data-testid="prediction"]');
  await expect(uploaded).toHaveCount(2);
  const card = uploaded.filter({ hasText: `test-${index}.png` });
  await expect(card).toHaveAttribute('data-top', CLASSES[label]!);
  await expect(card.getByTestId('top-classes').locator('li')).toHaveCount(3);
  // What the model sees is the image itself (28×28 grey in, unchanged).
  const seen = async () =>
    card.locator('canvas').evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data.filter((_, i) => i % 4 === 0)));
  expect(await seen()).toEqual(Array.from(pixels));
  await page.screenshot({ path: testInfo.outputPath('try-it-upload.png'), fullPage: true });

  // Invert: the model now sees the negative.
  await tryIt.getByTestId('invert').check();
  await expect.poll(async () => (await seen())[0]).toBe(255 - pixels[0]!);
  expect(await seen()).toEqual(Array.from(pixels, (v) => 255 - v));
  await tryIt.getByTestId('invert').uncheck();
  await expect(card).toHaveAttribute('data-top', CLASSES[label]!);

  // Draw a pair of trousers: two light legs on black. A prediction appears while drawing.
  const canvas = tryIt.getByTestId('drawing-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  const at = (fx: number, fy: number) => [box.x + box.width * fx, box.y + box.height * fy] as const;
  await page.mouse.move(...at(0.35, 0.15));
  await page.mouse.down();
  for (let s = 1; s <= 12; s++) await page.mouse.move(...at(0.35 - 0.1 * (s / 12), 0.15 + 0.75 * (s / 12)));
  const drawn = tryIt.getByTestId('drawing-prediction');
  await expect(drawn.getByTestId('top-classes').locator('li')).toHaveCount(3);
  await page.mouse.up();
  await page.mouse.move(...at(0.65, 0.15));
  await page.mouse.down();
  for (let s = 1; s <= 12; s++) await page.mouse.move(...at(0.65 + 0.1 * (s / 12), 0.15 + 0.75 * (s / 12)));
  await page.mouse.up();
  // The model's view of the drawing has ink where the strokes went.
  await expect.poll(async () => drawn.locator('canvas').evaluate((c: HTMLCanvasElement) => c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data.reduce((s, v, i) => (i % 4 === 0 ? s + v : s), 0))).toBeGreaterThan(0);
  await page.screenshot({ path: testInfo.outputPath('try-it-drawing.png'), fullPage: true });

  // A random test image: the truth beside the prediction.
  await tryIt.getByTestId('random-test-image').click();
  const random = tryIt.locator('[data-testid="prediction"][data-truth]');
  await expect(random).toBeVisible();
  await expect(random).toContainText(/truth: .+ — predicted (right|wrong)/);
  expect(CLASSES).toContain(await random.getAttribute('data-truth'));
  await page.screenshot({ path: testInfo.outputPath('try-it-random.png'), fullPage: true });
});
