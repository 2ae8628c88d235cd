/**
 * The PyTorch peers, run the same way by every bench mode: a Python script in a child process whose last stdout
 * line is one JSON object; its other lines are echoed under `label`. Null (with the reason printed) when the
 * interpreter or the script is missing or it fails, so a machine without PyTorch still gets our figures.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Debian's python3-torch is for /usr/bin/python3, which is not necessarily the first python3 on PATH. */
export const PEER_PYTHON = '/usr/bin/python3';

/** The arguments every peer script takes: the same batches, warm-up, batch size and threads as our side. */
export function peerArgs(o: { batches: number; warmup: number; batchSize: number }, threads: number): string[] {
  return ['--batches', String(o.batches), '--warmup', String(o.warmup), '--batch-size', String(o.batchSize), '--threads', String(threads)];
}

/**
 * Runs `script` with `args` (after `prefix`, e.g. a wrapper script and its own arguments) and returns its last line
 * parsed as T.
 */
export function runPeer<T>(label: string, script: string, args: string[], opts: { prefix?: string[]; timeoutMs?: number } = {}): T | null {
  for (const file of [PEER_PYTHON, script]) {
    if (!fs.existsSync(file)) {
      console.log(`${label}: skipped — ${file} is absent`);
      return null;
    }
  }
  const r = spawnSync(PEER_PYTHON, [...(opts.prefix ?? []), script, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000 });
  const lines = (r.stdout ?? '').trim().split('\n');
  const last = lines.at(-1) ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    const why = (r.error?.message ?? r.stderr ?? '').trim().split('\n').pop();
    console.log(`${label}: skipped — ${PEER_PYTHON} ${path.basename(script)} exited ${r.status ?? r.signal}: ${why}`);
    return null;
  }
  for (const l of lines.slice(0, -1)) console.log(`${label}: ${l}`);
  return JSON.parse(last) as T;
}
