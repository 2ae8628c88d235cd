/** (e) Two runs that differ in batch size and learning rate, compared: curves overlaid and the diff shown. */
import fs from 'node:fs';
import { expect, openView, prepareQuickRun, test, trainToEnd } from './fixtures';

/** The "small CNN" template is examples/small-cnn.json: both runs use it, layer for layer. */
const SMALL_CNN_LAYERS = (JSON.parse(fs.readFileSync(new URL('../examples/small-cnn.json', import.meta.url), 'utf8')) as { config: { layers: unknown[] } }).config.layers.length;

test('compare two runs: overlaid curves and a diff of their setups', async ({ page }, testInfo) => {
  await openView(page, 'Runs');
  await expect(page.getByTestId('runs-view')).toBeVisible();

  await prepareQuickRun(page, { epochs: 2, limitTrain: 1500, limitTest: 300, batchSize: 128, learningRate: '0.001' });
  await trainToEnd(page);
  await prepareQuickRun(page, { epochs: 2, limitTrain: 1500, limitTest: 300, batchSize: 64, learningRate: '0.002' });
  await trainToEnd(page);

  await openView(page, 'Runs');
  const rows = page.locator('[data-testid="run-list"] tbody tr');
  // The list loads asynchronously after the view opens, and may first show what it held before these two runs
  // (other specs' runs: CI once compared a 3-epoch run from another spec). Newest first, so wait until the run just
  // trained (batch 64, learning rate 2e-3) heads it; the one before it is then the other run just trained.
  await expect(rows.nth(0)).toContainText('2e-3', { timeout: 30_000 });
  await expect(rows.nth(1)).toContainText('1e-3');
  await rows.nth(0).getByRole('checkbox').check();
  await rows.nth(1).getByRole('checkbox').check();
  await page.getByTestId('compare').click();

  const compare = page.getByTestId('run-compare');
  await expect(compare).toBeVisible();
  // Four series (training + validation per run), two epochs each.
  await expect(compare.locator('figure[data-chart="compare-loss"]')).toHaveAttribute('data-points', '8');
  await expect(compare.locator('figure[data-chart="compare-accuracy"]')).toHaveAttribute('data-points', '8');
  const diff = page.getByTestId('hyperparameter-diff');
  await expect(diff.locator('tr', { hasText: 'batch size' })).toContainText('64');
  await expect(diff.locator('tr', { hasText: 'learning rate' })).toContainText('0.002');
  // Same architecture: no layer differences.
  await expect(page.getByTestId('no-layer-diff')).toBeVisible();
  await page.getByLabel('Show unchanged layers').check();
  await expect(page.getByTestId('layer-diff').locator('tbody tr[data-kind="same"]')).toHaveCount(SMALL_CNN_LAYERS);
  await page.getByLabel('Show unchanged layers').uncheck();
  await compare.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('compare.png'), fullPage: true });
});
