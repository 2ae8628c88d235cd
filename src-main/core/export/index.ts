/**
 * Exports a trained run so that users can trust it elsewhere: TF.js layers, ONNX, or Keras/R scripts with their
 * weights — each written atomically into its folder with a preprocessing.json, then reloaded and compared with
 * the in-app model on test images. An export whose predictions disagree is reported as not ok, never as good.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { EXPORT_FORMATS, type ExportFormat, type ExportReport } from '../../shared/contract';
import { loadRunData } from '../data/provenance';
import type { ImageSet } from '../data/types';
import { writeDirAtomic } from './atomic-dir';
import { describeModel, pythonScript, rLayerFunction, rScript, weightsBinary, type KerasModelDescription } from './keras-code';
import { loadRunModel, loadSavedModel, saveModelAtomic } from '../runs/model-io';
import { modelToOnnx, ONNX_INPUT_NAME, ONNX_OPSET, ONNX_OUTPUT_NAME } from './onnx';
import { readRunInfo, type RunInfo } from './run-info';
import { checkPythonScript, checkRScript, compareFacts, type ScriptFacts } from './script-check';
import { inferenceGraph, leftOutNote, type LeftOutLayer } from './inference-graph';
import { compareProbabilities, predictInApp, runOnnx, type Agreement, type ImageBatch } from './verify';

export type { ImageBatch } from './verify';

/** Thresholds for calling an ONNX export good (float32 kernels differ in summation order, never by more). */
export const ONNX_MIN_ARGMAX_AGREEMENT = 0.99;
export const ONNX_MAX_ABS_DIFF = 1e-4;
/** Test images compared when the caller gives none. */
export const DEFAULT_SAMPLE_COUNT = 200;

/** Options for `exportModel`. */
export interface ExportOptions {
  /** Images to compare on: raw (0–255) like a dataset's ImageSet, or already scaled NHWC float32. */
  sampleImages?: ImageSet | ImageBatch;
  /** How many images to compare (default 200, from the run's dataset test set when it can be loaded). */
  sampleCount?: number;
  /** Told when the export moves on to writing the files and to checking them (for a progress line). */
  onStage?(stage: 'writing' | 'verifying', message: string): void;
}

/** A wrong format name or option; the message names the value received. */
export class ExportError extends Error {
  override name = 'ExportError';
}

/** Scales raw images (0–255) to the float32 [0, 1] NHWC batch the model takes. */
function scaleImageSet(set: ImageSet, count: number): ImageBatch {
  const n = Math.min(count, set.count);
  const per = set.height * set.width * set.channels;
  const data = new Float32Array(n * per);
  for (let i = 0; i < data.length; i++) data[i] = set.images[i]! / 255;
  return { data, shape: [n, set.height, set.width, set.channels] };
}

/** The comparison images: the caller's, else the run's test set, else none (with the reason). */
async function sampleBatch(info: RunInfo, model: tf.LayersModel, opts: ExportOptions): Promise<{ batch: ImageBatch | null; source: string }> {
  const count = opts.sampleCount ?? DEFAULT_SAMPLE_COUNT;
  if (!Number.isInteger(count) || count < 1) throw new ExportError(`sampleCount must be a positive integer; received ${JSON.stringify(opts.sampleCount)}`);
  const s = opts.sampleImages;
  if (s) {
    const want = model.inputs[0]!.shape.slice(1);
    const have = 'shape' in s ? s.shape.slice(1) : [s.height, s.width, s.channels];
    if (JSON.stringify(want) !== JSON.stringify(have)) {
      throw new ExportError(`sampleImages are ${have.join('×')} but the model takes ${want.join('×')} (height×width×channels)`);
    }
    if ('shape' in s) {
      const [n, h, w, c] = s.shape;
      const m = Math.min(n, count);
      return { batch: { data: s.data.subarray(0, m * h * w * c), shape: [m, h, w, c] }, source: `${m} provided images` };
    }
    const b = scaleImageSet(s, count);
    return { batch: b, source: `${b.shape[0]} provided images` };
  }
  // The run's own data, found where the run recorded it and checked to be the same bytes.
  const data = await loadRunData(info.data);
  if (!data.ok) return { batch: null, source: data.reason };
  const ds = data.dataset;
  const want = model.inputs[0]!.shape.slice(1);
  const have = [ds.test.height, ds.test.width, ds.test.channels];
  if (JSON.stringify(want) !== JSON.stringify(have)) {
    return { batch: null, source: `the dataset's images are ${have.join('×')} but the model takes ${want.join('×')}` };
  }
  const b = scaleImageSet(ds.test, count);
  return { batch: b, source: `the first ${b.shape[0]} test images of ${info.datasetId ?? data.where}` };
}

/** preprocessing.json: everything another program needs to feed the exported model as the app does. */
function preprocessing(format: ExportFormat, model: tf.LayersModel, info: RunInfo, extra: Record<string, unknown>): Record<string, unknown> {
  const [, h, w, c] = model.inputs[0]!.shape as [null, number, number, number];
  const outShape = model.outputs[0]!.shape;
  return {
    format,
    run: info.runId,
    dataset: info.datasetId,
    input: {
      shape: [null, h, w, c],
      dtype: 'float32',
      channel_order: 'NHWC',
      color: c === 1 ? 'grayscale' : c === 3 ? 'rgb' : `${c} channels`,
      // Keras' image_dataset_from_directory names: what to pass it to feed this model as the app did.
      color_mode: c === 3 ? 'rgb' : 'grayscale',
      image_size: [h, w],
      decode: 'PNG or JPEG, EXIF orientation applied, alpha composited over black',
      grayscale_conversion: c === 1 ? 'luminance 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), alpha composited over black' : null,
      resize: `${w}×${h} pixels (width × height): area averaging when shrinking, bilinear when enlarging`,
      scale: 1 / 255,
      scale_description: 'pixel / 255, so 0–255 becomes 0.0–1.0; no mean subtraction',
      polarity:
        info.datasetId === 'fashion-mnist' || info.datasetId === 'mnist'
          ? 'light object on a black background, as in the training images; images are not inverted — invert dark-on-light photos yourself'
          : 'as in the training images; images are not inverted',
    },
    output: {
      shape: outShape,
      meaning: 'class probabilities (softmax), one per class in label order',
    },
    class_names: info.classNames,
    label_order: 'output index i is class_names[i], the dataset label i',
    ...extra,
  };
}

function pass(a: Agreement, format: ExportFormat): { ok: boolean; why: string } {
  if (format === 'tfjs') {
    return a.maxAbsDiff === 0 && a.argmaxAgreement === 1
      ? { ok: true, why: 'identical predictions' }
      : { ok: false, why: 'the reloaded TF.js model does not reproduce the in-app predictions exactly' };
  }
  const ok = a.argmaxAgreement >= ONNX_MIN_ARGMAX_AGREEMENT && a.maxAbsDiff < ONNX_MAX_ABS_DIFF;
  return ok
    ? { ok, why: `within tolerance (argmax ≥ ${ONNX_MIN_ARGMAX_AGREEMENT * 100}%, max |Δp| < ${ONNX_MAX_ABS_DIFF})` }
    : { ok, why: `outside tolerance (needs argmax ≥ ${ONNX_MIN_ARGMAX_AGREEMENT * 100}% and max |Δp| < ${ONNX_MAX_ABS_DIFF}): do not use this export` };
}

function percent(x: number): string {
  return `${(x * 100).toFixed(x === 1 ? 0 : 2)}%`;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.writeFile(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Exports the trained model of `runDir` as `format` into the folder `outDir` (created; replaced only if it
 * is a previous export; written via a temp sibling and a rename). Then reloads the export and compares it
 * with the in-app model on `opts.sampleImages`, else the first 200 test images of the run's dataset:
 * - tfjs: reloaded with `tf.loadLayersModel`; ok only if the predictions are identical;
 * - onnx: run with ONNX Runtime; ok if argmax agrees on ≥ 99% and max |Δp| < 1e-4;
 * - keras / r: the scripts cannot run without TensorFlow / keras3, so the prediction fields are null; what can
 *   be checked is (Python / R interpreter permitting): the script parses, builds the same layers with the same
 *   parameter counts, and reads back exactly the model's weights.
 */
export async function exportModel(runDir: string, format: ExportFormat, outDir: string, opts: ExportOptions = {}): Promise<ExportReport> {
  if (!Object.prototype.hasOwnProperty.call(EXPORTERS, format)) {
    throw new ExportError(`unknown export format ${JSON.stringify(format)}; choose one of ${EXPORT_FORMATS.join(', ')}`);
  }
  const exporter = EXPORTERS[format];
  const model = await loadRunModel(runDir);
  try {
    const numClasses = Number(model.outputs[0]!.shape[1] ?? 0);
    const info = await readRunInfo(runDir, numClasses);
    const target = path.resolve(outDir);
    return await writeDirAtomic(target, async (dir) => {
      const report = await exporter.write({ dir, target, model, info, opts });
      await writeJson(path.join(dir, 'verification.json'), report);
      return report;
    });
  } finally {
    model.dispose();
  }
}

/** What an exporter gets: the folder to fill (renamed to `target` once written), the trained model, the run. */
interface ExportJob {
  dir: string;
  target: string;
  model: tf.LayersModel;
  info: RunInfo;
  opts: ExportOptions;
}

/**
 * One export format: writes its files and preprocessing.json into the job's folder, then checks what it wrote
 * and returns the report (written as verification.json). `EXPORTERS` must have one per `ExportFormat`.
 */
interface Exporter {
  write(job: ExportJob): Promise<ExportReport>;
}

const tfjsExporter: Exporter = {
  async write({ dir, target, model, info, opts }) {
    const { batch, source } = await sampleBatch(info, model, opts);
    opts.onStage?.('writing', 'writing the TF.js files');
    const graph = await inferenceGraph(model);
    let agreement: Agreement | null = null;
    try {
      await saveModelAtomic(graph.model, dir);
      if (batch) {
        opts.onStage?.('verifying', `reloading the export and comparing it with the in-app model on ${batch.shape[0]} test images`);
        const reloaded = await loadSavedModel(dir);
        try {
          // The same engine on the same graph on both sides (the native pass where it runs), so only the files can
          // make them differ. The graph is the one written: without training-only layers it is the trained model's
          // inference (inference-graph.test.ts checks the two agree), but the native pass may group it differently.
          agreement = compareProbabilities(predictInApp(graph.model, batch), predictInApp(reloaded, batch), batch.shape[0]);
        } finally {
          reloaded.dispose();
        }
      }
    } finally {
      if (graph.owned) graph.model.dispose();
    }
    await writeJson(path.join(dir, 'preprocessing.json'), preprocessing('tfjs', model, info, { files: { model: 'model.json', weights: 'weights.bin' }, ...leftOutEntry(graph.leftOut) }));
    return withLeftOut(agreementReport('tfjs', target, agreement, source), graph.leftOut);
  },
};

const onnxExporter: Exporter = {
  async write({ dir, target, model, info, opts }) {
    const { batch, source } = await sampleBatch(info, model, opts);
    opts.onStage?.('writing', 'writing the ONNX files');
    const graph = await inferenceGraph(model);
    let bytes: Uint8Array;
    try {
      bytes = modelToOnnx(graph.model, { docString: `CNN Workbench run ${info.runId}; input NHWC float32 scaled by 1/255; output class probabilities` });
    } finally {
      if (graph.owned) graph.model.dispose();
    }
    await fs.writeFile(path.join(dir, 'model.onnx'), bytes);
    let agreement: Agreement | null = null;
    if (batch) {
      opts.onStage?.('verifying', `running the export with ONNX Runtime and comparing it with the in-app model on ${batch.shape[0]} test images`);
      // Reload what was written, not the bytes in memory: the check is on the file the user gets.
      const written = new Uint8Array(await fs.readFile(path.join(dir, 'model.onnx')));
      agreement = compareProbabilities(predictInApp(model, batch), await runOnnx(written, batch.data, batch.shape), batch.shape[0]);
    }
    await writeJson(
      path.join(dir, 'preprocessing.json'),
      preprocessing('onnx', model, info, { files: { model: 'model.onnx' }, ...leftOutEntry(graph.leftOut), onnx: { opset: ONNX_OPSET, input_name: ONNX_INPUT_NAME, output_name: ONNX_OUTPUT_NAME, input_layout: 'NHWC (transposed to NCHW inside the graph)' } }),
    );
    return withLeftOut(agreementReport('onnx', target, agreement, source), graph.leftOut);
  },
};

/** Keras (Python) or R (keras3): a script that rebuilds the model, its weights, and a static check of both. */
const scriptExporter = (format: 'keras' | 'r'): Exporter => ({
  async write({ dir, target, model, info, opts }) {
    opts.onStage?.('writing', `writing the ${format === 'keras' ? 'Keras (Python)' : 'R (keras3)'} script and weights`);
    const d = describeModel(model);
    const ctx = { runId: info.runId, datasetId: info.datasetId, classNames: info.classNames, hyperparameters: info.hyperparameters, exportedAt: new Date().toISOString() };
    const scriptName = format === 'keras' ? 'model.py' : 'model.R';
    await fs.writeFile(path.join(dir, scriptName), format === 'keras' ? pythonScript(d, ctx) : rScript(d, ctx));
    await fs.writeFile(path.join(dir, 'weights.bin'), weightsBinary(model));
    await writeJson(path.join(dir, 'weights.json'), { dtype: 'float32', byte_order: 'little-endian', layout: 'row-major (C order), Keras get_weights() order', arrays: d.weights });
    await writeJson(path.join(dir, 'preprocessing.json'), preprocessing(format, model, info, { files: { script: scriptName, weights: 'weights.bin', weights_layout: 'weights.json' } }));
    opts.onStage?.('verifying', `checking the script with ${format === 'keras' ? 'Python' : 'R'} where it is installed`);
    return scriptReport(format, target, path.join(dir, scriptName), path.join(dir, 'weights.bin'), d, model, info);
  },
});

/** Every export format; the compiler refuses an `ExportFormat` without an exporter. */
const EXPORTERS: Readonly<Record<ExportFormat, Exporter>> = {
  tfjs: tfjsExporter,
  onnx: onnxExporter,
  keras: scriptExporter('keras'),
  r: scriptExporter('r'),
};

/** preprocessing.json's record of the training-only layers the inference graph leaves out (none: no entry). */
function leftOutEntry(leftOut: readonly LeftOutLayer[]): Record<string, unknown> {
  return leftOut.length === 0 ? {} : { training_only_layers_left_out: leftOut.map((l) => ({ name: l.name, class_name: l.className })), training_only_note: leftOutNote(leftOut) };
}

/** The report, saying which training-only layers the exported graph leaves out (verification.json carries it). */
function withLeftOut(report: ExportReport, leftOut: readonly LeftOutLayer[]): ExportReport {
  return leftOut.length === 0 ? report : { ...report, message: `${report.message}; ${leftOutNote(leftOut)}`, leftOutLayers: [...leftOut] };
}

/** The report for a prediction comparison: ok only within the format's tolerance (exact for TF.js). */
export function agreementReport(format: ExportFormat, target: string, a: Agreement | null, source: string): ExportReport {
  const label = format === 'tfjs' ? 'TF.js' : 'ONNX';
  if (!a) {
    return {
      format,
      path: target,
      checked: null,
      argmaxAgreement: null,
      maxAbsDiff: null,
      ok: false,
      outcome: 'not-verified',
      message: `${label} export written but not verified: ${source}. Nothing was compared, so the export was not found wrong either`,
    };
  }
  const verdict = pass(a, format);
  const how = format === 'tfjs' ? 'reloaded with tf.loadLayersModel' : 'run with ONNX Runtime';
  return {
    format,
    path: target,
    checked: a.checked,
    argmaxAgreement: a.argmaxAgreement,
    maxAbsDiff: a.maxAbsDiff,
    ok: verdict.ok,
    outcome: verdict.ok ? 'verified' : 'disagrees',
    message: `${label} export ${how}, compared with the in-app model on ${source}: same top class on ${percent(a.argmaxAgreement)}, max |Δp| ${a.maxAbsDiff.toExponential(2)} — ${verdict.why}`,
  };
}

async function scriptReport(
  format: 'keras' | 'r',
  target: string,
  script: string,
  weights: string,
  d: KerasModelDescription,
  model: tf.LayersModel,
  info: RunInfo,
): Promise<ExportReport> {
  const lang = format === 'keras' ? 'Python (Keras 3)' : 'R (keras3)';
  const framework = format === 'keras' ? 'TensorFlow/Keras' : 'R keras3';
  const base = { format, path: target, checked: null, argmaxAgreement: null, maxAbsDiff: null };
  const assumed = info.hyperparametersAssumed ? ' The run has no hyperparameters.json: the training configuration is the lesson\'s default.' : '';
  let facts: ScriptFacts | null;
  try {
    facts = format === 'keras' ? await checkPythonScript(script, weights) : await checkRScript(script, weights);
  } catch (err) {
    return { ...base, ok: false, outcome: 'disagrees', message: `${lang} script written but it failed its check: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!facts) {
    const missing = format === 'keras' ? 'Python with numpy' : 'R (Rscript)';
    return { ...base, ok: true, outcome: 'unchecked', message: `${lang} script and weights written; not checked: ${missing} is not installed here, and predictions cannot be compared without ${framework}.${assumed}` };
  }
  const values = model.layers.flatMap((l) => l.getWeights().map((t) => Float32Array.from(t.dataSync() as Float32Array)));
  const callName = format === 'keras' ? (c: string) => c : (c: string) => rLayerFunction(c) ?? c;
  const problems = compareFacts(facts, d, values, callName);
  if (problems.length) {
    return { ...base, ok: false, outcome: 'disagrees', message: `${lang} script does not match the model: ${problems.slice(0, 5).join('; ')}` };
  }
  const checkedWhat = `${facts.interpreter} parsed it; it builds the same ${d.layers.length} layers with the same parameter counts (${d.totalParams} in all); its weight reader gets back all ${values.length} arrays exactly`;
  const notRun = facts.frameworkAvailable
    ? `${framework} is installed here, but the script was not run (run it to evaluate the model)`
    : `predictions were not compared: ${framework} is not installed here`;
  return { ...base, ok: true, outcome: 'verified', message: `${lang} script checked: ${checkedWhat}. ${notRun}.${assumed}` };
}
