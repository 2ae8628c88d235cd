import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError, type CliCommand } from '../command';
import { serve } from './serve';

const USAGE = `Usage: cnn-workbench app [--browser] [--port N] [--host 127.0.0.1]

Launches the desktop app (Electron), building it first if out/ is missing. Where the Electron binary is
absent (it could not be downloaded at install time), says so and starts browser mode instead, printing the
URL to open.

Options:
  --browser   browser mode even where Electron is available
  --port N    browser mode's port (default 8765; 0 picks a free one)
  --host ADDR browser mode's address (default 127.0.0.1)`;

const require = createRequire(import.meta.url);

/** The project root (this file is src-main/cli/commands/app.ts). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where the Electron binary is, or why it is not there — without the `electron` package's download-on-require. */
export function findElectron(): { path: string } | { missing: string } {
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return { missing: 'the electron package is not installed (npm install skipped devDependencies?)' };
  }
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const pathFile = path.join(pkgDir, 'path.txt');
  const rel = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, 'utf8').trim() : null;
  if (override) {
    const bin = path.join(override, rel ?? 'electron');
    return fs.existsSync(bin) ? { path: bin } : { missing: `ELECTRON_OVERRIDE_DIST_PATH is set but ${bin} does not exist` };
  }
  if (!rel) {
    return {
      missing: `the Electron binary was never downloaded (${pathFile} is missing: its postinstall could not reach the download host, e.g. offline or behind a firewall)`,
    };
  }
  const bin = path.join(pkgDir, 'dist', rel);
  return fs.existsSync(bin) ? { path: bin } : { missing: `${bin} is missing (the Electron download did not complete)` };
}

/** The files `electron-vite build` produces that the app needs. */
export const BUILD_OUTPUTS = ['out/main/index.js', 'out/main/worker.js', 'out/preload/index.cjs', 'out/renderer/index.html'];

/** Runs `electron-vite build` when any output is missing; resolves false (after printing why) on failure. */
export async function ensureBuilt(): Promise<boolean> {
  const missing = BUILD_OUTPUTS.filter((f) => !fs.existsSync(path.join(PROJECT_ROOT, f)));
  if (missing.length === 0) return true;
  process.stdout.write(`app: building the app first (missing ${missing.join(', ')}): electron-vite build …\n`);
  let cli: string;
  try {
    cli = path.join(path.dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
  } catch {
    process.stderr.write('app: electron-vite is not installed, so the app cannot be built: run `npm install` (with devDependencies)\n');
    return false;
  }
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [cli, 'build'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (c) => resolve(c ?? 1));
    child.on('error', () => resolve(1));
  });
  if (code !== 0) process.stderr.write(`app: \`electron-vite build\` failed (exit code ${code}); see the messages above\n`);
  return code === 0;
}

/** `cnn-workbench app` — the desktop app, or browser mode where Electron cannot run. */
export const command: CliCommand = {
  name: 'app',
  summary: 'launch the desktop app (falls back to browser mode where Electron is absent)',
  usage: USAGE,
  async run(args) {
    let values: { browser?: boolean; port?: string; host?: string };
    try {
      ({ values } = parseArgs({ args, options: { browser: { type: 'boolean' }, port: { type: 'string' }, host: { type: 'string' } }, strict: true }));
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err), USAGE);
    }
    const port = values.port === undefined ? 8765 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be an integer from 0 to 65535 (received ${JSON.stringify(values.port)})`, USAGE);
    }
    const electron = values.browser ? { missing: '--browser was given' } : findElectron();
    if (!(await ensureBuilt())) return 1;
    if ('path' in electron) {
      process.stdout.write(`app: launching Electron (${electron.path})\n`);
      return new Promise<number>((resolve) => {
        const child = spawn(electron.path, [PROJECT_ROOT], { cwd: PROJECT_ROOT, stdio: 'inherit' });
        const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        child.on('exit', (code) => resolve(code ?? 1));
        child.on('error', (err) => {
          process.stderr.write(`app: could not start Electron: ${err.message}\n`);
          resolve(1);
        });
      });
    }
    process.stdout.write(`app: Electron is not available here: ${electron.missing}.\napp: starting browser mode instead (the same app, served to your browser).\n`);
    return serve({ port, portGiven: values.port !== undefined, host: values.host ?? '127.0.0.1' });
  },
};
