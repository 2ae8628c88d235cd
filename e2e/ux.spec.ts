/**
 * Issue 12, the editor half: work survives a reload, the unsaved mark and the template question, text that
 * is not a value never trains, an unfinished model is a next step, totals and the layer form stay in view at
 * 1024×700, and absurd hyperparameters are refused or warned. No training here (see ux-run.spec.ts).
 */
import { expect, openView, test } from './fixtures';

test('a reload brings back the model and the hyperparameters; leaving unsaved work asks first; a template asks before replacing it', async ({ page, dialogs }, testInfo) => {
  await openView(page, 'Model');
  await expect(page.getByTestId('layer-count')).toHaveText('21');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await page.getByTestId('model-name').fill('my_net');
  await page.getByTestId('layer-row-20').click();
  await page.getByTestId('palette-Dropout').click();
  await expect(page.getByTestId('layer-count')).toHaveText('22');
  await expect(page.getByTestId('save-state')).toHaveText('● Unsaved changes');
  await expect(page).toHaveTitle(/^● my_net/);
  await openView(page, 'Train');
  await page.getByTestId('hp-epochs').fill('3');
  await page.getByTestId('hp-batch_size').fill('64');
  await page.getByTestId('hp-limit_train').fill('2000');

  await page.reload();
  expect(dialogs, 'leaving unsaved work asked first').toContain('beforeunload');
  await expect(page.getByTestId('notice')).toContainText('Restored your work');
  await openView(page, 'Model');
  await expect(page.getByTestId('layer-count')).toHaveText('22');
  await expect(page.getByTestId('model-name')).toHaveValue('my_net');
  await expect(page.getByTestId('layer-21')).toHaveAttribute('data-class-name', 'Dropout');
  await expect(page.getByTestId('save-state')).toHaveText('● Unsaved changes');
  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
  await openView(page, 'Train');
  await expect(page.getByTestId('hp-epochs')).toHaveValue('3');
  await expect(page.getByTestId('hp-batch_size')).toHaveValue('64');
  await expect(page.getByTestId('hp-limit_train')).toHaveValue('2000');
  await expect(page.getByTestId('train')).toBeEnabled();

  // A template over unsaved work asks; keeping it changes nothing, replacing it loads the template.
  await openView(page, 'Model');
  await page.getByTestId('template-select').selectOption('small-cnn');
  await page.getByTestId('template-load').click();
  await expect(page.getByTestId('template-confirm')).toContainText('Replace your model (22 layers, unsaved changes)');
  await page.screenshot({ path: testInfo.outputPath('template-confirm.png') });
  await page.getByTestId('template-confirm-cancel').click();
  await expect(page.getByTestId('layer-count')).toHaveText('22');
  await page.getByTestId('template-load').click();
  await page.getByTestId('template-confirm-replace').click();
  await expect(page.getByTestId('template-confirm')).toHaveCount(0);
  await expect(page.getByTestId('layer-count')).not.toHaveText('22');
});

test('"abc" in a layer field is not applied and cannot train; an auto-name of another layer is refused', async ({ page }, testInfo) => {
  await openView(page, 'Model');
  await expect(page.getByTestId('summary-total')).toHaveText('468,586');
  await page.getByTestId('layer-row-1').click();
  await expect(page.getByTestId('layer-caption-1')).toHaveText('32 3×3 same');
  const filters = page.getByTestId('field-filters');
  await filters.fill('abc');
  await expect(page.getByTestId('field-filters-error')).toBeVisible();
  await expect(page.getByTestId('summary-status')).toHaveText('1 field not applied');
  await expect(page.getByTestId('summary-stale')).toContainText('layer 1 filters');
  await page.screenshot({ path: testInfo.outputPath('field-not-applied.png'), fullPage: true });
  await openView(page, 'Train');
  await expect(page.getByTestId('train')).toBeDisabled();
  await expect(page.locator('#train-blocker')).toContainText('Layer 1 filters is not applied');
  // Back in the editor the text is still there; a value applies and the summary follows it.
  await openView(page, 'Model');
  await page.getByTestId('layer-row-1').click();
  await page.getByTestId('field-filters').fill('16');
  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
  await expect(page.getByTestId('layer-caption-1')).toHaveText('16 3×3 same');
  await expect(page.getByTestId('summary-total')).not.toHaveText('468,586');
  await openView(page, 'Train');
  await expect(page.getByTestId('train')).toBeEnabled();

  // Naming a layer "conv2d", the automatic name layer 1 shows, would rename layer 1: refused, nothing renamed.
  await openView(page, 'Model');
  await page.getByTestId('layer-row-4').click();
  await expect(page.getByTestId('layer-4')).toHaveAttribute('data-class-name', 'Conv2D');
  await page.getByTestId('field-name').fill('conv2d');
  await expect(page.getByTestId('field-name-error')).toContainText('layer 1 is already called "conv2d"');
  await expect(page.getByTestId('layer-row-1')).toContainText('conv2d');
  await expect(page.getByTestId('layer-row-1')).not.toContainText('conv2d_');
  await expect(page.getByTestId('layer-row-4')).toContainText('conv2d_1');
});

test('at 1024×700 the totals and the selected layer’s form are in view; an unfinished model is a next step, not an error', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1024, height: 700 });
  await openView(page, 'Model');
  await expect(page.getByTestId('stack-total')).toHaveText('468,586');
  const totals = await page.getByTestId('stack-totals').boundingBox();
  expect(totals, 'the totals are laid out').not.toBeNull();
  expect(totals!.y + totals!.height, 'totals above the fold, before the stack').toBeLessThanOrEqual(700);
  expect(totals!.y).toBeLessThan((await page.getByTestId('layer-stack').boundingBox())!.y);
  // Selecting a layer low in the stack brings its form's heading into view.
  await page.getByTestId('layer-row-18').click();
  await expect(page.getByTestId('layer-form-name')).toBeInViewport();
  await page.screenshot({ path: testInfo.outputPath('model-1024-selected.png') });

  await page.getByTestId('project-new').click();
  await page.getByTestId('palette-InputLayer').click();
  await page.getByTestId('field-shape').fill('28, 28, 1');
  await page.getByTestId('palette-Conv2D').click();
  await page.getByTestId('field-filters').fill('8');
  await page.getByTestId('field-kernel_size').fill('3');
  await expect(page.getByTestId('summary-status')).toHaveText('unfinished');
  await expect(page.getByTestId('next-step').first()).toContainText('must be (None, classes)');
  await expect(page.getByTestId('layer-0')).toHaveAttribute('data-severity', 'ok');
  await expect(page.getByTestId('layer-1')).toHaveAttribute('data-severity', 'ok');
  await expect(page.getByTestId('model-summary').getByTestId('issue-error')).toHaveCount(0);
  // 8 filters × (3×3×1 + 1) = 80 parameters, counted while unfinished.
  await expect(page.getByTestId('stack-total')).toHaveText('80');
  await expect(page.getByTestId('summary-total')).toHaveText('80');
  await page.screenshot({ path: testInfo.outputPath('model-1024-unfinished.png') });
  await openView(page, 'Train');
  await expect(page.locator('#train-blocker')).toContainText('The model is not finished');
});

test('absurd hyperparameters: refused where a run cannot finish or fit, warned with the reason otherwise', async ({ page }) => {
  await openView(page, 'Train');
  await page.getByTestId('hp-epochs').fill('1e9');
  await expect(page.getByTestId('hp-epochs-error')).toHaveText('epochs must be a whole number in [1, 100000], received "1e9"');
  await page.getByTestId('hp-batch_size').fill('100000');
  await expect(page.getByTestId('hp-batch_size-error')).toContainText('[1, 16384]');
  await expect(page.getByTestId('train')).toBeDisabled();
  await page.getByTestId('hp-epochs').fill('5');
  await page.getByTestId('hp-batch_size').fill('128');
  await page.getByTestId('hp-learning_rate').fill('5');
  await expect(page.getByTestId('hp-learning_rate-warning')).toContainText('very high for adam');
  await expect(page.getByTestId('train')).toBeEnabled();
  await page.getByTestId('hp-limit_train').fill('100');
  await page.getByTestId('hp-batch_size').fill('512');
  await expect(page.getByTestId('hp-batch_size-warning')).toContainText('more than the 90 training images');
  // The quick-run preset sets the short run next to Train.
  await page.getByTestId('quick-run').click();
  await expect(page.getByTestId('hp-epochs')).toHaveValue('2');
  await expect(page.getByTestId('hp-limit_train')).toHaveValue('5000');
  await expect(page.getByTestId('train-estimate')).toContainText('5,000');
});
