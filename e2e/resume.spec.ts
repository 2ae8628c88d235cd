/**
 * Issue 13: a stopped run continues from its last checkpoint with the Resume button in the runs list, and the
 * model summary says what training will need in memory.
 */
import { expect, openView, prepareQuickRun, test } from './fixtures';

test('stop a run after its first epoch, resume it from the runs list, and it trains to its last epoch', async ({ page }, testInfo) => {
  // Epochs long enough (~18,000 images) that the stop lands inside epoch 2 on a quiet machine too: with 6,000 the
  // faster native step finished epochs 2 and 3 before the click reached the worker.
  await prepareQuickRun(page, { epochs: 3, limitTrain: 20000, limitTest: 300 });
  // The editor's summary gives the memory estimate at the form's batch size.
  await openView(page, 'Model');
  await expect(page.getByTestId('summary-memory')).toHaveText(/^Memory: ~[\d.]+ MB to train at batch 128 \(budget [\d.]+ [GM]B\)$/);
  await page.getByTestId('model-summary').screenshot({ path: testInfo.outputPath('summary-memory.png') });

  await openView(page, 'Train');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('progress-epoch')).toHaveText('Epoch 2 / 3', { timeout: 180_000 });
  await page.getByTestId('stop').click();
  await expect(page.getByTestId('training-phase')).toHaveText('Stopped', { timeout: 120_000 });

  await openView(page, 'Runs');
  // The server is shared by this worker's specs, so other runs may be listed: follow this run by its id.
  const rows = page.locator('[data-testid="run-list"] tbody tr');
  const row = page.locator('[data-testid="run-list"] tbody tr[data-status="stopped"]').first();
  await expect(row).toBeVisible({ timeout: 30_000 });
  const runId = await row.getAttribute('data-run-id');
  expect(runId).toBeTruthy();
  const listed = await rows.count();
  await expect(row.getByTestId('run-epochs'), 'one epoch recorded before the stop').toHaveText('1');
  await page.screenshot({ path: testInfo.outputPath('stopped-with-resume.png'), fullPage: true });
  await row.getByTestId('resume-run').click();

  // Resume opens the dashboard on the same run, which continues at epoch 2 and finishes at 3.
  await expect(page.getByTestId('progress-epoch')).toHaveText(/Epoch [23] \/ 3/, { timeout: 120_000 });
  await expect(page.getByTestId('training-phase')).toHaveText('Finished', { timeout: 240_000 });
  await expect(page.getByTestId('progress-epoch')).toHaveText('Epoch 3 / 3');
  await page.screenshot({ path: testInfo.outputPath('resumed-dashboard.png'), fullPage: true });

  await openView(page, 'Runs');
  const done = page.locator(`[data-testid="run-list"] tbody tr[data-run-id="${runId}"]`);
  await expect(done).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  // Resumed in the same folder: no new run was listed.
  await expect(rows).toHaveCount(listed);
  // A completed run has nothing to resume.
  await expect(done.getByTestId('resume-run')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('resumed-run-listed.png'), fullPage: true });
});
