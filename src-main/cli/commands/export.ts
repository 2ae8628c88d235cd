import path from 'node:path';
import { EXPORT_FORMATS, type ExportFormat } from '../../shared/contract';
import { defaultRunsDir } from '../../core/paths';
import { EXIT_FAILURE, EXIT_NOT_VERIFIED, UsageError, type CliCommand } from '../command';
import { parseFlags, resolveRunDir } from '../util';

const USAGE = `Usage: cnn-workbench export --run ID|DIR --format tfjs|onnx|keras|r --out DIR [--runs-dir DIR] [--json]

Exports a trained run and verifies the export against the in-app model on 200 test images of the run's
dataset (found where the run recorded it, and checked to be the same data). Exit code 0 when the export is
verified (or, for keras/r, checked as far as this machine allows), 1 when it disagrees with the in-app model,
2 for bad flags, runs or folders, 3 when it was written but not verified because the run's data has moved or
changed (nothing to compare it on).

Options:
  --run ID|DIR     the run: a run folder, or a run id under --runs-dir
  --format F       tfjs (model.json + weights), onnx (model.onnx, opset 13), keras (model.py + weights.bin),
                   r (model.R + weights.bin); every export also gets preprocessing.json and verification.json
  --out DIR        the export folder: new, empty, or a previous export (which is replaced)
  --runs-dir DIR   where run ids are looked up (default: ${defaultRunsDir()})
  --json           print the report as JSON on the last line`;

/** Parses the export flags, naming any bad value. */
function parseExportArgs(args: string[]): { runDir: string; format: ExportFormat; out: string; json: boolean } {
  const { values } = parseFlags(
    args,
    { run: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, 'runs-dir': { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  if (!values.format) throw new UsageError(`--format is required: one of ${EXPORT_FORMATS.join(', ')}`, USAGE);
  if (!(EXPORT_FORMATS as readonly string[]).includes(values.format)) {
    throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')} (received ${JSON.stringify(values.format)})`, USAGE);
  }
  if (!values.out) throw new UsageError('--out is required: the folder to write the export into', USAGE);
  const runDir = resolveRunDir(values.run, values['runs-dir'], USAGE);
  return { runDir, format: values.format as ExportFormat, out: path.resolve(values.out), json: values.json === true };
}

/** Errors from core that describe the user's input (a run, a folder, a model file), shown without a stack. */
const USER_ERRORS = new Set(['ModelFileError', 'ExportTargetError', 'ExportError', 'OnnxExportError', 'KerasExportError', 'DataError']);

/** `cnn-workbench export` — export a run's model and verify it. */
export const command: CliCommand = {
  name: 'export',
  summary: 'export a trained run (tfjs, onnx, keras, r) and verify it against the in-app model',
  usage: USAGE,
  async run(args) {
    const opts = parseExportArgs(args);
    const [{ initBackend }, { exportModel }] = await Promise.all([import('../../core/backend/index'), import('../../core/export/index')]);
    await initBackend();
    let report;
    try {
      report = await exportModel(opts.runDir, opts.format, opts.out);
    } catch (err) {
      if (err instanceof Error && USER_ERRORS.has(err.name)) throw new UsageError(err.message);
      throw err;
    }
    const verdict = report.ok ? 'ok' : report.outcome === 'not-verified' ? 'NOT VERIFIED' : 'NOT OK';
    const line = `${verdict}: ${report.message}\nwritten to ${report.path}\n`;
    (report.ok ? process.stdout : process.stderr).write(line);
    if (opts.json) {
      const { format, path: p, checked, argmaxAgreement, maxAbsDiff, ok, outcome } = report;
      process.stdout.write(JSON.stringify({ format, path: p, checked, argmaxAgreement, maxAbsDiff, ok, outcome }) + '\n');
    }
    return report.ok ? 0 : report.outcome === 'not-verified' ? EXIT_NOT_VERIFIED : EXIT_FAILURE;
  },
};
