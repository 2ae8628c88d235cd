/**
 * A readable diff of two runs' model specs and hyperparameters, for the run comparison: layers aligned by a
 * longest common subsequence of their class names (so inserting one layer shows one added row, not a cascade
 * of changes), then field-by-field differences within aligned layers.
 */
import type { Hyperparameters, LayerSpec, ModelSpec } from '$shared/spec';

/** One field that differs: a dotted path and both values as display text ('—' where absent). */
export interface FieldChange {
  path: string;
  left: string;
  right: string;
}

/** One row of the layer diff; `left`/`right` are null for added/removed layers. */
export interface LayerDiffRow {
  kind: 'same' | 'changed' | 'added' | 'removed';
  leftIndex: number | null;
  rightIndex: number | null;
  left: LayerSpec | null;
  right: LayerSpec | null;
  changes: FieldChange[];
}

/** Layer names are generated (conv2d_3) and differ between otherwise equal specs, so they are not compared. */
const IGNORED_LAYER_FIELDS = new Set(['name']);

function show(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Differences between two JSON values, recursing into objects; arrays and scalars compare as a whole. */
export function diffValues(left: unknown, right: unknown, prefix = '', ignore: ReadonlySet<string> = new Set()): FieldChange[] {
  if (isPlainObject(left) && isPlainObject(right)) {
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].filter((k) => !ignore.has(k)).sort();
    return keys.flatMap((k) => diffValues(left[k], right[k], prefix ? `${prefix}.${k}` : k));
  }
  if (JSON.stringify(left) === JSON.stringify(right)) return [];
  return [{ path: prefix || '(value)', left: show(left), right: show(right) }];
}

/** Aligns two layer lists and lists what changed, layer by layer. */
export function diffLayers(a: readonly LayerSpec[], b: readonly LayerSpec[]): LayerDiffRow[] {
  // LCS table over class names, filled from the end so the walk below goes front to back.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i].class_name === b[j].class_name ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const rows: LayerDiffRow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i].class_name === b[j].class_name) {
      const changes = diffValues(a[i].config, b[j].config, '', IGNORED_LAYER_FIELDS);
      rows.push({ kind: changes.length ? 'changed' : 'same', leftIndex: i, rightIndex: j, left: a[i], right: b[j], changes });
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      rows.push({ kind: 'added', leftIndex: null, rightIndex: j, left: null, right: b[j], changes: [] });
      j++;
    } else {
      rows.push({ kind: 'removed', leftIndex: i, rightIndex: null, left: a[i], right: null, changes: [] });
      i++;
    }
  }
  return rows;
}

/** Everything that differs between two runs' setups. */
export interface RunSetupDiff {
  modelName: FieldChange | null;
  layers: LayerDiffRow[];
  hyperparameters: FieldChange[];
}

/** Compares two runs' specs and hyperparameters. */
export function diffRunSetups(
  a: { spec: ModelSpec; hyperparameters: Hyperparameters },
  b: { spec: ModelSpec; hyperparameters: Hyperparameters },
): RunSetupDiff {
  const nameA = a.spec.config.name;
  const nameB = b.spec.config.name;
  return {
    modelName: nameA === nameB ? null : { path: 'name', left: nameA, right: nameB },
    layers: diffLayers(a.spec.config.layers, b.spec.config.layers),
    hyperparameters: diffValues(a.hyperparameters, b.hyperparameters),
  };
}

/** A layer's one-line description for the diff, as the editor's rows caption it. */
export { describeLayer } from '../editor/layer-caption';
