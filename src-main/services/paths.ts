/**
 * Which file-system paths a renderer may name. The renderer never gets to pick an arbitrary path: it may
 * name a path under the configured data roots, or one that main handed it earlier (from a dialog), and
 * export names in browser mode are plain folder names under the run's own `exports/` folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ValidationError } from './router';

/** Resolves symlinks where the path exists, so a link inside a root cannot point outside it. */
function real(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}

/** True when `candidate` is `root` or inside it, after resolving `..` and symlinks. */
export function isUnder(root: string, candidate: string): boolean {
  const rel = path.relative(real(root), real(candidate));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Export folder names in browser mode: what a person would type, nothing that walks. */
const EXPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,63}$/;

/**
 * Checks a browser-mode export name and returns it trimmed. Refuses separators, `..`, leading dots and
 * anything that is not a plain name, naming the value received.
 */
export function safeExportName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.includes('/') || trimmed.includes('\\') || trimmed.includes('..') || !EXPORT_NAME.test(trimmed)) {
    throw new ValidationError(
      `exports.exportModel: argument 'path' must be a plain folder name (letters, digits, '.', '-', '_', space; at most 64) written under the run's exports/ folder; received ${JSON.stringify(name.slice(0, 80))}`,
    );
  }
  return trimmed;
}

/**
 * Remembers paths main handed to this renderer (dialog results, dataset locations), so a later call may
 * name them again — and only them, or paths under the data roots.
 */
export class PathGrants {
  private readonly granted = new Set<string>();

  constructor(private readonly roots: string[]) {}

  /** Records a path main gave out. */
  grant(p: string): void {
    this.granted.add(path.resolve(p));
  }

  /** The data roots paths may live under. */
  get dataRoots(): readonly string[] {
    return this.roots;
  }

  /** True when `p` was granted, or lies under a granted folder or a data root. */
  allows(p: string): boolean {
    const abs = path.resolve(p);
    if (this.granted.has(abs)) return true;
    for (const g of this.granted) if (isUnder(g, abs)) return true;
    return this.roots.some((root) => isUnder(root, abs));
  }

  /** Throws a ValidationError naming the method, argument and path when `p` is not allowed. */
  check(method: string, argName: string, p: string): string {
    if (!this.allows(p)) {
      throw new ValidationError(
        `${method}: argument '${argName}' ${JSON.stringify(p)} is outside the allowed folders (${this.roots.join(', ') || 'none'}) and was not chosen in a dialog`,
      );
    }
    return path.resolve(p);
  }
}
