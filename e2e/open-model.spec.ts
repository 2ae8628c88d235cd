/**
 * Open model… (browser mode): a Keras 3 model.to_json() file picked in the file input becomes the editor's model,
 * with Keras' parameter count in the live summary; a file with a Lambda layer is refused with the message naming the
 * file and the layer, and the model stays as it was; a .keras archive's trained weights are what Train starts from.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { writeOneClassKeras } from '../src-main/core/model/import/testkit';
import { expect, openView, test, trainToEnd } from './fixtures';

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

test('open a .keras archive with its trained weights; Train starts from them, Evaluate as opened scores them, the runs say so', async ({ page }, testInfo) => {
  // Weights that call every image class 7 (Input → Flatten → Dense, saved as Keras 3 does): a run that really
  // starts from them, at a learning rate too small to move them, calls every image class 7.
  const file = testInfo.outputPath('class7.keras');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeOneClassKeras(file, 7);

  await openView(page, 'Model');
  await page.getByTestId('model-file-input').setInputFiles(file);
  await expect(page.getByTestId('notice')).toContainText('Opened class7.keras (.keras archive, 3 layers, its trained weights read (2 arrays): Train starts from them)');
  await openView(page, 'Train');
  await expect(page.getByTestId('start-weights')).toContainText('Start from the trained weights of class7.keras (2 arrays, 7,850 values');
  await expect(page.getByTestId('start-weights-check')).toBeChecked();
  await page.getByTestId('hp-epochs').fill('1');
  await page.getByTestId('hp-limit_train').fill('600');
  await page.getByTestId('hp-limit_test').fill('200');
  await page.getByTestId('hp-learning_rate').fill('1e-7');
  await page.screenshot({ path: testInfo.outputPath('start-from-weights.png'), fullPage: true });
  await trainToEnd(page);

  // Every test image called class 7: the test accuracy is class 7's share of the first 200 test images.
  const labels = zlib.gunzipSync(fs.readFileSync('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz')).subarray(8, 8 + 200);
  const class7 = labels.filter((y) => y === 7).length / 200;
  await page.getByRole('button', { name: 'See results' }).click();
  await expect(page.getByTestId('test-accuracy')).toHaveText(`${(class7 * 100).toFixed(2)} %`);
  await openView(page, 'Runs');
  await expect(page.locator('[data-testid="run-list"] tbody tr').first().getByTestId('run-list-started-from')).toHaveText('fine-tuned from class7.keras');

  // Evaluate as opened: no epoch, the same verdict, a run of its own in Results and Runs.
  await openView(page, 'Train');
  await page.getByTestId('evaluate-opened').click();
  await expect(page.getByTestId('training-phase')).toHaveText('Finished', { timeout: 120_000 });
  await page.screenshot({ path: testInfo.outputPath('evaluated-dashboard.png'), fullPage: true });
  await page.getByRole('button', { name: 'See results' }).click();
  await expect(page.getByTestId('test-accuracy')).toHaveText(`${(class7 * 100).toFixed(2)} %`);
  await page.screenshot({ path: testInfo.outputPath('evaluated-results.png'), fullPage: true });
  await openView(page, 'Runs');
  const newest = page.locator('[data-testid="run-list"] tbody tr').first();
  await expect(newest.getByTestId('run-list-started-from')).toHaveText('scored as opened from class7.keras');
  await expect(newest.getByTestId('run-epochs')).toHaveText('0');
  await page.screenshot({ path: testInfo.outputPath('runs-fine-tuned-and-scored.png'), fullPage: true });
});
