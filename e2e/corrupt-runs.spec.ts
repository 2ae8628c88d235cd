/**
 * A damaged run folder (run.json of `null`, as a crash or a careless edit can leave it) is listed, marked
 * corrupt with the reason, and opening it says what is wrong — where it used to vanish from the list.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, openView, test } from './fixtures';

test('a damaged run is listed as corrupt with the reason, and opening it says why', async ({ page, server }, testInfo) => {
  const dir = path.join(server.home, 'runs', 'damaged-run');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.json'), 'null');
  fs.writeFileSync(
    path.join(dir, 'spec.json'),
    JSON.stringify({ format_version: 1, class_name: 'Sequential', config: { name: 'Damaged model', layers: [] } }),
  );

  await openView(page, 'Runs');
  const row = page.locator('[data-testid="run-list"] tr[data-run-id="damaged-run"]');
  await expect(row).toBeVisible({ timeout: 30_000 });
  await expect(row).toHaveAttribute('data-status', 'corrupt');
  await expect(row).toContainText('Damaged model');
  // Its counts are unknown, not zero.
  await expect(row.locator('td.num').first()).toHaveText('—');
  await expect(row.getByTestId('run-problem')).toHaveText('run "damaged-run": run.json holds null, not a run record');
  await expect(row.getByRole('checkbox')).toBeDisabled();

  await row.getByRole('button', { name: /^Open / }).click();
  await expect(page.getByRole('alert')).toContainText('Could not open run: run "damaged-run": run.json holds null, not a run record');
  await page.screenshot({ path: testInfo.outputPath('corrupt-run.png'), fullPage: true });
});
