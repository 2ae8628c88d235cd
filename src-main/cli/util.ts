/**
 * Shared helpers of the CLI commands: strict flag parsing with errors that name the flag, reading a spec
 * file with errors that name the file and layer, and plain-text tables.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { getTemplate, parseSpec, SpecError, TEMPLATES } from '../core';
import type { ModelSpec } from '../shared/spec';
import { UsageError } from './command';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `parseArgs` in strict mode, its errors turned into UsageErrors naming the flag (exit code 2). */
export function parseFlags<O extends Options>(args: string[], options: O, usage: string, allowPositionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
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
  if (!/^[+]?\d+$/.test(value.trim()) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${name} must be an integer >= ${min}, received '${value}'`);
  }
  return Number(value);
}

/** A flag value that must be a finite number > 0, or a UsageError naming the flag and the value. */
export function positiveFloatFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a number > 0, received '${value}'`);
  return n;
}

/**
 * Reads a spec from a JSON file (or a template id such as `lesson-cnn`), parsed and checked.
 * Unreadable files, bad JSON and invalid specs become UsageErrors naming the file, layers and fields.
 */
export async function readSpec(source: string, flag = '--spec'): Promise<ModelSpec> {
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && TEMPLATES.some((t) => t.id === source)) return getTemplate(source).spec;
    throw new UsageError(
      `${flag} ${source}: cannot read it (${code ?? String(err)}); give a spec JSON file or a template id (${TEMPLATES.map((t) => t.id).join(', ')})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag} ${source}: not valid JSON: ${(err as Error).message}`);
  }
  try {
    return parseSpec(json);
  } catch (err) {
    if (err instanceof SpecError) throw new UsageError(`${flag} ${source}: ${err.message}`);
    throw err;
  }
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
