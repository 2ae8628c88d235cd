/**
 * (b) A pooling window that cannot fit its input is reported on that layer — the row is marked and the message
 * names the layer and the field — and Ctrl+Z takes the edit back, clearing the error.
 */
import { expect, openView, test } from './fixtures';

test('a pool larger than its input marks the layer, and Ctrl+Z undoes it', async ({ page }, testInfo) => {
  await openView(page, 'Model');
  await page.getByTestId('project-new').click();
  // 28x28 input → 2x2 pool → 14x14 → 2x2 pool → 7x7: a 2x2 valid pool still fits, an 8x8 one does not.
  await page.getByTestId('palette-InputLayer').click();
  await page.getByTestId('field-shape').fill('28, 28, 1');
  await page.getByTestId('palette-MaxPooling2D').click();
  await page.getByTestId('palette-MaxPooling2D').click();
  await page.getByTestId('palette-MaxPooling2D').click();
  await page.getByTestId('palette-Flatten').click();
  await page.getByTestId('palette-Dense').click();
  await page.getByTestId('field-units').fill('10');
  await page.getByTestId('field-activation').selectOption('softmax');
  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
  await expect(page.getByTestId('summary-row-3')).toContainText('(None, 3, 3, 1)');
  await expect(page.getByTestId('summary-total')).toHaveText('100');

  await page.getByTestId('layer-row-3').click();
  const pool = page.getByTestId('field-pool_size');
  await pool.fill('8');

  const row = page.getByTestId('layer-3');
  await expect(row).toHaveAttribute('data-severity', 'error');
  // The stack names it as the core does, though the core's summary stops before it.
  await expect(page.getByTestId('layer-row-3')).toContainText('max_pooling2d_2');
  await expect(page.getByTestId('summary-status')).toHaveText('invalid');
  await expect(page.getByTestId('summary-total')).toHaveText('—');
  const fieldError = page.getByTestId('field-pool_size-error');
  await expect(fieldError).toContainText('max_pooling2d_2');
  await expect(fieldError).toContainText('pool_size');
  await expect(page.getByTestId('model-summary').getByTestId('issue-error')).toHaveAttribute('data-layer-index', '3');
  // The layers before the error keep their summary rows; the others are healthy.
  await expect(page.getByTestId('layer-2')).toHaveAttribute('data-severity', 'ok');
  await page.screenshot({ path: testInfo.outputPath('editor-pool-error.png'), fullPage: true });

  // Ctrl+Z with the focus still in the field undoes the spec edit (not just the text).
  await pool.press('Control+z');
  await expect(row).toHaveAttribute('data-severity', 'ok');
  await expect(pool).toHaveValue('');
  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
  await expect(page.getByTestId('summary-total')).toHaveText('100');
  await expect(page.getByTestId('issue-error')).toHaveCount(0);
  await expect(page.getByTestId('issue-warning')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('editor-pool-undone.png'), fullPage: true });
});
