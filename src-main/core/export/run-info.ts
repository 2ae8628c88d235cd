/**
 * What an export needs to know about a run folder beyond its model: hyperparameters, dataset and class names.
 * Read leniently (a run written by an older version may lack a file); every fallback is a documented default.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LESSON_HYPERPARAMETERS, type Hyperparameters } from '../../shared/spec';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from '../data/classes';
import type { RecordedData } from '../data/provenance';
import { RUN_FILES } from '../runs/store';

/** The parts of a run folder an export uses. */
export interface RunInfo {
  runId: string;
  runDir: string;
  datasetId: string | null;
  /** Where the run's data came from (path and fingerprint), to find and check it again. */
  data: RecordedData;
  hyperparameters: Hyperparameters;
  /** Class names in label order; `class i` when nothing in the run names them. */
  classNames: string[];
  /** True when `hyperparameters.json` was missing and the lesson's defaults stand in. */
  hyperparametersAssumed: boolean;
}

async function readJsonIfPresent(file: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function stringArray(v: unknown): string[] | null {
  return Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string') ? (v as string[]) : null;
}

/** Reads run.json, hyperparameters.json and evaluation.json of a run folder; `numClasses` sizes the fallback names. */
export async function readRunInfo(runDir: string, numClasses: number): Promise<RunInfo> {
  const run = await readJsonIfPresent(path.join(runDir, RUN_FILES.run));
  const hp = await readJsonIfPresent(path.join(runDir, RUN_FILES.hyperparameters));
  const evaluation = await readJsonIfPresent(path.join(runDir, RUN_FILES.evaluation));
  const dataset = run?.dataset && typeof run.dataset === 'object' ? (run.dataset as Record<string, unknown>) : null;
  const datasetId =
    typeof run?.datasetId === 'string' ? run.datasetId : typeof dataset?.id === 'string' ? dataset.id : null;
  let classNames =
    stringArray(evaluation?.classNames) ?? stringArray(run?.classNames) ?? stringArray(dataset?.classNames) ?? null;
  if (!classNames && numClasses === 10 && datasetId === 'fashion-mnist') classNames = FASHION_MNIST_CLASSES;
  if (!classNames && numClasses === 10 && datasetId === 'mnist') classNames = MNIST_CLASSES;
  if (!classNames || classNames.length !== numClasses) {
    classNames = Array.from({ length: numClasses }, (_, i) => `class ${i}`);
  }
  const source = run?.dataSource && typeof run.dataSource === 'object' ? (run.dataSource as Record<string, unknown>) : null;
  const recordedFingerprint = typeof source?.fingerprint === 'string' ? source.fingerprint : typeof dataset?.fingerprint === 'string' ? dataset.fingerprint : null;
  return {
    runId: typeof run?.id === 'string' ? run.id : path.basename(path.resolve(runDir)),
    runDir,
    datasetId,
    data: { datasetId, path: typeof source?.path === 'string' ? source.path : null, fingerprint: recordedFingerprint, imageShape: shapeOf(dataset?.imageShape) },
    hyperparameters: hp ? ({ ...LESSON_HYPERPARAMETERS, ...hp } as Hyperparameters) : LESSON_HYPERPARAMETERS,
    classNames,
    hyperparametersAssumed: hp === null,
  };
}

/** A recorded [height, width, channels], or null when it is not one. */
function shapeOf(v: unknown): [number, number, number] | null {
  return Array.isArray(v) && v.length === 3 && v.every((d) => Number.isInteger(d) && d > 0) ? (v as [number, number, number]) : null;
}
