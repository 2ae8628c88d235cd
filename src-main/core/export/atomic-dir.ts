/**
 * Writing a whole folder atomically: everything goes into a hidden temp sibling, which is renamed to the final
 * name only once complete. A crash or an error part-way never leaves a half export under the final name.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

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
  const parent = path.dirname(target);
  await fs.mkdir(parent, { recursive: true });
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const temp = path.join(parent, `.${path.basename(target)}.${tag}.partial`);
  await fs.mkdir(temp);
  let result: T;
  try {
    result = await fill(temp);
  } catch (err) {
    await fs.rm(temp, { recursive: true, force: true });
    throw err;
  }
  if (existing === null) {
    await fs.rename(temp, target);
  } else {
    // Move the old folder aside first: rename cannot replace a non-empty folder, and this keeps the window
    // without a complete folder under the final name to two renames.
    const old = path.join(parent, `.${path.basename(target)}.${tag}.old`);
    await fs.rename(target, old);
    try {
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rename(old, target);
      await fs.rm(temp, { recursive: true, force: true });
      throw err;
    }
    await fs.rm(old, { recursive: true, force: true });
  }
  return result;
}
