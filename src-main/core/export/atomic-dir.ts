/**
 * Writing an export folder atomically (through `replaceDirAtomic`), after checking that the folder it replaces
 * is absent, empty or a previous export — never a user's unrelated files.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { replaceDirAtomic } from '../fsutil';

/** The marker that tells us a folder is one of our exports (so replacing it is safe). */
export const EXPORT_MARKER = 'preprocessing.json';

/** Refusal to write over a folder that is not empty and not a previous export. */
export class ExportTargetError extends Error {
  override name = 'ExportTargetError';
}

async function listing(dir: string): Promise<string[] | null> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new ExportTargetError(`export folder ${dir} is an existing file, not a folder`);
    throw err;
  }
}

/**
 * Runs `fill(tempDir)` and then moves the temp folder to `outDir`. `outDir` may be absent, an empty folder,
 * or a previous export (it holds preprocessing.json), which is replaced; anything else is refused so a user's
 * unrelated files are never deleted. The temp folder is removed if `fill` throws.
 */
export async function writeDirAtomic<T>(outDir: string, fill: (tempDir: string) => Promise<T>): Promise<T> {
  const target = path.resolve(outDir);
  const existing = await listing(target);
  if (existing && existing.length > 0 && !existing.includes(EXPORT_MARKER)) {
    throw new ExportTargetError(`export folder ${target} already holds other files (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', …' : ''}); choose an empty or new folder`);
  }
  return replaceDirAtomic(target, fill);
}
