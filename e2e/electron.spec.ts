/**
 * The desktop app itself, launched from the electron-vite build with Playwright's `_electron`. Playwright's
 * config adds this spec's project only where the Electron binary was downloaded (and says so where it was
 * not), so it never "passes" on a machine that cannot run it.
 *
 * Checks the shell's promises: one window shown, the preload exposing exactly the contract (no Node, no
 * ipcRenderer), a validated call answered, a bad payload answered with {name, message}, new windows denied,
 * the menu in place, and a short training run streamed to the renderer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { findElectron } from '../src-main/cli/commands/app';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

let app: ElectronApplication;
let page: Page;
let home: string;

test.beforeAll(async () => {
  const found = findElectron();
  if (!('path' in found)) throw new Error(`the Electron project runs only where the binary exists: ${found.missing}`);
  for (const f of ['out/main/index.js', 'out/main/worker.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
    if (!fs.existsSync(path.join(ROOT, f))) throw new Error(`${f} is missing: run \`npx electron-vite build\` first`);
  }
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnwb-electron-'));
  app = await electron.launch({
    executablePath: found.path,
    args: [ROOT, '--no-sandbox', '--disable-gpu'],
    env: { ...process.env, CNN_WORKBENCH_HOME: home },
  });
  page = await app.firstWindow();
  await page.waitForLoadState('domcontentloaded');
});

test.afterAll(async () => {
  await app?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

test('one window, shown once painted, titled, without Node', async () => {
  expect(app.windows()).toHaveLength(1);
  await expect.poll(() => app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.isVisible() ?? false)).toBe(true);
  await expect(page).toHaveTitle(/CNN Workbench/);
  // A sandboxed, isolated renderer sees no Node globals at all (checked in the next test too).
  expect(await page.evaluate(() => typeof (globalThis as Record<string, unknown>).Buffer)).toBe('undefined');
});

test('the preload exposes exactly the contract, and nothing of Node or Electron', async () => {
  const shape = await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    const api = w.workbench as Record<string, unknown>;
    return {
      kind: api.kind,
      services: Object.keys(api).sort(),
      require: typeof w.require,
      process: typeof w.process,
      ipcRenderer: typeof w.ipcRenderer,
    };
  });
  expect(shape).toEqual({
    kind: 'electron',
    services: ['app', 'datasets', 'exports', 'kind', 'model', 'projects', 'runs', 'training'],
    require: 'undefined',
    process: 'undefined',
    ipcRenderer: 'undefined',
  });
});

test('calls are validated in main: a good one answers, a bad one gets {name, message}', async () => {
  const spec = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'lesson-cnn.json'), 'utf8')) as unknown;
  const total = await page.evaluate(async (s) => {
    const api = (window as unknown as { workbench: { model: { summarize(x: unknown): Promise<{ totalParams: number }> } } }).workbench;
    return (await api.model.summarize(s)).totalParams;
  }, spec);
  expect(total).toBe(468_586);
  const error = await page.evaluate(async () => {
    const api = (window as unknown as { workbench: { runs: { getRun(x: unknown): Promise<unknown> } } }).workbench;
    try {
      await api.runs.getRun('../../etc/passwd');
      return null;
    } catch (e) {
      return { name: (e as Error).name, message: (e as Error).message };
    }
  });
  expect(error?.name).toBe('ValidationError');
  expect(error?.message).toContain("argument 'runId'");
});

test('new windows are denied', async () => {
  await page.evaluate(() => window.open('https://example.com/', '_blank'));
  await page.waitForTimeout(500);
  expect(app.windows()).toHaveLength(1);
});

test('the application menu has File, Edit, View and Help', async () => {
  const labels = await app.evaluate(({ Menu }) => Menu.getApplicationMenu()?.items.map((i) => i.label.replace('&', '')) ?? []);
  for (const label of ['File', 'Edit', 'View', 'Help']) expect(labels).toContain(label);
  const file = await app.evaluate(({ Menu }) =>
    Menu.getApplicationMenu()?.items.find((i) => i.label.includes('File'))?.submenu?.items.map((i) => i.label.replace(/&/g, '')) ?? [],
  );
  for (const label of ['New Project', 'Open Project…', 'Save Project…', 'Import Dataset…', 'Export Model…']) expect(file).toContain(label);
});

test('a short training run streams progress and its epoch to the window, off the main thread', async () => {
  const spec = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'small-cnn.json'), 'utf8')) as unknown;
  const result = await page.evaluate(async (s) => {
    type Api = {
      training: {
        startTraining(r: unknown): Promise<{ runId: string }>;
        onTrainingProgress(l: (p: { runId: string }) => void): () => void;
        onEpochEnd(l: (e: { runId: string }) => void): () => void;
        onTrainingFinished(l: (f: { runId: string; status: string }) => void): () => void;
        onTrainingFailed(l: (f: { runId: string; error: { message: string } }) => void): () => void;
      };
    };
    const api = (window as unknown as { workbench: Api }).workbench;
    const kinds: string[] = [];
    const done = new Promise<string>((resolve) => {
      api.training.onTrainingProgress(() => kinds.push('progress'));
      api.training.onEpochEnd(() => kinds.push('epoch'));
      api.training.onTrainingFinished((f) => resolve(f.status));
      api.training.onTrainingFailed((f) => resolve(`failed: ${f.error.message}`));
    });
    const hyperparameters = {
      optimizer: { class_name: 'adam', config: { learning_rate: 0.001 } },
      loss: 'categorical_crossentropy',
      batch_size: 128,
      epochs: 1,
      validation_split: 0.1,
      seed: 123,
      early_stopping: null,
      reduce_lr_on_plateau: null,
    };
    await api.training.startTraining({ spec: s, hyperparameters, datasetId: 'fashion-mnist', limitTrain: 600, limitTest: 200 });
    const status = await done;
    return { status, first: kinds[0], last: kinds[kinds.length - 1] };
  }, spec);
  expect(result).toEqual({ status: 'completed', first: 'progress', last: 'epoch' });
});
