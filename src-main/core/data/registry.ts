import { readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetInfo } from '../../shared/contract';
import { writeJsonAtomic } from '../fsutil';
import { workbenchHome } from '../paths';
import { DataError, describeError } from './errors';

/** One imported dataset: where it lives and what it was when imported. */
export interface RegistryEntry {
  id: string;
  /** Absolute path of the folder or CSV file the user imported. */
  path: string;
  info: DatasetInfo;
}

/** The fingerprint cache entry for a file set (keyed by paths, sizes and mtimes). */
export interface CachedHeader {
  key: string;
  fingerprint: string;
}

interface RegistryFile {
  version: 1;
  datasets: RegistryEntry[];
  fingerprints: CachedHeader[];
}

/** `workbenchHome()/datasets.json`: the user's imports and the fingerprint cache that keeps listing cheap. */
export function registryPath(): string {
  return path.join(workbenchHome(), 'datasets.json');
}

/** Reads the registry; a missing file is an empty registry, a corrupt one a DataError naming it. */
export async function readRegistry(): Promise<RegistryFile> {
  const file = registryPath();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, datasets: [], fingerprints: [] };
    throw new DataError(`${file}: cannot read the dataset registry: ${describeError(err)}`, file);
  }
  try {
    const parsed = JSON.parse(text) as Partial<RegistryFile>;
    return {
      version: 1,
      datasets: Array.isArray(parsed.datasets) ? parsed.datasets : [],
      fingerprints: Array.isArray(parsed.fingerprints) ? parsed.fingerprints : [],
    };
  } catch (err) {
    throw new DataError(`${file}: the dataset registry is not valid JSON (${describeError(err)}); delete it to start afresh`, file);
  }
}

/** Writes the registry atomically (temp file + rename), so a crash never leaves half a JSON file. */
export async function writeRegistry(reg: RegistryFile): Promise<void> {
  const file = registryPath();
  try {
    await mkdir(path.dirname(file), { recursive: true });
    // A temp name unique per call (not just per process): two writes in flight must not share one temp file.
    await writeJsonAtomic(file, reg);
  } catch (err) {
    throw new DataError(`${file}: cannot write the dataset registry: ${describeError(err)}`, file);
  }
}
