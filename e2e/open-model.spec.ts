/**
 * Open model… (browser mode): a Keras 3 model.to_json() file picked in the file input becomes the editor's model,
 * with Keras' parameter count in the live summary; a file with a Lambda layer is refused with the message naming the
 * file and the layer, and the model stays as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, openView, test } from './fixtures';

const FIXTURE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'src-main', 'core', 'model', 'import', 'fixtures', 'keras3-sequential.json');

test('open a Keras 3 to_json() file into the editor; a Lambda layer is refused by name', async ({ page }, testInfo) => {
  await openView(page, 'Model');
  await page.getByTestId('model-file-input').setInputFiles(FIXTURE);
  await expect(page.getByTestId('notice')).toContainText('Opened keras3-sequential.json (Keras 3 config, 7 layers)');
  await expect(page.getByTestId('layer-count')).toContainText('7');
  await expect(page.getByTestId('layer-1')).toHaveAttribute('data-class-name', 'Conv2D');
  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
  await expect(page.getByTestId('summary-total')).toContainText('54,538');
  await page.screenshot({ path: testInfo.outputPath('opened-keras3.png'), fullPage: true });

  const lambda = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { config: { layers: { class_name: string }[] } };
  lambda.config.layers[5]!.class_name = 'Lambda';
  await page.getByTestId('model-file-input').setInputFiles({ name: 'lambda.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(lambda)) });
  await expect(page.getByTestId('notice')).toContainText("lambda.json: layer 'flatten' (Lambda): a Lambda layer holds Python code");
  await expect(page.getByTestId('summary-total')).toContainText('54,538');
  await page.screenshot({ path: testInfo.outputPath('refused-lambda.png'), fullPage: true });
});

const RESNET = path.join(path.dirname(FIXTURE), 'keras3-resnet.json');

test('open a Keras 3 functional residual network: the graph opens on the canvas, wired as in the file', async ({ page }, testInfo) => {
  await openView(page, 'Model');
  await page.getByTestId('model-file-input').setInputFiles(RESNET);
  await expect(page.getByTestId('notice')).toContainText('Opened keras3-resnet.json (Keras 3 config');
  await expect(page.getByTestId('canvas-view')).toBeVisible();
  await expect(page.getByTestId('block-add_1')).toBeVisible();
  // The second residual Add reads the main branch's convolution and the projection's BatchNorm (Keras' "Connected to").
  await expect(page.locator('[aria-label^="Wire from conv2d_3 to add_1"]')).toHaveCount(1);
  await expect(page.locator('[aria-label^="Wire from batch_normalization_2 to add_1"]')).toHaveCount(1);
  await expect(page.getByTestId('summary-status')).toHaveText('up to date');
  await expect(page.getByTestId('summary-total')).toContainText('10,570');
  await page.screenshot({ path: testInfo.outputPath('opened-keras3-resnet.png'), fullPage: true });
});
