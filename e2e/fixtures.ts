/**
 * The e2e fixtures: one browser-mode server per worker (`node bin/cnn-workbench.js serve --port 0`) with a
 * temporary CNN_WORKBENCH_HOME, and a `page` already at its tokenised URL that fails the test on any uncaught
 * page error or console error. No mocks: the specs talk to the real services and train real models.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';
import WebSocket from 'ws';

/** A running browser-mode server. */
export interface WorkbenchServer {
  /** http://127.0.0.1:PORT/?token=… as printed by `serve`. */
  url: string;
  /** The temporary CNN_WORKBENCH_HOME: runs are saved under it. */
  home: string;
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const START_TIMEOUT_MS = 90_000;

/** Starts `serve` and resolves with the URL it prints; rejects with its output if it exits or stays silent. */
function startServer(home: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'cnn-workbench.js'), 'serve', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, CNN_WORKBENCH_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`serve printed no URL within ${START_TIMEOUT_MS / 1000} s. Output:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9A-Za-z_-]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      // Keep the server's complaints visible in the test log.
      process.stderr.write(`[serve] ${chunk.toString()}`);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (code ${code}, signal ${signal}) before printing its URL. Output:\n${output}`));
    });
  });
}

/**
 * Asks the server the page's first questions (backend, datasets, templates) over its own WebSocket and waits
 * for the answers: the first dataset listing fingerprints the files and can take many seconds on a loaded
 * machine, and the page should meet a warm server rather than race that.
 */
async function warmUp(url: string): Promise<void> {
  const u = new URL(url);
  const ws = new WebSocket(`ws://${u.host}/ws?token=${u.searchParams.get('token') ?? ''}`, { origin: `http://${u.host}` });
  const methods = ['training.getBackend', 'datasets.listDatasets', 'model.listTemplates'];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not answer ${methods.join(', ')} within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      const waiting = new Set(methods.map((_, i) => i + 1));
      ws.on('open', () => methods.forEach((method, i) => ws.send(JSON.stringify({ id: i + 1, method, args: [] }))));
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { id?: number; ok?: boolean; error?: { message: string } };
        if (typeof msg.id !== 'number') return;
        if (!msg.ok) return reject(new Error(`serve refused ${methods[msg.id - 1]}: ${msg.error?.message}`));
        waiting.delete(msg.id);
        if (waiting.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      ws.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  } finally {
    ws.close();
  }
}

/** Console messages that are not bugs of the page (the browser's own noise). */
const IGNORED_CONSOLE = [/favicon\.ico/, /Download the Svelte DevTools/];

export const test = base.extend<{ errors: string[]; dialogs: string[] }, { server: WorkbenchServer }>({
  server: [
    async ({}, use) => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-workbench-e2e-'));
      const { child, url } = await startServer(home);
      try {
        await warmUp(url);
        await use({ url, home });
      } finally {
        await new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        });
        fs.rmSync(home, { recursive: true, force: true });
      }
    },
    { scope: 'worker' },
  ],
  errors: async ({}, use) => {
    await use([]);
  },
  /** The types of the dialogs the page raised (`beforeunload` when leaving unsaved work), in order. */
  dialogs: async ({}, use) => {
    await use([]);
  },
  page: async ({ page, server, errors, dialogs }, use) => {
    // Leaving with unsaved work asks first; the specs that reload mean to leave, so they confirm it.
    page.on('dialog', (d) => {
      dialogs.push(d.type());
      void (d.type() === 'beforeunload' ? d.accept() : d.dismiss());
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // "Failed to load resource" names no URL in its text: add where it came from.
      const text = `${m.text()} (${m.location().url || 'no url'})`;
      if (m.type() === 'error' && !IGNORED_CONSOLE.some((r) => r.test(text))) errors.push(`console error: ${text}`);
    });
    await page.goto(server.url);
    await use(page);
    expect(errors, 'the page logged errors').toEqual([]);
  },
});

export { expect };

/** Opens one of the top-level views by its navigation button. */
export async function openView(page: Page, name: 'Model' | 'Data' | 'Train' | 'Results' | 'Runs'): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name, exact: true }).click();
}

/** Runs axe on the page as it is and fails with each serious or critical violation, its rule and its elements. */
export async function expectAccessible(page: Page, view: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
  // Soft: every view and size is checked and reported in one run, the test still fails on any of them.
  expect.soft(bad, `axe on the ${view} view`).toEqual([]);
}

/** A quick run's settings: the small CNN on the first `limitTrain` / `limitTest` Fashion-MNIST images. */
export interface QuickRun {
  epochs: number;
  limitTrain: number;
  limitTest: number;
  batchSize?: number;
  learningRate?: string;
  /** A template id (default 'small-cnn'). */
  template?: string;
}

/** Loads the "small CNN" template (or `run.template`) in the editor and fills the hyperparameter form for a quick run. */
export async function prepareQuickRun(page: Page, run: QuickRun): Promise<void> {
  await openView(page, 'Model');
  await page.getByTestId('template-select').selectOption(run.template ?? 'small-cnn');
  // Over unsaved work (e.g. a previous run's settings) the template asks first: the spec means to replace it.
  const unsaved = (await page.getByTestId('save-state').innerText()).includes('Unsaved');
  await page.getByTestId('template-load').click();
  if (unsaved) await page.getByTestId('template-confirm-replace').click();
  await openView(page, 'Train');
  await page.getByTestId('hp-epochs').fill(String(run.epochs));
  await page.getByTestId('hp-limit_train').fill(String(run.limitTrain));
  await page.getByTestId('hp-limit_test').fill(String(run.limitTest));
  if (run.batchSize !== undefined) await page.getByTestId('hp-batch_size').fill(String(run.batchSize));
  if (run.learningRate !== undefined) await page.getByTestId('hp-learning_rate').fill(run.learningRate);
  await expect(page.getByTestId('train')).toBeEnabled();
}

/** Presses Train and waits until the run has finished and been evaluated. */
export async function trainToEnd(page: Page, timeout = 200_000): Promise<void> {
  await page.getByTestId('train').click();
  await expect(page.getByTestId('training-phase')).toHaveText(/^(Finished|Stopped)/, { timeout });
}
