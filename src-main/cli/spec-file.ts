/** Reading a spec file for the CLI (loads the model core, hence tfjs: import it after the flags are checked). */
import { readFile } from 'node:fs/promises';
import { getTemplate, parseSpec, SpecError, TEMPLATES } from '../core/model';
import { MAX_LAYERS, type AnyModelSpec } from '../shared/spec';
import { UsageError } from './command';

/**
 * Reads a spec from a JSON file (or a template id such as `lesson-cnn`), parsed and checked.
 * Unreadable files, bad JSON and invalid specs become UsageErrors naming the file, layers and fields.
 */
export async function readSpec(source: string, flag = '--spec'): Promise<AnyModelSpec> {
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
  // The services refuse the same (their schema): a 700,000-layer spec used to exhaust the CLI's heap.
  const layers = (json as { config?: { layers?: unknown } } | null)?.config?.layers;
  if (Array.isArray(layers) && layers.length > MAX_LAYERS) {
    throw new UsageError(`${flag} ${source}: ${layers.length.toLocaleString('en-US')} layers; a spec may hold at most ${MAX_LAYERS.toLocaleString('en-US')}`);
  }
  try {
    return parseSpec(json);
  } catch (err) {
    if (err instanceof SpecError) throw new UsageError(`${flag} ${source}: ${err.message}`);
    throw err;
  }
}

