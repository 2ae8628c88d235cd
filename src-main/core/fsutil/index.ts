/**
 * Atomic writes, the one place for them. A file goes to a temp file in the SAME folder (rename is only atomic
 * within one file system), is flushed to disk, then renamed over the target. A reader — or a crash at any
 * moment — sees either the old complete file or the new complete file, never a half-written one. A folder is
 * filled as a hidden temp sibling and renamed into place only once complete.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Writes `data` to `file` atomically (temp file in the same folder + fsync + rename). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    try {
      await handle.writeFile(data);
      // Without the fsync a power cut after rename can leave an empty file under the final name.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    // A full disk fails the write part-way: the partial temp file must not stay behind, holding the space.
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Overwrites an existing file's bytes in place (no temp file, then truncated to the new length): not atomic,
 * but it needs no new disk blocks when the new content fits in the old file's — the last resort for recording
 * a failure on a full disk, where `writeFileAtomic` cannot create its temp file. Fails when `file` is absent.
 */
export async function overwriteInPlace(file: string, data: string): Promise<void> {
  const bytes = Buffer.from(data, 'utf8');
  const handle = await fs.open(file, 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, 0);
    await handle.truncate(bytes.length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `value` as pretty JSON (with a trailing newline) atomically. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Runs `fill(tempDir)` on a hidden temp sibling of `dir`, then moves it to `dir`, replacing whatever folder is
 * there (callers decide beforehand whether replacing it is safe). The temp folder is removed if `fill` throws,
 * so a crash or an error part-way never leaves a half-written folder under the final name.
 */
export async function replaceDirAtomic<T>(dir: string, fill: (tempDir: string) => Promise<T>): Promise<T> {
  const target = path.resolve(dir);
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
  const exists = await fs.lstat(target).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  if (!exists) {
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

/** Reads and parses a JSON file; errors name the file. */
export async function readJson<T>(file: string): Promise<T> {
  const text = await fs.readFile(file, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** True when a process with this pid exists on this machine (signal 0 only probes). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
