import path from 'node:path';
import { EXIT_USAGE, UsageError, type CliCommand } from '../command';
import { intFlag, parseFlags } from '../util';

const USAGE = `Usage: cnn-workbench import FILE [--out SPEC.json] [--evaluate [--data DIR|FILE.csv] [--limit-test N]] [--json]

Opens a model written by Keras or TF.js as a workbench spec and prints its Keras-style summary:
  FILE  a Keras model.to_json() file (Keras 3 or tf.keras 2), a .keras archive (its config.json; its HDF5
        weights are not read yet), or a TF.js model.json beside its weight shards (weights read).
Layers the workbench lacks, Lambda layers, shared layers and second inputs or outputs are refused with what to
do (exit code 2, nothing written); settings it drops (regularizers, constraints) are listed as notes.
  --out SPEC.json   write the converted spec (train it with: train --spec SPEC.json, or train --spec FILE to
                    start from FILE's weights)
  --evaluate        evaluate the model with FILE's weights on the test set at once (needs weights: model.json)
  --data DIR|CSV    the dataset to evaluate on (default Fashion-MNIST)
  --limit-test N    evaluate on the first N test images only
  --json            end with one JSON line: format, dialect, layers, params, notes, and the evaluation`;

const FLAGS = {
  out: { type: 'string' },
  evaluate: { type: 'boolean' },
  data: { type: 'string' },
  'limit-test': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** `cnn-workbench import FILE` — open a Keras / TF.js model, print its summary, write its spec, evaluate it. */
export const command: CliCommand = {
  name: 'import',
  summary: 'open a Keras (.json, .keras) or TF.js (model.json) model as a spec; evaluate it with its weights',
  usage: USAGE,
  async run(args) {
    const { positionals, values } = parseFlags(args, FLAGS, USAGE, true);
    if (positionals.length !== 1) throw new UsageError(`expected one model file, received ${positionals.length}`, USAGE);
    const limitTest = intFlag('limit-test', values['limit-test'], 1);
    if ((values.data !== undefined || limitTest !== undefined) && values.evaluate !== true) throw new UsageError('--data and --limit-test go with --evaluate', USAGE);
    const file = positionals[0]!;
    const [core, imp, { writeFileAtomic }] = await Promise.all([import('../../core'), import('../../core/model/import'), import('../../core/fsutil')]);
    let opened;
    try {
      opened = await imp.openModelFile(file);
    } catch (err) {
      if (err instanceof imp.ModelImportError) throw new UsageError(err.message);
      throw err;
    }
    const notes = [...opened.warnings, ...(opened.weightsNote !== null ? [opened.weightsNote] : [])];
    const summary = core.summarizeSpec(opened.spec);
    process.stdout.write(`${file}: ${opened.format} (${opened.dialect}), ${opened.spec.config.layers.length} layers${opened.weights ? `, ${opened.weights.length} weight arrays read` : ''}\n`);
    process.stdout.write(core.formatSummary(summary, opened.spec.config.name) + '\n');
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    if (!summary.ok) return EXIT_USAGE;
    if (values.evaluate === true && opened.weights === null) throw new UsageError(`--evaluate: ${opened.weightsNote ?? `${file} holds no weights`}`);
    let evaluation = null;
    if (values.evaluate === true && opened.weights !== null) {
      await core.initBackend();
      let dataset;
      try {
        dataset = await core.loadDataset(values.data, { limitTest });
      } catch (err) {
        if (err instanceof core.DataError) throw new UsageError(`--data: ${err.message}`);
        throw err;
      }
      try {
        evaluation = await imp.evaluateImported(opened.spec, opened.weights, dataset, file);
      } catch (err) {
        if (err instanceof imp.ModelImportError) throw new UsageError(err.message);
        throw err;
      }
      process.stdout.write(`Evaluated with ${path.basename(file)}'s weights on ${dataset.info.name} (${dataset.test.count} test images): accuracy ${evaluation.testAccuracy.toFixed(4)}, loss ${evaluation.testLoss.toFixed(4)}\n`);
    }
    if (values.out !== undefined) {
      await writeFileAtomic(values.out, JSON.stringify(opened.spec, null, 2) + '\n');
      process.stdout.write(`Spec written to ${values.out}\n`);
    }
    if (values.json === true) {
      const ev = evaluation ? { testAccuracy: evaluation.testAccuracy, testLoss: evaluation.testLoss, testCount: evaluation.testCount } : null;
      process.stdout.write(JSON.stringify({ format: opened.format, dialect: opened.dialect, layers: opened.spec.config.layers.length, params: summary.totalParams, notes, evaluation: ev }) + '\n');
    }
    return 0;
  },
};
