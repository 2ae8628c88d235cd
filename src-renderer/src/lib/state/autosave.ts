/**
 * The autosave record: what the user was working on (the model, the hyperparameter form as typed, the
 * dataset, whether it had unsaved changes), kept in the page's localStorage so a reload or a closed tab
 * brings it back. Pure functions: ProjectState decides when to write, these decide what.
 */
import { LESSON_HYPERPARAMETERS, SPEC_FORMAT_VERSION } from '$shared/spec';
import type { AnyModelSpec } from '$shared/spec';
import { parseProjectFile } from '../editor/project-file';
import { toDraft } from '../hyperparameters/draft';
import type { HyperparameterDraft } from '../hyperparameters/draft';

export const AUTOSAVE_KEY = 'cnn-workbench-autosave';
const AUTOSAVE_VERSION = 1;

export interface AutosaveRecord {
  spec: AnyModelSpec;
  draft: HyperparameterDraft;
  datasetId: string | null;
  /** The canvas' block positions by layer name. */
  canvasPositions: Record<string, { x: number; y: number }>;
  /** True when the work differs from what was last saved or opened. */
  dirty: boolean;
  savedAt: string;
}

export function serializeAutosave(record: AutosaveRecord): string {
  return JSON.stringify({ version: AUTOSAVE_VERSION, ...record });
}

/**
 * Reads a record back; null (start fresh) when there is none or it is unusable. The spec is checked as a
 * project file would be; the draft keeps only known fields of the right type, so a record written by an
 * older version still restores what it can.
 */
export function parseAutosave(text: string | null): AutosaveRecord | null {
  if (!text) return null;
  try {
    const data = JSON.parse(text) as Record<string, unknown>;
    if (data.version !== AUTOSAVE_VERSION) return null;
    const project = parseProjectFile(
      JSON.stringify({ format_version: SPEC_FORMAT_VERSION, spec: data.spec, hyperparameters: LESSON_HYPERPARAMETERS, datasetId: data.datasetId ?? null, canvasPositions: data.canvasPositions }),
      'the autosaved project',
    );
    const draft: HyperparameterDraft = toDraft(LESSON_HYPERPARAMETERS);
    const saved = typeof data.draft === 'object' && data.draft !== null ? (data.draft as Record<string, unknown>) : {};
    const target = draft as unknown as Record<string, unknown>;
    for (const key of Object.keys(draft)) {
      if (typeof saved[key] === typeof target[key]) target[key] = saved[key];
    }
    return {
      spec: project.spec,
      draft,
      datasetId: project.datasetId,
      canvasPositions: project.canvasPositions ?? {},
      dirty: data.dirty === true,
      savedAt: typeof data.savedAt === 'string' ? data.savedAt : '',
    };
  } catch {
    return null;
  }
}
