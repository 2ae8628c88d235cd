/**
 * ReduceLROnPlateau and EarlyStopping as a user sees them: with thresholds no epoch can meet (min delta 1), the
 * learning rate is halved after epoch 2 and training stops there with epoch 1's weights restored — marked on the
 * curves' event list, on the learning-rate chart, in the epoch table and as the run's status.
 */
import { expect, openView, prepareQuickRun, test, trainToEnd } from './fixtures';

test('a learning-rate reduction and an early stop show on the dashboard and in the runs list', async ({ page }, testInfo) => {
  await prepareQuickRun(page, { epochs: 6, limitTrain: 2000, limitTest: 200 });
  await page.getByTestId('hp-es_patience').fill('1');
  await page.getByTestId('hp-es_min_delta').fill('1');
  await page.getByTestId('hp-rlr_patience').fill('0');
  await page.getByTestId('hp-rlr_min_delta').fill('1');
  await trainToEnd(page);

  await expect(page.getByRole('status').filter({ hasText: 'early' })).toBeVisible();
  const events = page.getByRole('list', { name: 'Training events' });
  await expect(events.locator('[data-event="lr_reduced"]')).toHaveText(/Epoch 2: LR 1e-3 → 5e-4/);
  await expect(events.locator('[data-event="early_stop"]')).toHaveText(/Epoch 2: Early stop, weights of epoch 1 restored/);
  await expect(page.locator('figure[data-chart="learning-rate"]')).toHaveAttribute('data-points', '2');
  await expect(page.locator('.epoch-table tbody tr')).toHaveCount(2);
  await page.screenshot({ path: testInfo.outputPath('callbacks-dashboard.png'), fullPage: true });

  await openView(page, 'Runs');
  await expect(page.locator('[data-testid="run-list"] tbody tr[data-status="early_stopped"]')).toHaveCount(1);
});
