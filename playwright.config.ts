/**
 * Playwright drives the real UI in system Chromium over browser mode (`cnn-workbench serve`), started per
 * worker by e2e/fixtures.ts with a throwaway CNN_WORKBENCH_HOME so runs never touch the user's. The renderer
 * must already be built (`npx electron-vite build`; scripts/test.sh does it once before this).
 *
 * The Electron specs (e2e/electron.spec.ts) form a second project, added only where the Electron binary was
 * downloaded; elsewhere one line says so, rather than a skipped test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { defineConfig, type Project } from '@playwright/test';

const root = path.dirname(new URL(import.meta.url).pathname);
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const electronPresent = fs.existsSync(path.join(root, 'node_modules', 'electron', 'dist'));

// The config is loaded by the runner and again by each worker: print the note once.
if (!electronPresent && !process.env.CNN_WORKBENCH_E2E_NOTE) {
  process.env.CNN_WORKBENCH_E2E_NOTE = '1';
  console.log('e2e: Electron specs not run: node_modules/electron/dist is absent (the Electron binary could not be downloaded here).');
}

const projects: Project[] = [
  {
    name: 'chromium',
    testIgnore: /electron\.spec\.ts$/,
    use: {
      browserName: 'chromium',
      headless: true,
      viewport: { width: 1400, height: 1000 },
      launchOptions: {
        executablePath: chromium,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      },
    },
  },
];
if (electronPresent) projects.push({ name: 'electron', testMatch: /electron\.spec\.ts$/ });

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // One worker: the machine is shared, and training is CPU-bound.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  // Specs train real (small) models; the budget is for slow shared machines, not a speed goal.
  timeout: 240_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 15_000,
  },
  projects,
});
