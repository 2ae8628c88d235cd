/**
 * (a) From an empty model, build the lesson's CNN through the palette and the layer forms — every layer added
 * by hand, every field typed or picked in the UI, no template — and read Keras' totals in the live summary:
 * 468,586 parameters, 468,202 trainable, 384 non-trainable (the BatchNorm moving statistics).
 */
import type { Page } from '@playwright/test';
import { expect, openView, test } from './fixtures';

type Fields = Record<string, string>;

/** The lesson's network as (class, fields) pairs, fields as a person would type them. Select fields end in "!". */
const conv = (filters: number): [string, Fields] => ['Conv2D', { filters: String(filters), kernel_size: '3, 3', 'padding!': 'same' }];
const bnRelu: [string, Fields][] = [
  ['BatchNormalization', {}],
  ['Activation', { 'activation!': 'relu' }],
];
const LESSON: [string, Fields][] = [
  ['InputLayer', { shape: '28, 28, 1', name: 'image' }],
  conv(32),
  ...bnRelu,
  conv(32),
  ...bnRelu,
  ['MaxPooling2D', { pool_size: '2, 2' }],
  ['Dropout', { rate: '0.25' }],
  conv(64),
  ...bnRelu,
  conv(64),
  ...bnRelu,
  ['MaxPooling2D', { pool_size: '2, 2' }],
  ['Dropout', { rate: '0.30' }],
  ['Flatten', {}],
  ['Dense', { units: '128', 'activation!': 'relu' }],
  ['Dropout', { rate: '0.40' }],
  ['Dense', { units: '10', 'activation!': 'softmax', name: 'class_prob' }],
];

async function addLayer(page: Page, index: number, className: string, fields: Fields): Promise<void> {
  await page.getByTestId(`palette-${className}`).click();
  // The new layer lands after the selected one (the previous addition) and is selected itself.
  await expect(page.getByTestId(`layer-${index}`)).toHaveAttribute('data-class-name', className);
  await expect(page.getByTestId(`layer-row-${index}`)).toHaveAttribute('aria-current', 'true');
  for (const [key, value] of Object.entries(fields)) {
    const field = page.getByTestId(`field-${key.replace(/!$/, '')}`);
    if (key.endsWith('!')) await field.selectOption(value);
    else await field.fill(value);
  }
}

test('build the lesson CNN layer by layer and read 468,586 parameters in the summary', async ({ page }, testInfo) => {
  await openView(page, 'Model');
  await page.getByTestId('project-new').click();
  await expect(page.getByTestId('layer-stack-empty')).toBeVisible();

  for (const [i, [className, fields]] of LESSON.entries()) await addLayer(page, i, className, fields);

  await expect(page.getByTestId('layer-count')).toHaveText(String(LESSON.length));
  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
  await expect(page.getByTestId('summary-total')).toHaveText('468,586');
  await expect(page.getByTestId('summary-trainable')).toHaveText('468,202');
  await expect(page.getByTestId('summary-non-trainable')).toHaveText('384');
  // Per-layer rows as the lesson prints them.
  await expect(page.getByTestId('summary-row-0')).toContainText('image');
  await expect(page.getByTestId('summary-row-0')).toContainText('(None, 28, 28, 1)');
  await expect(page.getByTestId('summary-row-17')).toContainText('(None, 3136)');
  await expect(page.getByTestId('summary-row-18')).toContainText('401,536');
  await expect(page.getByTestId('summary-row-20')).toContainText('class_prob');
  await expect(page.getByTestId('summary-row-20')).toContainText('1,290');
  // The Trainable column as Keras 3 prints it: Y for weights, - for none.
  await expect(page.getByTestId('summary-row-2').locator('td').nth(3)).toHaveText('Y');
  await expect(page.getByTestId('summary-row-3').locator('td').nth(3)).toHaveText('-');
  await expect(page.locator('[data-testid^="layer-"][data-severity="error"]')).toHaveCount(0);

  // Undo walks back through the edits: the last one named the output layer.
  await page.getByTestId('undo').click();
  await expect(page.getByTestId('summary-row-20')).not.toContainText('class_prob');
  await page.getByTestId('redo').click();
  await expect(page.getByTestId('summary-row-20')).toContainText('class_prob');

  await page.screenshot({ path: testInfo.outputPath('editor-lesson-cnn.png'), fullPage: true });
});

test('reorder, insert, duplicate and remove layers by drag and by keyboard, with undo', async ({ page }, testInfo) => {
  const classes = (): Promise<string[]> =>
    page.locator('[data-testid="layer-stack"] > li').evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.className ?? ''));
  await openView(page, 'Model');
  await page.getByTestId('project-new').click();
  for (const c of ['InputLayer', 'Flatten', 'Dense', 'Dropout']) await page.getByTestId(`palette-${c}`).click();
  await expect.poll(classes).toEqual(['InputLayer', 'Flatten', 'Dense', 'Dropout']);
  // Wait for the summary: while an older one shows, the totals above the stack can read "counted up to layer 1…"
  // on a second line, and its going moves the rows up 22 px; Playwright aims the drag before it moves, so a move
  // in between drops on the other half of the row (CI, loaded, once: nothing moved).
  await expect(page.getByTestId('summary-status')).toHaveText(/^(up to date|unfinished)$/);

  // Drag the Dropout row onto the top half of the Dense row: it lands before it.
  await page.getByTestId('layer-3').dragTo(page.getByTestId('layer-2'), { targetPosition: { x: 40, y: 3 } });
  await expect.poll(classes).toEqual(['InputLayer', 'Flatten', 'Dropout', 'Dense']);

  // Keyboard: Alt+↑ moves the focused layer and the focus follows it; Ctrl+D duplicates; Delete removes.
  await page.getByTestId('layer-row-2').focus();
  await page.keyboard.press('Alt+ArrowUp');
  await expect.poll(classes).toEqual(['InputLayer', 'Dropout', 'Flatten', 'Dense']);
  await expect(page.getByTestId('layer-row-1')).toBeFocused();
  await page.keyboard.press('Control+d');
  await expect.poll(classes).toEqual(['InputLayer', 'Dropout', 'Dropout', 'Flatten', 'Dense']);
  await expect(page.getByTestId('layer-row-2')).toBeFocused();
  await page.keyboard.press('Delete');
  await expect.poll(classes).toEqual(['InputLayer', 'Dropout', 'Flatten', 'Dense']);

  // Drag a palette entry onto the bottom half of the input row: inserted right after it.
  await expect(page.getByTestId('summary-status')).toHaveText(/^(up to date|unfinished)$/);
  await page.getByTestId('palette-BatchNormalization').dragTo(page.getByTestId('layer-0'), { targetPosition: { x: 40, y: 25 } });
  await expect.poll(classes).toEqual(['InputLayer', 'BatchNormalization', 'Dropout', 'Flatten', 'Dense']);
  await expect(page.getByTestId('layer-1')).toHaveAttribute('data-severity', 'ok');

  await page.screenshot({ path: testInfo.outputPath('editor-reorder.png'), fullPage: true });

  // Undo steps back through the palette drop and the delete; redo replays the delete.
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+z');
  await expect.poll(classes).toEqual(['InputLayer', 'Dropout', 'Dropout', 'Flatten', 'Dense']);
  await page.keyboard.press('Control+Shift+z');
  await expect.poll(classes).toEqual(['InputLayer', 'Dropout', 'Flatten', 'Dense']);
  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
});

test('save a project as a download and open it again through the file input (browser mode)', async ({ page }, testInfo) => {
  await openView(page, 'Model');
  await page.getByTestId('template-select').selectOption('lenet5');
  await page.getByTestId('template-load').click();
  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
  const layers = await page.getByTestId('layer-count').textContent();
  const total = await page.getByTestId('summary-total').textContent();
  await openView(page, 'Train');
  await page.getByTestId('hp-batch_size').fill('64');
  await page.getByTestId('hp-optimizer').selectOption('sgd');
  await page.getByTestId('hp-momentum').fill('0.9');

  await openView(page, 'Model');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('project-save').click()]);
  const saved = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(saved);
  expect(download.suggestedFilename()).toMatch(/\.cnnproj\.json$/);

  // New empties the model as one undoable edit.
  await page.getByTestId('project-new').click();
  await expect(page.getByTestId('layer-stack-empty')).toBeVisible();
  await page.getByTestId('undo').click();
  await expect(page.getByTestId('layer-count')).toHaveText(layers ?? '');
  await page.getByTestId('project-new').click();
  await expect(page.getByTestId('layer-stack-empty')).toBeVisible();
  await page.getByTestId('project-file-input').setInputFiles(saved);
  await expect(page.getByTestId('layer-count')).toHaveText(layers ?? '');
  await expect(page.getByTestId('summary-total')).toHaveText(total ?? '');
  await openView(page, 'Train');
  await expect(page.getByTestId('hp-batch_size')).toHaveValue('64');
  await expect(page.getByTestId('hp-optimizer')).toHaveValue('sgd');
  await expect(page.getByTestId('hp-momentum')).toHaveValue('0.9');
  await expect(page.getByTestId('hp-status')).toHaveText('ready');

  // A damaged file is refused with a message naming the file and the field.
  await openView(page, 'Model');
  await page.getByTestId('project-file-input').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format_version":1,"spec":{"class_name":"Functional"}}') });
  await expect(page.getByTestId('notice')).toContainText('broken.json: spec.config must be an object, received undefined');
  await expect(page.getByTestId('layer-count')).toHaveText(layers ?? '');
});
