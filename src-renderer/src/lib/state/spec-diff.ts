/**
 * A readable diff of two runs' model specs and hyperparameters, for the run comparison: layers aligned by a
 * longest common subsequence of their class names (so inserting one layer shows one added row, not a cascade
 * of changes), then field-by-field differences within aligned layers.
 */
import type { AnyModelSpec, Hyperparameters, LayerSpec } from '$shared/spec';

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

/** Fields Keras takes as an int or an (h, w) pair: 3 and [3, 3] are the same setting. */
const PAIR_FIELDS = new Set(['kernel_size', 'strides', 'pool_size', 'dilation_rate']);

/** A layer config with every pair field written as a pair, so only real differences remain. */
function normalisePairs(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, PAIR_FIELDS.has(k) && typeof v === 'number' ? [v, v] : v]));
}

/** Hyperparameter paths as the form labels them: "optimizer.config.learning_rate" → "learning rate". */
const HYPERPARAMETER_LABELS: Record<string, string> = {
  'optimizer.class_name': 'optimizer',
  'optimizer.config.learning_rate': 'learning rate',
  'optimizer.config.beta_1': 'beta_1',
  'optimizer.config.beta_2': 'beta_2',
  'optimizer.config.epsilon': 'epsilon',
  'optimizer.config.momentum': 'momentum',
  'optimizer.config.nesterov': 'Nesterov momentum',
  'optimizer.config.rho': 'rho',
  'optimizer.config.initial_accumulator_value': 'initial accumulator value',
  batch_size: 'batch size',
  validation_split: 'validation split',
  dtype_policy: 'precision (dtype policy)',
  early_stopping: 'EarlyStopping',
  reduce_lr_on_plateau: 'ReduceLROnPlateau',
};

export function hyperparameterLabel(path: string): string {
  if (HYPERPARAMETER_LABELS[path]) return HYPERPARAMETER_LABELS[path];
  const [head, ...rest] = path.split('.');
  const section = HYPERPARAMETER_LABELS[head];
  return section && rest.length ? `${section} ${rest.join(' ').replaceAll('_', ' ')}` : path.replaceAll('_', ' ');
}

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
      const changes = diffValues(normalisePairs(a[i].config), normalisePairs(b[j].config), '', IGNORED_LAYER_FIELDS);
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
  /** Rows of the setup table: the model's name (when it differs) and the hyperparameters, labelled. */
  setup: FieldChange[];
}

/** Compares two runs' specs and hyperparameters. */
export function diffRunSetups(
  a: { spec: AnyModelSpec; hyperparameters: Hyperparameters },
  b: { spec: AnyModelSpec; hyperparameters: Hyperparameters },
): RunSetupDiff {
  const nameA = a.spec.config.name;
  const nameB = b.spec.config.name;
  const modelName = nameA === nameB ? null : { path: 'name', left: nameA, right: nameB };
  // A run saved without a dtype policy trained in float32 (the default): say so rather than "—".
  const withPolicy = (h: Hyperparameters): Hyperparameters => ({ ...h, dtype_policy: h.dtype_policy ?? 'float32' });
  const hyperparameters = diffValues(withPolicy(a.hyperparameters), withPolicy(b.hyperparameters));
  return {
    modelName,
    layers: diffLayers(a.spec.config.layers, b.spec.config.layers),
    hyperparameters,
    setup: [...(modelName ? [{ ...modelName, path: 'model name' }] : []), ...hyperparameters.map((c) => ({ ...c, path: hyperparameterLabel(c.path) }))],
  };
}

/** A layer's one-line description for the diff, as the editor's rows caption it. */
export { describeLayer } from '../editor/layer-caption';
