/**
 * The canvas editor (Svelte Flow), driven with the mouse and the keyboard as a person would:
 * - blocks dragged from the palette onto the canvas, wired port to port, their shapes read on the blocks, the
 *   same model in the list; one short epoch trained and the ONNX export verified;
 * - undo/redo and copy/paste of a selection (fresh Keras auto names, internal wires kept), a wire deleted with
 *   the keyboard turning the model Functional (the list then read-only with a note) and undone.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, openView, test, trainToEnd } from './fixtures';

/** Drags a palette entry onto the canvas at (x, y) of the canvas' box. */
async function drop(page: Page, className: string, x: number, y: number): Promise<void> {
  await page.getByTestId(`palette-${className}`).dragTo(page.getByTestId('canvas'), { targetPosition: { x, y } });
}

const block = (page: Page, name: string): Locator => page.getByTestId(`block-${name}`);

async function centre(l: Locator): Promise<{ x: number; y: number }> {
  const box = await l.boundingBox();
  if (!box) throw new Error('not on screen');
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Draws a wire with the mouse: from `from`'s output port (below) to `to`'s input port (above). */
async function wire(page: Page, from: string, to: string): Promise<void> {
  const a = await centre(block(page, from).locator('.svelte-flow__handle-bottom'));
  const b = await centre(block(page, to).locator('.svelte-flow__handle-top'));
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x, b.y, { steps: 5 });
  await page.mouse.up();
  await expect(page.locator(`[aria-label^="Wire from ${from} to ${to}"]`)).toHaveCount(1);
}

/**
 * Clicks a wire halfway between two blocks laid out one above the other (a straight wire has no width, so
 * Playwright's own click sees it as invisible; the mouse picks its wide hit area as a person's would).
 */
async function clickWire(page: Page, from: string, to: string): Promise<void> {
  const a = await centre(block(page, from).locator('.svelte-flow__handle-bottom'));
  const b = await centre(block(page, to).locator('.svelte-flow__handle-top'));
  await page.mouse.click((a.x + b.x) / 2, (a.y + b.y) / 2);
}

async function openCanvas(page: Page): Promise<void> {
  await openView(page, 'Model');
  await page.getByTestId('layout-canvas').click();
  await expect(page.getByTestId('canvas-view')).toBeVisible();
}

test('build a network on the canvas with the mouse, see its shapes, train an epoch and export ONNX verified', async ({ page, server }, testInfo) => {
  await openView(page, 'Model');
  await page.getByTestId('project-new').click();
  await openCanvas(page);

  await drop(page, 'InputLayer', 300, 60);
  await drop(page, 'Conv2D', 300, 170);
  await drop(page, 'MaxPooling2D', 300, 280);
  await drop(page, 'Flatten', 300, 390);
  await drop(page, 'Dense', 300, 500);
  for (const name of ['input_layer', 'conv2d', 'max_pooling2d', 'flatten', 'dense']) await expect(block(page, name)).toBeVisible();
  // Dropped blocks are not wired yet: the model has loose blocks, so it is not a chain (and not Sequential) yet.
  await wire(page, 'input_layer', 'conv2d');
  await wire(page, 'conv2d', 'max_pooling2d');
  await wire(page, 'max_pooling2d', 'flatten');
  await wire(page, 'flatten', 'dense');

  // Selecting a block opens the list editor's form.
  await block(page, 'dense').click();
  await page.getByTestId('field-units').fill('10');
  await page.getByTestId('field-activation').selectOption('softmax');
  await expect(block(page, 'dense')).toContainText('10 softmax');

  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
  await expect(page.getByTestId('block-shape-input_layer')).toHaveText('(None, 28, 28, 1)');
  await expect(page.getByTestId('block-shape-conv2d')).toHaveText('(None, 26, 26, 32)');
  await expect(page.getByTestId('block-shape-max_pooling2d')).toHaveText('(None, 13, 13, 32)');
  await expect(page.getByTestId('block-shape-flatten')).toHaveText('(None, 5408)');
  await expect(page.getByTestId('block-shape-dense')).toHaveText('(None, 10)');
  await expect(block(page, 'dense')).toContainText('54,090 params');
  await expect(page.getByTestId('summary-total')).toHaveText('54,410');
  await page.getByTestId('canvas-layout').click();
  await page.screenshot({ path: testInfo.outputPath('canvas-built.png'), fullPage: true });

  // The same model in the list: a chain is a Sequential model, edited there too.
  await page.getByTestId('layout-list').click();
  await expect(page.getByTestId('layer-count')).toHaveText('5');
  await expect(page.getByTestId('layer-caption-4')).toHaveText('10 softmax');

  // One short epoch on a subset, then the ONNX export, verified.
  await openView(page, 'Train');
  await page.getByTestId('hp-epochs').fill('1');
  await page.getByTestId('hp-limit_train').fill('2000');
  await page.getByTestId('hp-limit_test').fill('500');
  await expect(page.getByTestId('train')).toBeEnabled();
  await trainToEnd(page);
  await page.getByRole('button', { name: 'See results' }).click();
  const panel = page.getByTestId('export-panel');
  await panel.getByTestId('export-format-onnx').check();
  await panel.getByTestId('export-run').click();
  await expect(panel.getByTestId('export-report')).toBeVisible({ timeout: 120_000 });
  await expect(panel.getByTestId('export-report')).toHaveAttribute('data-outcome', 'verified');
  await expect(panel.getByTestId('export-verdict')).toHaveText('ok — verified');
  expect(server.home).toBeTruthy();
});

test('canvas: undo/redo, copy/paste with fresh names, a wire deleted with the keyboard', async ({ page }, testInfo) => {
  await openView(page, 'Model');
  await page.getByTestId('template-select').selectOption('small-cnn');
  await page.getByTestId('template-load').click();
  await openCanvas(page);
  const blocks = page.locator('[data-testid^="block-"][data-class-name]');
  const count = await blocks.count();
  expect(count).toBeGreaterThan(3);

  // Copy the first Conv2D and paste it after itself: a fresh Keras auto name, wired in, still a chain.
  await block(page, 'conv2d').click();
  await page.keyboard.press('Control+c');
  await page.keyboard.press('Control+v');
  await expect(blocks).toHaveCount(count + 1);
  await expect(block(page, 'conv2d_1')).toHaveAttribute('data-class-name', 'Conv2D');
  await page.getByTestId('layout-list').click();
  await expect(page.getByTestId('layer-count')).toHaveText(String(count + 1));
  await expect(page.getByTestId('layer-2')).toHaveAttribute('data-class-name', 'Conv2D');

  // Ctrl+Z takes the paste back, Ctrl+Shift+Z redoes it.
  await page.getByTestId('layout-canvas').click();
  await page.keyboard.press('Control+z');
  await expect(blocks).toHaveCount(count);
  await page.keyboard.press('Control+Shift+z');
  await expect(blocks).toHaveCount(count + 1);
  await page.getByTestId('canvas-undo').click();
  await expect(blocks).toHaveCount(count);

  // A wire selected and deleted with the keyboard: the graph is no longer a chain, the list turns read-only.
  const edge = page.locator('[aria-label^="Wire from conv2d to max_pooling2d"]');
  await expect(edge).toHaveCount(1);
  await clickWire(page, 'conv2d', 'max_pooling2d');
  await page.keyboard.press('Delete');
  await expect(edge).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('canvas-wire-deleted.png'), fullPage: true });
  await page.getByTestId('layout-list').click();
  await expect(page.getByTestId('graph-list-note')).toBeVisible();
  await page.getByTestId('layout-canvas').click();
  await page.getByTestId('canvas-undo').click();
  await expect(edge).toHaveCount(1);
  await page.getByTestId('layout-list').click();
  await expect(page.getByTestId('layer-stack')).toBeVisible();
});
