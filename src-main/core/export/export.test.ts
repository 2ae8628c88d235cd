import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { LESSON_HYPERPARAMETERS } from '../../shared/spec';
import { initBackend } from '../backend/index';
import { agreementReport, exportModel } from './index';
import { describeModel, pythonScript, rLayerFunction } from './keras-code';
import { loadSavedModel } from '../runs/model-io';
import { checkPythonScript, checkRScript, compareFacts } from './script-check';
import { summarizeSpec } from '../model/validate';
import { SMALL_SPEC, smallCnn, trainedRun, type TrainedRun } from './testkit';
import { compareProbabilities, predictTfjs, runOnnx } from './verify';

let run: TrainedRun;

before(async () => {
  await initBackend();
  run = await trainedRun(600, 200);
});

after(() => run?.cleanup());

function hasCommand(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('TF.js export reloads with identical predictions on 200 test images', async (t) => {
  const out = path.join(run.root, 'exports', 'tfjs');
  const report = await exportModel(run.runDir, 'tfjs', out);
  t.diagnostic(report.message);
  assert.equal(report.ok, true, report.message);
  assert.equal(report.checked, 200);
  assert.equal(report.argmaxAgreement, 1);
  assert.equal(report.maxAbsDiff, 0);
  assert.deepEqual(readdirSync(out).sort(), ['model.json', 'preprocessing.json', 'verification.json', 'weights.bin']);
  // Independently of the report: reload the files and compare with the model as trained in memory.
  const reloaded = await loadSavedModel(out);
  const x = { data: Float32Array.from(run.test.images, (v) => v / 255), shape: [200, 28, 28, 1] as [number, number, number, number] };
  assert.deepEqual(await predictTfjs(reloaded, x), await predictTfjs(run.model, x));
  reloaded.dispose();
  const pre = JSON.parse(readFileSync(path.join(out, 'preprocessing.json'), 'utf8'));
  assert.deepEqual(pre.input.shape, [null, 28, 28, 1]);
  assert.equal(pre.input.channel_order, 'NHWC');
  assert.equal(pre.input.scale, 1 / 255);
  assert.equal(pre.class_names[9], 'Ankle boot');
  // No temp folders are left beside the export.
  assert.deepEqual(readdirSync(path.dirname(out)).filter((n) => n.startsWith('.')), []);
});

test('ONNX export agrees with the in-app model under ONNX Runtime (≥ 99% argmax, max |Δp| < 1e-4)', async (t) => {
  const out = path.join(run.root, 'exports', 'onnx');
  const report = await exportModel(run.runDir, 'onnx', out);
  t.diagnostic(report.message);
  assert.equal(report.ok, true, report.message);
  assert.equal(report.checked, 200);
  assert.ok(report.argmaxAgreement! >= 0.99, `argmax agreement ${report.argmaxAgreement}`);
  assert.ok(report.maxAbsDiff! < 1e-4, `max |Δp| ${report.maxAbsDiff}`);
  // Independently: run the file written to disk with ONNX Runtime and compare with the in-memory model.
  const x = Float32Array.from(run.test.images, (v) => v / 255);
  const got = await runOnnx(readFileSync(path.join(out, 'model.onnx')), x, [200, 28, 28, 1]);
  const expected = await predictTfjs(run.model, { data: x, shape: [200, 28, 28, 1] });
  let maxAbs = 0;
  for (let i = 0; i < got.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i]! - expected[i]!));
  assert.ok(maxAbs < 1e-4, `max |Δp| ${maxAbs}`);
  const pre = JSON.parse(readFileSync(path.join(out, 'preprocessing.json'), 'utf8'));
  assert.equal(pre.onnx.input_name, 'input');
  assert.ok(pre.onnx.opset >= 13);
});

test('an export whose predictions disagree with the in-app model is reported as not ok', async () => {
  // A real disagreement: the trained model against an untrained one of the same architecture, on real images.
  const x = { data: Float32Array.from(run.test.images, (v) => v / 255), shape: [200, 28, 28, 1] as [number, number, number, number] };
  const untrained = smallCnn(7);
  const agreement = compareProbabilities(await predictTfjs(run.model, x), await predictTfjs(untrained, x), 200);
  untrained.dispose();
  const onnxReport = agreementReport('onnx', '/tmp/out', agreement, 'test images');
  assert.equal(onnxReport.ok, false);
  assert.match(onnxReport.message, /outside tolerance .* do not use this export/);
  // TF.js must be exact: even a difference far below the ONNX tolerance fails it.
  const tiny = agreementReport('tfjs', '/tmp/out', { checked: 200, argmaxAgreement: 1, maxAbsDiff: 1e-9 }, 'test images');
  assert.equal(tiny.ok, false);
});

test('the Keras export parses, names the same layers and parameter counts, and numpy reads back the weights', async (t) => {
  const out = path.join(run.root, 'exports', 'keras');
  const report = await exportModel(run.runDir, 'keras', out);
  t.diagnostic(report.message);
  assert.deepEqual(readdirSync(out).sort(), ['model.py', 'preprocessing.json', 'verification.json', 'weights.bin', 'weights.json']);
  // TensorFlow is not installed here: predictions cannot be compared, and the report says so with nulls.
  assert.equal(report.checked, null);
  assert.equal(report.argmaxAgreement, null);
  assert.equal(report.maxAbsDiff, null);
  assert.equal(report.ok, true, report.message);
  assert.match(report.message, /parsed it; it builds the same 9 layers with the same parameter counts/);
  assert.match(report.message, /not installed here/);
  // The layer names and parameter counts in the script are the spec's, as the model core summarises it.
  const py = readFileSync(path.join(out, 'model.py'), 'utf8');
  const rows = summarizeSpec(SMALL_SPEC).rows.filter((r) => r.className !== 'InputLayer');
  const scriptLayers = [...py.matchAll(/layers\.(\w+)\(.*name="([^"]+)"\)\((?:inputs|x)\)/g)].map((m) => [m[1], m[2]]);
  assert.deepEqual(scriptLayers, rows.map((r) => [r.className, r.name]));
  const expected = [...py.matchAll(/^ {4}"([^"]+)": (\d+),$/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(expected, rows.map((r) => [r.name, r.params]));
  assert.match(py, new RegExp(`EXPECTED_TOTAL_PARAMS = ${summarizeSpec(SMALL_SPEC).totalParams}\n`));
  assert.match(py, /keras\.callbacks\.EarlyStopping\(monitor="val_accuracy", mode="max", patience=5, min_delta=0, restore_best_weights=True\)/);
  assert.match(py, /keras\.callbacks\.ReduceLROnPlateau\(monitor="val_loss", mode="min", factor=0\.5, patience=2, min_lr=0\.00001/);
  assert.match(py, /keras\.optimizers\.Adam\(learning_rate=0\.003\)/);
  assert.match(py, /batch_size=BATCH_SIZE/);
  assert.doesNotMatch(py, /set_global_policy/);
});

test("a run trained under mixed_bfloat16 exports a script that sets Keras' policy before building the model", () => {
  const model = smallCnn(3);
  const ctx = { runId: 'r', datasetId: 'fashion-mnist', classNames: [...'0123456789'], exportedAt: '2026-12-03' };
  const py = pythonScript(describeModel(model), { ...ctx, hyperparameters: { ...LESSON_HYPERPARAMETERS, dtype_policy: 'mixed_bfloat16' } });
  model.dispose();
  assert.match(py, /\nkeras\.mixed_precision\.set_global_policy\("mixed_bfloat16"\)\n[^]*\ndef build_model\(\):/);
});

test('the R export parses with Rscript and reads back the weights (or says plainly that R is absent)', async (t) => {
  const out = path.join(run.root, 'exports', 'r');
  const report = await exportModel(run.runDir, 'r', out);
  t.diagnostic(report.message);
  assert.equal(report.checked, null);
  assert.equal(report.ok, true, report.message);
  const script = readFileSync(path.join(out, 'model.R'), 'utf8');
  assert.match(script, /callback_early_stopping\(monitor = "val_accuracy", mode = "max", patience = 5L/);
  assert.match(script, /layer_conv_2d\(filters = 8L, kernel_size = c\(3L, 3L\)/);
  if (hasCommand('Rscript', ['--version'])) {
    assert.match(report.message, /Rscript parsed it; it builds the same 9 layers/);
  } else {
    t.diagnostic('R is absent here: Rscript not found, so the R script was NOT parsed');
    assert.match(report.message, /R \(Rscript\) is not installed here/);
  }
});

test('the script checks catch a weights file that does not match the model', async () => {
  const out = path.join(run.root, 'exports', 'keras-tampered');
  await exportModel(run.runDir, 'keras', out);
  const r = await exportModel(run.runDir, 'r', path.join(run.root, 'exports', 'r-tampered'));
  // Change one float of the first kernel in each weights.bin, as a corrupted copy would.
  for (const dir of [out, r.path]) {
    const bytes = readFileSync(path.join(dir, 'weights.bin'));
    bytes.writeFloatLE(bytes.readFloatLE(0) + 0.5, 0);
    writeFileSync(path.join(dir, 'weights.bin'), bytes);
  }
  const d = describeModel(run.model);
  const values = run.model.layers.flatMap((l) => l.getWeights().map((w) => Float32Array.from(w.dataSync())));
  const py = await checkPythonScript(path.join(out, 'model.py'), path.join(out, 'weights.bin'));
  assert.ok(py, 'python with numpy is needed for the Keras check');
  assert.match(compareFacts(py, d, values, (c) => c).join('; '), /conv2d\/kernel: values read back sum to/);
  const rFacts = await checkRScript(path.join(r.path, 'model.R'), path.join(r.path, 'weights.bin'));
  if (rFacts) {
    assert.match(compareFacts(rFacts, d, values, (c) => rLayerFunction(c) ?? c).join('; '), /conv2d\/kernel: values read back sum to/);
  }
});

test('exporting over a folder with unrelated files is refused and leaves them alone', async () => {
  const out = path.join(run.root, 'exports', 'user-folder');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'thesis.docx'), 'precious');
  await assert.rejects(exportModel(run.runDir, 'tfjs', out, { sampleImages: run.test, sampleCount: 10 }), /already holds other files \(thesis\.docx\)/);
  assert.equal(readFileSync(path.join(out, 'thesis.docx'), 'utf8'), 'precious');
  assert.equal(existsSync(path.join(out, 'model.json')), false);
});

test('re-exporting into a previous export replaces it', async () => {
  const out = path.join(run.root, 'exports', 'again');
  await exportModel(run.runDir, 'onnx', out, { sampleImages: run.test, sampleCount: 10 });
  const report = await exportModel(run.runDir, 'tfjs', out, { sampleImages: run.test, sampleCount: 10 });
  assert.equal(report.checked, 10);
  assert.equal(report.ok, true);
  assert.equal(existsSync(path.join(out, 'model.onnx')), false);
  assert.equal(existsSync(path.join(out, 'model.json')), true);
});

test('an unknown format and a run without a model give errors naming them', async () => {
  await assert.rejects(exportModel(run.runDir, 'pmml' as never, path.join(run.root, 'x')), /unknown export format "pmml"/);
  const empty = path.join(run.root, 'run-empty');
  mkdirSync(empty, { recursive: true });
  await assert.rejects(exportModel(empty, 'onnx', path.join(run.root, 'y')), /run .*run-empty has no trained model/);
  const wrongSize = { data: new Float32Array(2 * 32 * 32), shape: [2, 32, 32, 1] as [number, number, number, number] };
  await assert.rejects(exportModel(run.runDir, 'onnx', path.join(run.root, 'z'), { sampleImages: wrongSize }), /sampleImages are 32×32×1 but the model takes 28×28×1/);
  assert.equal(existsSync(path.join(run.root, 'z')), false);
  assert.equal(tf.memory().numTensors < 1000, true);
});
