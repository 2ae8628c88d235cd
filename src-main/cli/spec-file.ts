/** Reading a spec file for the CLI (loads the model core, hence tfjs: import it after the flags are checked). */
import { readFile } from 'node:fs/promises';
import { getTemplate, parseSpec, SpecError, TEMPLATES } from '../core/model';
import { isForeignModelJson, ModelImportError, openModelFile, type ImportedWeight } from '../core/model/import';
import { MAX_LAYERS, type AnyModelSpec } from '../shared/spec';
import { UsageError } from './command';

/** A model read for the CLI: a workbench spec, or a Keras / TF.js model converted to one (with its weights). */
export interface ModelSource {
  spec: AnyModelSpec;
  /** The imported file's weights (TF.js model.json), to evaluate or fine-tune from; null: fresh weights. */
  weights: ImportedWeight[] | null;
  /** What the import dropped or could not read, for the person to see (empty for a workbench spec). */
  notes: string[];
}

/**
 * Reads a spec file, a template id, or a model written by Keras (`to_json()` .json, `.keras`) or TF.js (`model.json`
 * with its shards). A model that cannot be opened is a UsageError naming the file, the layer and what to do.
 */
export async function readModelSource(source: string, flag = '--spec'): Promise<ModelSource> {
  let head: Buffer | null = null;
  try {
    head = await readFile(source);
  } catch {
    // readSpec below reports it (or finds the template of that id).
  }
  let foreign = head !== null && head[0] === 0x50 && head[1] === 0x4b;
  if (head !== null && !foreign) {
    try {
      foreign = isForeignModelJson(JSON.parse(head.toString('utf8')));
    } catch {
      // Not JSON: readSpec says so.
    }
  }
  if (!foreign) return { spec: await readSpec(source, flag), weights: null, notes: [] };
  try {
    const opened = await openModelFile(source);
    const notes = [...opened.warnings, ...(opened.weightsNote !== null && opened.format !== 'keras-json' ? [opened.weightsNote] : [])];
    return { spec: opened.spec, weights: opened.weights, notes };
  } catch (err) {
    if (err instanceof ModelImportError) throw new UsageError(`${flag} ${err.message}`);
    throw err;
  }
}

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

