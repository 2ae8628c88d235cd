/**
 * "How to load it": for each export format, the few lines that load the exported model elsewhere and feed it
 * as the app does (NHWC float32, pixels / 255), with the folder the export was written to. Pure functions, so
 * the text is tested without a browser.
 */
import type { ExportFormat } from '$shared/contract';

/** Human names of the formats, in the contract's order. */
export const FORMAT_LABELS: Record<ExportFormat, string> = {
  tfjs: 'TF.js (model.json + weights)',
  onnx: 'ONNX (model.onnx, opset 13)',
  keras: 'Keras (Python script + weights)',
  r: 'R (keras3 script + weights)',
};

/** A path as a string literal in JS / Python / R (backslashes and quotes escaped). */
const quoted = (p: string): string => JSON.stringify(p);

/** The folder part of a path, with '/' at the end. */
function dirOf(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}

/** The snippet for `format`, naming the folder the export was written to. */
export function loadSnippet(format: ExportFormat, folder: string): string {
  const dir = dirOf(folder);
  switch (format) {
    case 'tfjs':
      return [
        "import * as tf from '@tensorflow/tfjs';",
        '',
        '// In Node, serve the folder or use tfjs-node\'s file:// handler; in a page, the URL the files are served at.',
        `const model = await tf.loadLayersModel(${quoted(`file://${dir}model.json`)});`,
        '// x: float32 [n, 28, 28, 1], pixels / 255, a light object on black (see preprocessing.json)',
        'const probabilities = model.predict(x);',
      ].join('\n');
    case 'onnx':
      return [
        "import * as ort from 'onnxruntime-node'; // onnxruntime-web in a page",
        '',
        `const session = await ort.InferenceSession.create(${quoted(`${dir}model.onnx`)});`,
        '// x: Float32Array of n × 28 × 28 × 1 values, pixels / 255 (NHWC, see preprocessing.json)',
        "const { output } = await session.run({ input: new ort.Tensor('float32', x, [n, 28, 28, 1]) });",
        '// output.data: n × classes probabilities, in the order of preprocessing.json\'s class_names',
      ].join('\n');
    case 'keras':
      return [`cd ${quoted(folder)}`, 'python model.py          # loads the trained weights and evaluates on the test set', 'python model.py --train  # retrains with the run\'s settings'].join('\n');
    case 'r':
      return [`cd ${quoted(folder)}`, 'Rscript model.R          # loads the trained weights and evaluates on the test set', 'Rscript model.R --train  # retrains with the run\'s settings'].join('\n');
  }
}

/** 1536 → "1.5 KB", for the list of files written. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(2)} MB`;
}
