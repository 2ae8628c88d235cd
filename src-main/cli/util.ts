/**
 * Shared helpers of the CLI commands: strict flag parsing with errors that name the flag, `--run` lookup, and
 * plain-text tables. Light on purpose (no tfjs): commands check their flags before paying for loading the core.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { defaultRunsDir } from '../core/paths';
import { UsageError } from './command';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` in strict mode, its errors turned into UsageErrors naming the flag (exit code 2). A flag given
 * twice is refused too (parseArgs would silently keep the last: `--lr 1e-3 ... --lr 10`).
 */
export function parseFlags<O extends Options>(args: string[], options: O, usage: string, allowPositionals = false) {
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals, tokens: true });
    const seen = new Set<string>();
    for (const t of parsed.tokens) {
      if (t.kind !== 'option') continue;
      if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once; give it once`, usage);
      seen.add(t.name);
    }
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (err) {
    const e = err as Error & { code?: string };
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      // node's messages already quote the flag ("Unknown option '--epoch'"); drop its long hints.
      throw new UsageError(e.message.split('. To specify')[0]!.replace(/\.$/, ''), usage);
    }
    throw err;
  }
}

/** A flag value that must be an integer ≥ min, or a UsageError naming the flag and the value. */
export function intFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[+]?\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${name} must be an integer >= ${min}, received '${value}'`);
  }
  return Number(value);
}

/** `--image-size`: `HxW` (or `H×W`, or one number for a square), each 1–4096; undefined when not given. */
export function imageSizeFlag(name: string, value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)(?:[x×X](\d+))?$/.exec(value.trim());
  const dims = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [];
  if (dims.length !== 2 || !dims.every((d) => Number.isInteger(d) && d >= 1 && d <= 4096)) {
    throw new UsageError(`--${name} must be HEIGHTxWIDTH (e.g. 32x32), each from 1 to 4096, received '${value}'`);
  }
  return dims as [number, number];
}

/** `--color-mode`: grayscale or rgb; undefined when not given. */
export function colorModeFlag(name: string, value: string | undefined): 'grayscale' | 'rgb' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'grayscale' && value !== 'rgb') throw new UsageError(`--${name} must be grayscale or rgb, received '${value}'`);
  return value;
}

/** A plain decimal number (`0.001`, `1e-3`, `.5`): not hex (`0x10`), binary, octal, `Infinity` or padded with spaces. */
const DECIMAL = /^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A flag value that must be a finite decimal number > 0, or a UsageError naming the flag and the value. */
export function positiveFloatFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a decimal number > 0, received '${value}'`);
  return n;
}

/**
 * Resolves `--run`: an existing folder is used as is; otherwise the value is a run id under `runsDir`.
 * Throws UsageError naming what was looked for.
 */
export function resolveRunDir(run: string | undefined, runsDir: string | undefined, usage: string): string {
  if (!run) throw new UsageError('--run is required (a run id or a run folder)', usage);
  if (existsSync(run) && statSync(run).isDirectory()) return path.resolve(run);
  if (run.includes('/') || run.includes(path.sep)) throw new UsageError(`--run ${JSON.stringify(run)}: no such run folder`, usage);
  const dir = path.join(runsDir ?? defaultRunsDir(), run);
  if (!existsSync(dir)) throw new UsageError(`--run ${JSON.stringify(run)}: no run with that id in ${runsDir ?? defaultRunsDir()} (pass a run folder or --runs-dir)`, usage);
  return dir;
}

/** Reads the image files named on the command line; one that cannot be read is a UsageError naming it. */
export async function readImageFiles(files: string[]): Promise<{ file: string; bytes: Uint8Array }[]> {
  return Promise.all(
    files.map(async (file) => {
      try {
        return { file, bytes: new Uint8Array(await readFile(file)) };
      } catch (err) {
        throw new UsageError(`cannot read image ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }),
  );
}

/** Left-aligned first column, right-aligned others, two spaces apart. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** 41 → "41s", 75 → "1m15s", 3700 → "1h01m". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
