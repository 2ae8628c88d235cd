/**
 * Tests' way to run the real CLI: `bin/cnn-workbench.js` in a child process, as a user's shell would, so exit codes,
 * stdout/stderr and "nothing written" are checked end to end. (cli.test.ts calls `main` in-process instead.)
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const CLI_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/cnn-workbench.js');
const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args` (and `env` over this process' environment); resolves on any exit code, never rejects. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI_BIN, ...args], { timeout: 300_000, maxBuffer: 16 << 20, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The JSON object a `--json` command prints on its last line. */
export const lastJson = (stdout: string): Record<string, unknown> => JSON.parse(stdout.trimEnd().split('\n').pop() ?? '{}') as Record<string, unknown>;
