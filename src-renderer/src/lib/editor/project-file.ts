/**
 * Reading and writing project files in the renderer (browser mode has no save dialog: it downloads the JSON
 * and opens one through a file input). Only the envelope is checked here; layer-level problems are the core's
 * job and show up in the live summary like any other edit.
 */
import { DTYPE_POLICIES, isDtypePolicy, LAYER_CLASS_NAMES, OPTIMIZER_NAMES, SPEC_FORMAT_VERSION } from '$shared/spec';
import type { Project } from '$shared/contract';

/** Raised for a project file that cannot be used; the message names the file and the field. */
export class ProjectFileError extends Error {
  override name = 'ProjectFileError';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/**
 * Parse a project file's text.
 * @param source the file name, quoted in every error
 * @throws ProjectFileError naming the file, the field and the value received
 */
export function parseProjectFile(textContent: string, source: string): Project {
  let data: unknown;
  try {
    data = JSON.parse(textContent);
  } catch (e) {
    throw new ProjectFileError(`${source} is not JSON: ${(e as Error).message}`);
  }
  const fail = (field: string, expected: string, received: unknown): never => {
    throw new ProjectFileError(`${source}: ${field} must be ${expected}, received ${show(received)}`);
  };
  if (!isObject(data)) return fail('the file', 'a project object', data);
  if (typeof data.format_version !== 'number') fail('format_version', 'a number', data.format_version);
  if ((data.format_version as number) > SPEC_FORMAT_VERSION) {
    fail('format_version', `at most ${SPEC_FORMAT_VERSION} (this version of the workbench)`, data.format_version);
  }
  const spec = data.spec;
  if (!isObject(spec)) return fail('spec', 'a model spec object', spec);
  if (spec.class_name !== 'Sequential' && spec.class_name !== 'Functional') fail('spec.class_name', '"Sequential" or "Functional"', spec.class_name);
  const functional = spec.class_name === 'Functional';
  if (!isObject(spec.config)) return fail('spec.config', 'an object', spec.config);
  const layers = spec.config.layers;
  if (!Array.isArray(layers)) return fail('spec.config.layers', 'an array', layers);
  // A graph's wiring (names, inbound_nodes) is checked here only for its shape; the core names a bad wire.
  if (functional) {
    for (const key of ['input_layers', 'output_layers'] as const) if (!Array.isArray(spec.config[key])) fail(`spec.config.${key}`, 'an array', spec.config[key]);
  }
  layers.forEach((layer: unknown, i) => {
    if (!isObject(layer)) fail(`spec.config.layers[${i}]`, 'a layer object', layer);
    const l = layer as Record<string, unknown>;
    if (functional && typeof l.name !== 'string') fail(`spec.config.layers[${i}].name`, 'a string', l.name);
    if (functional && !Array.isArray(l.inbound_nodes)) fail(`spec.config.layers[${i}].inbound_nodes`, 'an array', l.inbound_nodes);
    if (!(LAYER_CLASS_NAMES as readonly unknown[]).includes(l.class_name)) {
      fail(`spec.config.layers[${i}].class_name`, `one of ${LAYER_CLASS_NAMES.join(', ')}`, l.class_name);
    }
    if (!isObject(l.config)) fail(`spec.config.layers[${i}].config`, 'an object', l.config);
  });
  const h = data.hyperparameters;
  if (!isObject(h)) return fail('hyperparameters', 'an object', h);
  if (!isObject(h.optimizer) || !(OPTIMIZER_NAMES as readonly unknown[]).includes(h.optimizer.class_name)) {
    fail('hyperparameters.optimizer.class_name', `one of ${OPTIMIZER_NAMES.join(', ')}`, isObject(h.optimizer) ? h.optimizer.class_name : h.optimizer);
  }
  for (const key of ['batch_size', 'epochs', 'validation_split', 'seed'] as const) {
    if (typeof h[key] !== 'number') fail(`hyperparameters.${key}`, 'a number', h[key]);
  }
  if (h.dtype_policy !== undefined && !isDtypePolicy(h.dtype_policy)) {
    fail('hyperparameters.dtype_policy', `one of ${DTYPE_POLICIES.join(', ')}`, h.dtype_policy);
  }
  if (data.datasetId !== null && data.datasetId !== undefined && typeof data.datasetId !== 'string') {
    fail('datasetId', 'a string or null', data.datasetId);
  }
  if (data.canvasPositions !== undefined) {
    if (!isObject(data.canvasPositions)) fail('canvasPositions', 'an object of {x, y} by layer name', data.canvasPositions);
    for (const [name, at] of Object.entries(data.canvasPositions as Record<string, unknown>)) {
      if (!isObject(at) || !Number.isFinite(at.x) || !Number.isFinite(at.y)) fail(`canvasPositions.${name}`, 'an {x, y} of finite numbers', at);
    }
  }
  return data as unknown as Project;
}

/** A project as pretty JSON (stable key order as built, 2-space indent, trailing newline). */
export function serializeProject(project: Project): string {
  return `${JSON.stringify(project, null, 2)}\n`;
}

/** A file name for a download: the model name made safe, e.g. `lesson cnn` → `lesson-cnn.cnnproj.json`. */
export function projectFileName(modelName: string): string {
  const stem = modelName.trim().replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'project';
  return `${stem}.cnnproj.json`;
}
