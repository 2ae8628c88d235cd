/**
 * (c) Train the small CNN for one epoch on a Fashion-MNIST subset, then read the results from the DOM:
 * curves with points, a 10×10 confusion matrix whose cells add up to the test count, and a gallery of real
 * test images opened from an off-diagonal cell.
 */
import type { Page } from '@playwright/test';
import { expect, prepareQuickRun, test, trainToEnd } from './fixtures';

/** The class name on row `i` of the matrix (its row header). */
function rowName(page: Page, i: number): Promise<string> {
  return page.locator('[data-testid="confusion-matrix"] tbody tr').nth(i).locator('th').innerText();
}

const LIMIT_TEST = 500;

test('train one epoch and judge it with the confusion matrix and the gallery', async ({ page }, testInfo) => {
  await prepareQuickRun(page, { epochs: 1, limitTrain: 2000, limitTest: LIMIT_TEST });
  // An invalid hyperparameter disables Train and says which field and why.
  await page.getByTestId('hp-epochs').fill('0');
  await expect(page.getByTestId('train')).toBeDisabled();
  await expect(page.locator('#train-blocker')).toContainText('epochs');
  await page.getByTestId('hp-epochs').fill('1');
  await trainToEnd(page);
  // The dashboard says how batches trained (CI builds the native addon, so the fused step).
  await expect(page.getByTestId('training-step')).toContainText('Training step: fused native training step');

  // Curves: one epoch point per per-epoch series, and per-batch samples on the smoothed line.
  const loss = page.locator('figure[data-chart="loss"]');
  await expect(loss).toHaveAttribute('data-points', /^[1-9]\d*$/);
  expect(Number(await page.locator('figure[data-chart="accuracy"]').getAttribute('data-points'))).toBeGreaterThan(0);
  await expect(page.locator('.epoch-table tbody tr')).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath('training-dashboard.png'), fullPage: true });

  await page.getByRole('button', { name: 'See results' }).click();
  await expect(page.getByTestId('test-accuracy')).toHaveText(/^\d{1,3}\.\d{2} %$/);
  await expect(page.getByTestId('test-loss')).toHaveText(/^\d+\.\d{4}$/);

  const cells = page.locator('[data-testid="confusion-matrix"] button.cell');
  await expect(cells).toHaveCount(100);
  const grid = await cells.evaluateAll((els) =>
    els.map((el) => ({ t: Number(el.dataset.truth), p: Number(el.dataset.predicted), n: Number(el.dataset.count) })),
  );
  expect(new Set(grid.map((c) => c.t)).size).toBe(10);
  expect(new Set(grid.map((c) => c.p)).size).toBe(10);
  const total = grid.reduce((s, c) => s + c.n, 0);
  expect(total).toBe(LIMIT_TEST);
  await expect(page.getByTestId('test-count')).toHaveText(LIMIT_TEST.toLocaleString('en-US'));

  // Keyboard: arrows move inside the grid and Enter opens the focused cell's gallery.
  const gallery = page.getByTestId('gallery');
  await page.locator('[data-testid="confusion-matrix"] button[data-truth="0"][data-predicted="0"]').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await expect(gallery.locator('h3')).toContainText(`True ${await rowName(page, 0)}, predicted ${await rowName(page, 1)}`);

  // The most frequent confusion: after one short epoch there is always at least one.
  const worst = grid.filter((c) => c.t !== c.p).sort((a, b) => b.n - a.n)[0];
  expect(worst.n).toBeGreaterThan(0);
  await page.locator(`[data-testid="confusion-matrix"] button[data-truth="${worst.t}"][data-predicted="${worst.p}"]`).click();
  await expect(gallery).toBeVisible();
  const images = gallery.locator('li canvas');
  await expect(images.first()).toBeVisible();
  await expect(images).toHaveCount(await gallery.locator('li').count());
  // Real pixels were drawn: a Fashion-MNIST image is never all black.
  const ink = await images.first().evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
    let s = 0;
    for (let i = 0; i < d.length; i += 4) s += d[i];
    return { width: c.width, height: c.height, sum: s };
  });
  expect(ink.width).toBe(28);
  expect(ink.height).toBe(28);
  expect(ink.sum).toBeGreaterThan(0);
  // An image opens large with the probability of every class, highest first.
  await gallery.getByTestId('gallery-open').first().click();
  const viewer = page.getByTestId('image-viewer');
  await expect(viewer).toBeVisible();
  await expect(viewer.locator('tbody tr')).toHaveCount(10);
  await expect(viewer.locator('tbody tr').first()).toHaveAttribute('data-class', String(worst.p));
  await expect(viewer.locator('tr.truth')).toContainText('(true class)');
  await page.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);

  // The diagonal: the best-recognised class's correct predictions, least confident first.
  const best = grid.filter((c) => c.t === c.p).sort((a, b) => b.n - a.n)[0];
  await page.locator(`[data-testid="confusion-matrix"] button[data-truth="${best.t}"][data-predicted="${best.t}"]`).click();
  await expect(gallery.locator('h3')).toContainText(`True ${await rowName(page, best.t)}, predicted ${await rowName(page, best.t)}`);
  await expect(gallery).toContainText('lowest first: the correct predictions nearest to being wrong');
  await expect(gallery.locator('li canvas').first()).toBeVisible();
  expect(await gallery.locator('li').count()).toBe(Math.min(best.n, 48));

  await page.screenshot({ path: testInfo.outputPath('results.png'), fullPage: true });
});

test("Keras' mixed_bfloat16 policy chosen in the form trains the lesson CNN with its convolutions in bfloat16", async ({ page }, testInfo) => {
  await prepareQuickRun(page, { template: 'lesson-cnn', epochs: 1, limitTrain: 1024, limitTest: 200 });
  await expect(page.getByTestId('hp-dtype_policy')).toHaveValue('float32');
  await page.getByTestId('hp-dtype_policy').selectOption('mixed_bfloat16');
  await trainToEnd(page);
  // The step names what it ran in bfloat16: the three convolutions on 32 or 64 channels (the first reads the
  // grayscale image and stays float32), or, on a CPU without bfloat16 instructions, why none.
  await expect(page.getByTestId('training-step')).toContainText(
    /mixed_bfloat16: 3 of 4 convolutions in bfloat16 \(conv2d_1, conv2d_2, conv2d_3\)|mixed_bfloat16 asked, float32 throughout: this CPU has no bfloat16/,
  );
  await page.screenshot({ path: testInfo.outputPath('mixed-bfloat16-run.png'), fullPage: true });
  // The time estimate before the next run scales this run's speed; back in float32 it says the speed was measured
  // under the other policy instead of passing it off as float32's — until float32 has a speed of its own.
  await page.getByTestId('hp-dtype_policy').selectOption('float32');
  await expect(page.getByTestId('train-estimate')).toContainText('under mixed_bfloat16: this run is float32, whose speed differs');
  // Once float32 is measured too, each policy's estimate scales its own speed.
  await trainToEnd(page);
  await expect(page.getByTestId('train-estimate')).toContainText('Estimated time ≈');
  await expect(page.getByTestId('train-estimate')).not.toContainText('whose speed differs');
  const float32Speed = await page.getByTestId('train-estimate').textContent();
  await page.getByTestId('hp-dtype_policy').selectOption('mixed_bfloat16');
  await expect(page.getByTestId('train-estimate')).not.toContainText('whose speed differs');
  await expect(page.getByTestId('train-estimate')).not.toHaveText(float32Speed ?? '');
});
