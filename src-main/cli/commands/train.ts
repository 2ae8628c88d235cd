import path from 'node:path';
import type { Dataset } from '../../core';
import { defaultRunsDir } from '../../core/paths';
import { HyperparameterError, validateHyperparameters } from '../../core/train/hyperparameters';
import type { BatchProgress, EpochResult, Evaluation } from '../../shared/contract';
import { DTYPE_POLICIES, isDtypePolicy, LESSON_HYPERPARAMETERS, type Hyperparameters } from '../../shared/spec';
import type { ResumableRun } from '../../core/runs/resume';
import type { DatasetInfo } from '../../shared/contract';
import type { AnyModelSpec } from '../../shared/spec';
import type { TrainJob } from '../../core/train/train';
import { EXIT_FAILURE, UsageError, type CliCommand } from '../command';
import { colorModeFlag, formatSeconds, imageSizeFlag, intFlag, parseFlags, positiveFloatFlag, resolveRunDir, table } from '../util';

/** Where a run's data came from, as `loadDataset` takes it: the built-in ids by id, anything else by its path. */
function resumeSource(info: DatasetInfo): string {
  return info.id === 'fashion-mnist' || info.id === 'mnist' ? info.id : info.location;
}

const USAGE = `Usage: cnn-workbench train [options]

Trains a model with the lesson's hyperparameters (Adam 1e-3, batch 128, 50 epochs, 10% validation split with
seed 123, EarlyStopping on val_accuracy with patience 5 and restored best weights, ReduceLROnPlateau on
val_loss: factor 0.5, patience 2, min_lr 1e-5), evaluates it on the test set and saves the run.

Options:
  --spec FILE          model spec JSON, or a template id (lesson-cnn, small-cnn, lenet5, small-mlp,
                       small-resnet, inception-blocks); default lesson-cnn; or a Keras model.to_json() file, a
                       .keras archive or a TF.js model.json (whose weights the run starts from: fine-tuning)
  --epochs N           maximum epochs (default 50)
  --batch-size N       images per batch (default 128)
  --lr X               Adam learning rate (default 0.001)
  --seed N             seeds the split, the initial weights and the shuffles (default 123)
  --dtype-policy P     float32 (default) or mixed_bfloat16 (Keras' policy: convolutions compute in bfloat16
                       on CPUs with bfloat16 instructions, ~1.4x faster training here; weights stay float32)
  --data DIR|FILE.csv  a folder with the four IDX files, a folder of class subfolders of PNG/JPEG images
                       (Keras' image_dataset_from_directory layout, optionally under train/ and test/; else
                       a fifth of each class is held out as test, seeded), or a Kaggle-style CSV
                       (default: Fashion-MNIST)
  --image-size HxW     image folders: resize every image to HxW (default: the folder's most common size)
  --color-mode MODE    image folders: grayscale or rgb (default: the model's input channels)
  --limit-train N      use only the first N training images
  --limit-test N       use only the first N test images
  --runs-dir DIR       where the run folder is written (default ${defaultRunsDir()})
  --resume RUN         continue a failed or stopped run (an id in --runs-dir, or its folder) from its last
                       checkpoint, with its own spec, hyperparameters and data; ends as if never interrupted
  --strict             treat the spec's warnings (e.g. an unknown field such as "stride") as errors, and
                       refuse an image folder holding an unreadable image (else skipped and listed)
  --memory-budget SIZE refuse a model that needs more to train (bytes, 512M, 4G or 60%; default half the
                       physical memory, or CNN_WORKBENCH_MEMORY_BUDGET)
  --json               end with one JSON line: runDir, backend, testAccuracy, testLoss, confusionMatrix, epochs
  -h, --help           this text

Every epoch is checkpointed. A run that diverges (NaN, a loss stuck at its ceiling, accuracy at chance for 3
epochs) ends 'diverged' with its best epoch's weights evaluated and saved, exit code 1.
Ctrl-C once stops after the current batch (best weights restored, model evaluated and saved as 'stopped').`;

const FLAGS = {
  spec: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  'dtype-policy': { type: 'string' },
  data: { type: 'string' },
  'image-size': { type: 'string' },
  'color-mode': { type: 'string' },
  'limit-train': { type: 'string' },
  'limit-test': { type: 'string' },
  'runs-dir': { type: 'string' },
  resume: { type: 'string' },
  strict: { type: 'boolean' },
  'memory-budget': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Flags that describe a new run: a resumed run takes them from its folder, so they are refused with --resume. */
const NEW_RUN_FLAGS = ['spec', 'epochs', 'batch-size', 'lr', 'seed', 'dtype-policy', 'limit-train', 'limit-test'] as const;

const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

/** Keras' verbose=2 epoch line. */
export function epochLine(e: EpochResult, epochs: number): string {
  const parts = [`Epoch ${e.epoch}/${epochs}`, formatSeconds(e.durationSeconds), `loss: ${fmt(e.loss)}`, `accuracy: ${fmt(e.accuracy)}`];
  if (e.val_loss !== null) parts.push(`val_loss: ${fmt(e.val_loss)}`, `val_accuracy: ${fmt(e.val_accuracy)}`);
  parts.push(`learning_rate: ${Number(e.learningRate.toPrecision(6))}`);
  return parts.join(' - ');
}

/** A one-line progress bar for a TTY. */
function progressLine(p: BatchProgress, width: number): string {
  const barWidth = 24;
  const done = Math.round((p.batch / p.batchesPerEpoch) * barWidth);
  const bar = '='.repeat(Math.max(0, done - 1)) + (done > 0 ? (p.batch === p.batchesPerEpoch ? '=' : '>') : '') + '.'.repeat(barWidth - done);
  const line =
    `${String(p.batch).padStart(String(p.batchesPerEpoch).length)}/${p.batchesPerEpoch} [${bar}] ` +
    `${Math.round(p.imagesPerSec)} img/s - ETA ${formatSeconds(p.etaSeconds)} - loss: ${p.loss.toFixed(4)} - accuracy: ${p.accuracy.toFixed(4)}`;
  return line.slice(0, Math.max(20, width - 1));
}

/** The confusion matrix with class names, rows truth and columns predicted (as the lesson prints it). */
export function confusionTable(ev: Evaluation): string {
  const k = ev.classNames.length;
  const header = ['truth \\ pred', ...Array.from({ length: k }, (_, j) => String(j))];
  const rows = ev.confusionMatrix.map((row, i) => [`${i} ${ev.classNames[i]}`, ...row.map(String)]);
  return table([header, ...rows]);
}

/** Per-class precision, recall, F1, support, then the macro averages. */
export function perClassTable(ev: Evaluation): string {
  const rows = [['class', 'precision', 'recall', 'f1', 'support']];
  ev.perClass.forEach((c, i) => rows.push([`${i} ${ev.classNames[i]}`, c.precision.toFixed(4), c.recall.toFixed(4), c.f1.toFixed(4), String(c.support)]));
  rows.push(['macro avg', ev.macro.precision.toFixed(4), ev.macro.recall.toFixed(4), ev.macro.f1.toFixed(4), String(ev.testCount)]);
  return table(rows);
}

/** `cnn-workbench train`. */
export const command: CliCommand = {
  name: 'train',
  summary: 'train a model on Fashion-MNIST (or --data), evaluate it on the test set and save the run',
  usage: USAGE,
  async run(args) {
    const { values } = parseFlags(args, FLAGS, USAGE);
    // ---- every flag, the spec, the hyperparameters and the data are checked before a run folder exists
    const epochs = intFlag('epochs', values.epochs, 1);
    const batchSize = intFlag('batch-size', values['batch-size'], 1);
    const lr = positiveFloatFlag('lr', values.lr);
    const seed = intFlag('seed', values.seed, 0);
    const dtypePolicy = values['dtype-policy'];
    if (dtypePolicy !== undefined && !isDtypePolicy(dtypePolicy)) {
      throw new UsageError(`--dtype-policy must be one of ${DTYPE_POLICIES.join(', ')}, received '${dtypePolicy}'`);
    }
    let limitTrain = intFlag('limit-train', values['limit-train'], 1);
    let limitTest = intFlag('limit-test', values['limit-test'], 1);
    const json = values.json === true;
    const imageSize = imageSizeFlag('image-size', values['image-size']);
    const colorMode = colorModeFlag('color-mode', values['color-mode']);
    const runsDir = path.resolve(values['runs-dir'] ?? defaultRunsDir());
    if (values.resume !== undefined) {
      const clash = NEW_RUN_FLAGS.filter((f) => values[f] !== undefined);
      if (clash.length > 0) throw new UsageError(`--resume continues a run with its own settings: drop ${clash.map((f) => `--${f}`).join(', ')}`);
    }

    const base = structuredClone(LESSON_HYPERPARAMETERS);
    let h: Hyperparameters = {
      ...base,
      epochs: epochs ?? base.epochs,
      batch_size: batchSize ?? base.batch_size,
      seed: seed ?? base.seed,
      optimizer: lr === undefined ? base.optimizer : { ...base.optimizer, config: { ...base.optimizer.config, learning_rate: lr } },
      ...(dtypePolicy === undefined ? {} : { dtype_policy: dtypePolicy }),
    };
    try {
      validateHyperparameters(h);
    } catch (err) {
      if (err instanceof HyperparameterError) throw new UsageError(err.message);
      throw err;
    }

    // Flags are fine: now pay for loading the core (tfjs) — a typo above is reported without that wait.
    const core = await import('../../core');
    const { DataError, initBackend, loadDataset, RUN_FILES, runTraining, SpecError, TrainControl, TrainingError } = core;
    let budget: number | undefined;
    try {
      budget = values['memory-budget'] === undefined ? undefined : core.parseBudget(values['memory-budget']);
    } catch (err) {
      throw new UsageError(`--memory-budget: ${(err as Error).message}`);
    }
    let resume: ResumableRun | undefined;
    let spec: AnyModelSpec;
    let initialWeights: TrainJob['initialWeights'];
    let specName = values.spec ?? 'lesson-cnn';
    if (values.resume !== undefined) {
      const dir = resolveRunDir(values.resume, runsDir, USAGE);
      try {
        resume = await core.loadResumableRun(path.dirname(dir), path.basename(dir));
      } catch (err) {
        if (err instanceof core.ResumeError || err instanceof core.RunNotFoundError || err instanceof core.CheckpointError) {
          throw new UsageError(`--resume ${values.resume}: ${err.message}`);
        }
        throw err;
      }
      spec = resume.spec;
      h = resume.hyperparameters;
      specName = path.join(dir, RUN_FILES.spec);
      limitTrain = resume.record.limits.train ?? undefined;
      limitTest = resume.record.limits.test ?? undefined;
    } else {
      const { readModelSource } = await import('../spec-file');
      const opened = await readModelSource(specName);
      for (const note of opened.notes) process.stderr.write(`note: ${note}\n`);
      spec = opened.spec;
      if (opened.weights) initialWeights = { source: specName, weights: opened.weights };
    }
    const out = (line: string) => process.stdout.write(line + '\n');
    // What `summary` shows, shown at train time too (a typo such as "stride": 2 would otherwise train silently
    // with stride 1); --strict makes them errors.
    const warnings = core.summarizeSpec(spec).issues.filter((i) => i.severity === 'warning');
    if (warnings.length > 0 && values.strict === true) {
      throw new UsageError(`--spec ${specName}: ${warnings.length} warning(s), refused by --strict:\n${warnings.map((w) => `  - ${w.message}`).join('\n')}`);
    }
    for (const w of warnings) process.stderr.write(`Warning: ${w.message}\n`);
    const backend = await initBackend();
    out(`Backend: ${backend.name} — ${backend.description}${backend.reason ? ` (${backend.reason})` : ''}`);

    // A resumed run trains on the data it started with: its recorded source, unless --data points elsewhere.
    const source = values.data ?? (resume ? resumeSource(resume.record.dataset) : undefined);
    let dataset: Dataset;
    // An image folder is read as the model takes it (its channels, unless --color-mode says); a resumed run
    // reads it as it did the first time (the recorded image shape).
    const recordedShape = values.data === undefined && resume ? resume.record.dataset.imageShape : undefined;
    const images = {
      imageSize: imageSize ?? (recordedShape ? ([recordedShape[0], recordedShape[1]] as [number, number]) : undefined),
      colorMode: colorMode ?? (recordedShape ? (recordedShape[2] === 3 ? ('rgb' as const) : ('grayscale' as const)) : undefined),
      modelChannels: core.modelInputShape(spec)?.[2],
      strict: values.strict === true,
    };
    try {
      dataset = await loadDataset(source, { limitTrain, limitTest, images });
    } catch (err) {
      if (err instanceof DataError) {
        // DataError messages already name the file; name the flag too, and its value only when they don't.
        const flag = values.data === undefined && resume ? '--resume' : '--data';
        const named = source === undefined || err.message.includes(path.resolve(source)) || err.message.includes(source);
        throw new UsageError(`${flag}${named ? '' : ` ${source}`}: ${err.message}`);
      }
      throw err;
    }
    if ((imageSize || colorMode) && dataset.info.format !== 'images') {
      throw new UsageError(
        `${imageSize ? '--image-size' : '--color-mode'} applies to image folders; ${dataset.info.location} is ${dataset.info.format.toUpperCase()} data, whose size and channels are fixed by its files`,
      );
    }
    if (resume && dataset.info.fingerprint !== resume.record.dataset.fingerprint) {
      throw new UsageError(
        `--resume ${values.resume}: the data at ${dataset.info.location} is not the data the run started with (fingerprint ${dataset.info.fingerprint.slice(0, 12)}…, the run's ${resume.record.dataset.fingerprint.slice(0, 12)}…); a resumed run must see the same images`,
      );
    }
    out(
      `Data: ${dataset.info.name} (${dataset.info.location}): ${dataset.train.count} training images` +
        `${limitTrain ? ` (--limit-train ${limitTrain})` : ''}, ${dataset.test.count} test images${limitTest ? ` (--limit-test ${limitTest})` : ''}`,
    );
    const folder = dataset.info.imageFolder;
    if (folder) {
      const [ih, iw, ic] = dataset.info.imageShape;
      const split = folder.split.kind === 'folders' ? 'train/ and test/ folders' : `a fifth of each class held out as test (seed ${folder.split.seed})`;
      out(`Images: ${dataset.info.classNames.length} classes (${dataset.info.classNames.join(', ')}), ${ih}×${iw} ${folder.colorMode === 'rgb' ? 'RGB' : 'grayscale'} (${ic} channel${ic === 1 ? '' : 's'}), ${split}`);
      for (const note of folder.notes) out(`Note: ${note}`);
      const want = core.modelInputShape(spec);
      if (want && (want[0] !== ih || want[1] !== iw || want[2] !== ic)) {
        const mode = want[2] === 3 ? 'rgb' : want[2] === 1 ? 'grayscale' : null;
        throw new UsageError(
          `--spec ${specName}: the model takes ${want.join('×')} images but ${dataset.info.location} was read as ${ih}×${iw}×${ic}: ` +
            `pass --image-size ${want[0]}x${want[1]}${mode && want[2] !== ic ? ` --color-mode ${mode}` : ''}, or give the model the input shape [${ih}, ${iw}, ${ic}]`,
        );
      }
    }

    const tty = process.stdout.isTTY === true && !json;
    const control = new TrainControl();
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write('\nStopping after the current batch (Ctrl-C again to abort without saving)...\n');
        control.stop();
      } else {
        process.exit(130);
      }
    };
    process.on('SIGINT', onSigint);
    let lastDraw = 0;
    let barShown = false;
    const clearBar = () => {
      if (barShown) process.stdout.write('\r\x1b[2K');
      barShown = false;
    };
    let runDir = '';
    const started = performance.now();
    let finished;
    try {
      finished = await runTraining(
        { spec, hyperparameters: h, dataset, runsDir, limitTrain, limitTest, resume, memoryBudget: budget, initialWeights },
        {
          onStart: (runId) => {
            runDir = path.join(runsDir, runId);
            out(`${resume ? 'Resuming run' : 'Run'}: ${runDir}`);
            out(`Model: ${spec.config.name} - ${h.epochs} epoch(s), batch ${h.batch_size}, ${h.optimizer.class_name} lr ${h.optimizer.config.learning_rate}, seed ${h.seed}`);
          },
          onBatch: (p) => {
            if (!tty) return;
            const now = performance.now();
            if (now - lastDraw < 100 && p.batch < p.batchesPerEpoch) return;
            lastDraw = now;
            process.stdout.write(`\r\x1b[2KEpoch ${p.epoch}/${p.epochs} ${progressLine(p, (process.stdout.columns || 120) - 12)}`);
            barShown = true;
          },
          onEpoch: (e) => {
            clearBar();
            out(epochLine(e, h.epochs));
          },
          onLog: (line) => {
            clearBar();
            out(line);
          },
        },
        control,
      );
    } catch (err) {
      clearBar();
      if (err instanceof SpecError) throw new UsageError(`--spec ${specName}: ${err.message}`);
      if (err instanceof core.MemoryBudgetError) throw new UsageError(`--spec ${specName}: ${err.message}`);
      if (err instanceof HyperparameterError) throw new UsageError(err.message);
      // Before the run folder exists, a range problem comes from the limits given (e.g. --limit-train 1).
      if (err instanceof RangeError && !runDir) throw new UsageError(err.message);
      if (err instanceof TrainingError) {
        process.stderr.write(`cnn-workbench train: ${err.message}\n`);
        if (runDir) process.stderr.write(`The run is marked failed in ${runDir}\n`);
        return EXIT_FAILURE;
      }
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
    }

    const ev = finished.evaluation;
    const seconds = (performance.now() - started) / 1000;
    out('');
    out(
      `Finished: ${finished.status} after ${finished.epochsRun} epoch(s) in ${formatSeconds(seconds)}` +
        (finished.bestEpoch !== null && finished.status !== 'diverged' ? `; weights of epoch ${finished.bestEpoch} (best ${h.early_stopping?.monitor})` : ''),
    );
    if (finished.message) process.stderr.write(`cnn-workbench train: ${finished.message}\n`);
    out(`Test loss: ${ev.testLoss.toFixed(4)} - test accuracy: ${ev.testAccuracy.toFixed(4)} (${ev.testCount} test images)`);
    for (const note of ev.notes) out(`Note: ${note}`);
    out('');
    out('Confusion matrix (rows: truth, columns: predicted):');
    out(confusionTable(ev));
    out('');
    out(perClassTable(ev));
    if (ev.confusedPairs.length > 0) {
      const top = ev.confusedPairs.slice(0, 3).map((p) => `${ev.classNames[p.truth]} → ${ev.classNames[p.predicted]} (${p.count})`);
      out(`Most confused: ${top.join(', ')}`);
    }
    out(`Saved: ${runDir} (${Object.values(RUN_FILES).join(', ')})`);
    if (json) {
      out(
        JSON.stringify({
          runDir,
          backend: backend.name,
          testAccuracy: ev.testAccuracy,
          testLoss: ev.testLoss,
          confusionMatrix: ev.confusionMatrix,
          epochs: finished.epochsRun,
          status: finished.status,
          seconds: Number(seconds.toFixed(1)),
        }),
      );
    }
    // A diverged run is saved (its best epoch) but did not train: the shell should know.
    return finished.status === 'diverged' ? EXIT_FAILURE : 0;
  },
};
