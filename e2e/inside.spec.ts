/**
 * Issue 17, "Done when": open a misclassified image from a confusion-matrix cell → its activations, its Grad-CAM
 * for the predicted and the true class, and its point on the embedding map. Real training, real worker.
 */
import { expect, prepareQuickRun, test, trainToEnd } from './fixtures';

const LIMIT_TEST = 500;

test('look inside a misclassified image: activations, Grad-CAM for predicted and true class, embedding map', async ({ page }, testInfo) => {
  test.setTimeout(600_000);
  await prepareQuickRun(page, { epochs: 1, limitTrain: 2000, limitTest: LIMIT_TEST });
  await trainToEnd(page);
  await page.getByRole('button', { name: 'See results' }).click();

  // The most frequent confusion's gallery, then its first (most confident) mistake.
  const cells = page.locator('[data-testid="confusion-matrix"] button.cell');
  await expect(cells).toHaveCount(100);
  const grid = await cells.evaluateAll((els) =>
    els.map((el) => ({ t: Number(el.dataset.truth), p: Number(el.dataset.predicted), n: Number(el.dataset.count) })),
  );
  const worst = grid.filter((c) => c.t !== c.p).sort((a, b) => b.n - a.n)[0]!;
  await page.locator(`[data-testid="confusion-matrix"] button[data-truth="${worst.t}"][data-predicted="${worst.p}"]`).click();
  const gallery = page.getByTestId('gallery');
  const first = gallery.locator('li').first();
  const index = Number(await first.getAttribute('data-index'));
  await first.getByRole('button', { name: `Look inside the network for test image ${index}` }).click();

  const inside = page.getByTestId('inside-view');
  await expect(inside.locator('h3')).toContainText(`Inside test image #${index}`);
  const names = await page.locator('[data-testid="confusion-matrix"] tbody tr th').allInnerTexts();
  const truthName = names[worst.t]!;
  const predName = names[worst.p]!;

  // Activations: every shown layer with its shape on top — spatial layers as heat maps, the output Dense as bars.
  const layers = inside.getByTestId('activation-layer');
  await expect(layers.first()).toBeVisible({ timeout: 120_000 });
  expect(await layers.count()).toBeGreaterThanOrEqual(3); // the small CNN: Conv2D, MaxPooling2D, Dense
  await expect(layers.first().locator('h5 code')).toHaveText(/^\d+ × \d+ × \d+$/);
  expect(await layers.first().locator('canvas').count()).toBeGreaterThan(1);
  await expect(layers.last().locator('h5 code')).toHaveText('10');
  await expect(inside.getByTestId('inside-top').locator('li').first()).toContainText(predName);

  // Grad-CAM for the predicted and the true class, drawn (not placeholders).
  const predCam = inside.locator(`[data-testid="class-map"][data-method="gradcam"][data-class="${predName}"]`);
  const trueCam = inside.locator(`[data-testid="class-map"][data-method="gradcam"][data-class="${truthName}"]`);
  for (const cam of [predCam, trueCam]) {
    await expect(cam.locator('canvas')).toBeVisible({ timeout: 120_000 });
    const colours = await cam.locator('canvas').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
      const seen = new Set<string>();
      for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
      return { w: c.width, n: seen.size };
    });
    expect(colours.w).toBe(28);
    expect(colours.n).toBeGreaterThan(20);
  }
  await expect(predCam.locator('figcaption')).toHaveText(`Grad-CAM — predicted ${predName}`);
  await expect(trueCam.locator('figcaption')).toHaveText(`Grad-CAM — true ${truthName}`);
  await expect(inside.getByTestId('filters').first().locator('canvas').first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('inside-activations-and-gradcam.png'), fullPage: true });

  // Its point on the embedding map (PCA at once): every test image plotted, this one ringed.
  const map = inside.getByTestId('embedding-map');
  await expect(map).toHaveAttribute('data-points', String(LIMIT_TEST), { timeout: 120_000 });
  expect(Number(await map.getAttribute('data-highlight'))).toBe(index);
  const canvas = map.locator('canvas').first();
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  // Hover over the densest spot: sweep the middle until a point answers with its image.
  let tip = false;
  for (let k = 0; k < 40 && !tip; k++) {
    await page.mouse.move(box.x + box.width * (0.3 + (k % 8) * 0.05), box.y + box.height * (0.3 + Math.floor(k / 8) * 0.1));
    tip = await map.getByTestId('embedding-tip').isVisible();
  }
  expect(tip).toBe(true);
  await expect(map.getByTestId('embedding-tip').locator('canvas')).toBeVisible();
  // A rectangle over most of the map lists its images.
  await page.mouse.move(box.x + 5, box.y + 5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.6, { steps: 5 });
  await page.mouse.up();
  const selection = map.getByTestId('embedding-selection');
  await expect(selection.locator('h5')).toHaveText(/^\d+ selected images?/);
  await expect(selection.locator('li canvas').first()).toBeVisible();
  await map.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('inside-embedding-map.png'), fullPage: true });
});
