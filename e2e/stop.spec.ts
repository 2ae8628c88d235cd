/** (d) Stop a run in the middle of an epoch: it ends as "stopped", is evaluated, and is listed as stopped. */
import { expect, openView, prepareQuickRun, test } from './fixtures';

test('stop a run mid-epoch and find it saved as stopped', async ({ page }, testInfo) => {
  // Enough images that the first epoch is still running when Stop is pressed.
  await prepareQuickRun(page, { epochs: 6, limitTrain: 60000, limitTest: 300 });
  await page.getByTestId('train').click();
  await expect(page.getByTestId('progress-epoch')).toHaveText('Epoch 1 / 6', { timeout: 120_000 });
  // The window stays usable while training: other views open, and the dashboard keeps the live run.
  await openView(page, 'Model');
  await expect(page.getByTestId('template-select')).toBeEnabled();
  await openView(page, 'Train');
  // An epoch of 54,000 images takes ~21 s on a quiet machine, so the run may be in its first or second epoch here
  // (six epochs: it must still be running when Stop is pressed below).
  const epoch = page.getByTestId('progress-epoch');
  await expect(epoch).toHaveText(/^Epoch [12] \/ 6$/);
  await expect(page.getByTestId('train')).toBeDisabled();
  // Pause holds the run where it is; Resume carries on from there.
  const batch = page.getByTestId('progress-batch');
  const batchNow = async () => Number(await batch.getAttribute('data-batch'));
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('training-phase')).toHaveText('Paused');
  await expect(page.getByTestId('resume')).toBeEnabled();
  // The batch in flight when Pause was pressed may still land, and progress is throttled (≤ 10 messages/s), so
  // first let the counter settle; from then on a paused run must not move at all.
  await expect
    .poll(async () => {
      const before = await batchNow();
      await page.waitForTimeout(400);
      return (await batchNow()) - before;
    }, { timeout: 30_000 })
    .toBe(0);
  const atPause = await batchNow();
  await page.waitForTimeout(2500);
  const held = await batchNow();
  expect(held - atPause, 'batches trained while paused').toBe(0);
  await page.getByTestId('resume').click();
  await expect(page.getByTestId('training-phase')).toHaveText('Training');
  await expect.poll(batchNow, { timeout: 60_000 }).toBeGreaterThan(held);
  // A reload mid-run finds the run again: the dashboard follows it and can still stop it.
  await page.reload();
  await openView(page, 'Train');
  await expect(epoch).toHaveText(/^Epoch [1-5] \/ 6$/, { timeout: 30_000 });
  await expect(page.getByTestId('stop')).toBeEnabled();
  // Press Stop well inside an epoch: in its last batches or its validation pass the next epoch may begin between
  // reading the counter and the click (progress is throttled), and the check below would blame the stop for it.
  await expect
    .poll(async () => {
      const per = Number(await batch.getAttribute('data-batches'));
      const at = await batchNow();
      return at > 0 && at < 0.7 * per;
    }, { timeout: 60_000 })
    .toBe(true);
  const epochAtStop = await epoch.textContent();
  await page.getByTestId('stop').click();
  await expect(page.getByTestId('training-phase')).toHaveText('Stopped', { timeout: 120_000 });
  await expect(page.getByRole('status').filter({ hasText: 'Run stopped' })).toBeVisible();
  // Stopped inside an epoch: the last batch reported is not the epoch's last, and no further epoch began.
  // (The stop travels to the training worker as a message, which a worker only handles when its event loop
  // gets a turn: a batch loop that awaits only promises must yield a macrotask, e.g. setImmediate, per batch.)
  await expect(epoch).toHaveText(epochAtStop ?? '');
  const [done, perEpoch] = [Number(await batch.getAttribute('data-batch')), Number(await batch.getAttribute('data-batches'))];
  expect(done, `stopped after batch ${done} of ${perEpoch}: the stop was not honoured mid-epoch`).toBeLessThan(perEpoch);
  await page.screenshot({ path: testInfo.outputPath('stopped-dashboard.png'), fullPage: true });

  await openView(page, 'Runs');
  const row = page.locator('[data-testid="run-list"] tbody tr[data-status="stopped"]');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('stopped');
  await row.getByRole('button', { name: /^Open / }).click();
  await expect(page.getByTestId('run-detail')).toContainText('stopped');
  await page.screenshot({ path: testInfo.outputPath('stopped-run.png'), fullPage: true });
});
