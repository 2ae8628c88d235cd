/**
 * `runTraining`: the lesson's workflow headless — validate, build, train with Keras semantics (seeded split,
 * seeded per-epoch shuffle, EarlyStopping / ReduceLROnPlateau, cooperative stop and pause), evaluate on the
 * test set and write the run folder as it goes.
 *
 * A custom loop over `model.trainOnBatch` rather than `model.fit`: it gives per-batch control (stop, pause,
 * NaN detection, progress) and makes the shuffle explicit. trainOnBatch runs layers in training mode
 * (Dropout active, BatchNorm on batch statistics and updating its moving averages); validation and test go
 * through `model.predict` in inference mode.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, BatchProgress, EpochResult, RunStatus, TrainingFinished } from '../../shared/contract';
import type { Hyperparameters, ModelSpec, SpecIssue } from '../../shared/spec';
import { initBackend } from '../backend';
import { gatherBatch, mulberry32, shuffleInPlace, splitIndices, toTensors, type Dataset, type ImageSet } from '../data';
import { evaluateModel, lossAndAccuracy } from '../eval/predict';
import { buildModel, createOptimizer, parseSpec, SpecError, summarizeSpec } from '../model';
import { RunStore, type RunWriter } from '../runs/store';
import { CallbackList, callbacksFor, type EpochLogs } from './callbacks';
import { createFusedTrainer, type FusedPlan } from './fused';
import { ModelTrainerHandle } from './handle';
import { TrainControl, type TrainState } from './control';
import { validateHyperparameters } from './hyperparameters';

/** Everything one training run needs. */
export interface TrainJob {
  spec: ModelSpec;
  hyperparameters: Hyperparameters;
  dataset: Dataset;
  /** The runs folder; the run gets its own sub-folder. */
  runsDir: string;
  /** Use only the first N training / test images (recorded in run.json). */
  limitTrain?: number;
  limitTest?: number;
}

/** Progress callbacks, called on the training thread: keep them cheap (callers throttle batch progress). */
export interface TrainHooks {
  /** The run folder exists and training is about to start. */
  onStart?(runId: string, backend: BackendInfo): void;
  /** After every batch. `etaSeconds` is the time left in the current epoch, like Keras' progress bar. */
  onBatch?(p: BatchProgress): void;
  /** After every completed epoch (also written to history.jsonl). */
  onEpoch?(e: EpochResult): void;
  /** Human-readable lines: backend choice, early stopping, learning-rate reductions, weight restoring. */
  onLog?(line: string): void;
}

/** Training itself failed (e.g. the loss diverged). The run is marked 'failed' on disk with this message. */
export class TrainingError extends Error {
  override name = 'TrainingError';
  constructor(
    message: string,
    /** The run that failed, when its folder had been created. */
    readonly runId: string | null = null,
  ) {
    super(message);
  }
}

function specIssue(layerIndex: number | null, layerName: string | null, field: string, received: unknown, message: string): SpecIssue {
  return { severity: 'error', layerIndex, layerName, field, received: JSON.stringify(received), message };
}

/** The image set limited to its first `limit` images (a view: no copy). */
function limitSet(set: ImageSet, limit: number | undefined, flag: string): ImageSet {
  if (limit === undefined) return set;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`${flag} must be a positive integer, received ${limit}`);
  if (limit >= set.count) return set;
  const px = set.height * set.width * set.channels;
  return { ...set, count: limit, images: set.images.subarray(0, limit * px), labels: set.labels.subarray(0, limit) };
}

/** Checks that the model's input and output fit the dataset, naming the layer and both shapes when not. */
function checkModelFitsData(model: tf.LayersModel, spec: ModelSpec, dataset: Dataset): void {
  const issues: SpecIssue[] = [];
  const inShape = model.inputs[0]!.shape.slice(1);
  const [h, w, c] = dataset.info.imageShape;
  if (inShape.length !== 3 || inShape[0] !== h || inShape[1] !== w || inShape[2] !== c) {
    const first = spec.config.layers[0];
    const name = String(first?.config.name ?? model.layers[0]?.name ?? 'input');
    issues.push(
      specIssue(0, name, 'shape', inShape, `Layer 0 '${name}': the model takes images of shape [${inShape.join(', ')}] but ${dataset.info.name} has [${h}, ${w}, ${c}]`),
    );
  }
  const outShape = model.outputs[0]!.shape;
  const k = dataset.info.classNames.length;
  if (outShape.length !== 2 || outShape[1] !== k) {
    const last = spec.config.layers.length - 1;
    const name = model.layers[model.layers.length - 1]!.name;
    issues.push(
      specIssue(last, name, 'units', outShape.slice(1), `Layer ${last} '${name}': the model outputs shape [${outShape.slice(1).join(', ')}] but ${dataset.info.name} has ${k} classes (expected [${k}])`),
    );
  }
  if (issues.length > 0) throw new SpecError(issues, `The model does not fit the dataset ${dataset.info.id}`);
}

/**
 * tfjs cannot compute gradients of dilated convolutions ("dilation rates greater than 1 are not yet supported in
 * gradients"); the fused native step can. Where the fused step is not used, such a layer is refused up front,
 * named, instead of failing at the first batch with tfjs' message.
 */
function checkDifferentiable(model: tf.LayersModel, spec: ModelSpec, fusedReason: string): void {
  const issues: SpecIssue[] = [];
  spec.config.layers.forEach((layer, i) => {
    const d = layer.config.dilation_rate;
    const rates = Array.isArray(d) ? d : [d ?? 1];
    if (!['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D'].includes(layer.class_name) || rates.every((r) => r === 1)) return;
    const name = model.layers[i]?.name ?? String(layer.config.name);
    issues.push(
      specIssue(i, name, 'dilation_rate', d, `Layer ${i} '${name}': dilation_rate ${JSON.stringify(d)} trains only on the native backend's fused step (tfjs cannot compute the gradients of dilated convolutions), which is not used here: ${fusedReason}`),
    );
  });
  if (issues.length > 0) throw new SpecError(issues, 'The model cannot be trained here');
}

/** True when every weight of `model` is finite (a sum over all of them is NaN/Inf otherwise, or overflows only when diverging anyway). */
async function weightsAreFinite(model: tf.LayersModel): Promise<boolean> {
  const total = tf.tidy(() => tf.addN(model.trainableWeights.map((w) => tf.sum(w.read()))));
  const [v] = await total.data();
  total.dispose();
  return Number.isFinite(v);
}

/**
 * Trains `job.spec` on `job.dataset` and evaluates it on the test set, writing the run folder as it goes.
 *
 * Validation happens before anything is written: a bad spec throws `SpecError`, bad hyperparameters
 * `HyperparameterError`, a model that does not fit the data `SpecError` — and no run folder exists.
 * Once the folder exists, any failure marks the run 'failed' on disk with its reason; a diverging loss
 * throws `TrainingError` ("loss became NaN at epoch 3, batch 17; …").
 * Resolves with status 'completed', 'early_stopped' (EarlyStopping) or 'stopped' (`control.stop()`).
 */
export async function runTraining(job: TrainJob, hooks: TrainHooks = {}, control: TrainControl = new TrainControl()): Promise<TrainingFinished> {
  // ---- validate everything before writing anything
  const h = validateHyperparameters(job.hyperparameters);
  const spec = parseSpec(job.spec);
  const summary = summarizeSpec(spec);
  if (!summary.ok) throw new SpecError(summary.issues);
  const train = limitSet(job.dataset.train, job.limitTrain, 'limitTrain');
  const test = limitSet(job.dataset.test, job.limitTest, 'limitTest');
  const classNames = job.dataset.info.classNames;
  const k = classNames.length;
  const split = splitIndices(train.count, h.validation_split, h.seed);
  if (split.train.length === 0) throw new RangeError(`no training images left: ${train.count} image(s) with validation_split ${h.validation_split}`);

  let backend = await initBackend();
  const model = buildModel(spec, h.seed);
  let optimizer: tf.Optimizer | null = null;
  let writer: RunWriter | null = null;
  let callbacks: CallbackList | null = null;
  let fused: FusedPlan | null = null;
  try {
    checkModelFitsData(model, spec, job.dataset);
    optimizer = createOptimizer(h.optimizer);
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    // The whole step in one native call when the backend and the model allow it (the tfjs model stays the
    // source of truth between epochs); otherwise tfjs layers' trainOnBatch.
    fused = createFusedTrainer(model, h.optimizer, h.seed, h.batch_size, backend);
    if (!fused.ok) checkDifferentiable(model, spec, fused.reason);
    backend = { ...backend, description: `${backend.description}; ${fused.ok ? fused.trainer.description : `tfjs layers training step (${fused.reason})`}` };

    // ---- the run folder exists from here on
    writer = await new RunStore(job.runsDir).create({
      spec,
      hyperparameters: h,
      params: summary.totalParams,
      backend,
      dataset: job.dataset.info,
      dataSource: job.dataset.source ? { path: job.dataset.source, fingerprint: job.dataset.info.fingerprint } : null,
      limits: { train: job.limitTrain ?? null, test: job.limitTest ?? null },
      counts: { train: split.train.length, validation: split.validation.length, test: test.count },
    });
    const runId = writer.id;
    // Lines the callbacks log at an epoch end are held until that epoch's result is out, so they read in
    // Keras' order: "Epoch 11/50 - … val_loss …" then "Epoch 11: ReduceLROnPlateau reducing learning rate …".
    let held: string[] | null = null;
    const log = (line: string) => (held ? held.push(line) : hooks.onLog?.(line));
    hooks.onStart?.(runId, backend);
    const trainingStep = fused.ok ? fused.trainer.description : `tfjs layers trainOnBatch (${fused.reason})`;
    hooks.onLog?.(`Training step: ${trainingStep}`);

    const handle = new ModelTrainerHandle(model, log);
    const { list, earlyStopping } = callbacksFor(h);
    callbacks = new CallbackList(list);
    callbacks.setTrainer(handle);
    await callbacks.onTrainBegin();

    // Its own stream, not the split's: the shuffles do not depend on how many numbers the split drew.
    const rng = mulberry32((h.seed ^ 0x5eed5eed) >>> 0);
    const order = Int32Array.from(split.train);
    const n = order.length;
    const batchesPerEpoch = Math.ceil(n / h.batch_size);
    const batchX = fused.ok ? new Float32Array(h.batch_size * train.height * train.width * train.channels) : null;
    const batchLabels = fused.ok ? new Int32Array(h.batch_size) : null;
    const trainStart = performance.now();
    let pausedMs = 0;
    let steps = 0;
    let epochsRun = 0;
    let lastTrainAccuracy: number | null = null;
    let userStopped = false;
    // A function, not the property: TypeScript would otherwise narrow `control.state` across awaits.
    const stateOf = (): TrainState => control.state;

    for (let epoch = 0; epoch < h.epochs && !userStopped; epoch++) {
      if (stateOf() === 'stopping') {
        // Stop requested during the last epoch's validation: do not start another epoch.
        userStopped = true;
        log(`Stopped by request before epoch ${epoch + 1}.`);
        break;
      }
      await callbacks.onEpochBegin(epoch);
      shuffleInPlace(order, rng);
      const epochStart = performance.now();
      const epochPausedBefore = pausedMs;
      const lr = handle.getLearningRate();
      // Callbacks may have changed the model's weights since the last epoch: the trainer starts from them.
      if (fused.ok) fused.trainer.pullFromModel();
      let lossSum = 0;
      let accSum = 0;
      let seen = 0;
      let completed = true;
      for (let b = 0; b < batchesPerEpoch; b++) {
        await callbacks.onBatchBegin(b);
        const idx = order.subarray(b * h.batch_size, Math.min(n, (b + 1) * h.batch_size));
        let loss: number;
        let acc: number;
        let finite = true;
        if (fused.ok) {
          gatherBatch(train, idx, k, batchX!, batchLabels!);
          ({ loss, accuracy: acc, finite } = fused.trainer.step(batchX!, batchLabels!, idx.length, lr));
        } else {
          const { x, y } = toTensors(train, idx, k);
          let out: number | number[];
          try {
            out = await model.trainOnBatch(x, y);
          } finally {
            x.dispose();
            y.dispose();
          }
          [loss, acc] = (Array.isArray(out) ? out : [out, NaN]) as [number, number];
        }
        steps++;
        if (!Number.isFinite(loss)) {
          throw new TrainingError(
            `loss became ${Number.isNaN(loss) ? 'NaN' : loss} at epoch ${epoch + 1}, batch ${b + 1}; try a lower learning rate (it was ${lr})`,
            runId,
          );
        }
        // tfjs clips probabilities inside the loss, so diverged (Inf/NaN) weights can still report a finite
        // loss (-log 1e-7 ≈ 16.1): check the weights themselves too. One reduction per batch, cheap next to a step.
        if (!(fused.ok ? finite : await weightsAreFinite(model))) {
          throw new TrainingError(
            `the weights became NaN or infinite at epoch ${epoch + 1}, batch ${b + 1} (loss ${loss.toFixed(4)}); the training diverged: try a lower learning rate (it was ${lr})`,
            runId,
          );
        }
        lossSum += loss * idx.length;
        accSum += acc * idx.length;
        seen += idx.length;
        await callbacks.onBatchEnd(b, { loss: lossSum / seen, accuracy: accSum / seen, size: idx.length });
        const now = performance.now();
        const epochSec = (now - epochStart - (pausedMs - epochPausedBefore)) / 1000;
        const perBatch = epochSec / (b + 1);
        hooks.onBatch?.({
          runId,
          epoch: epoch + 1,
          epochs: h.epochs,
          batch: b + 1,
          batchesPerEpoch,
          loss: lossSum / seen,
          accuracy: accSum / seen,
          learningRate: lr,
          imagesPerSec: epochSec > 0 ? seen / epochSec : 0,
          etaSeconds: perBatch * (batchesPerEpoch - b - 1),
          elapsedSeconds: (now - trainStart - pausedMs) / 1000,
          trainingStep,
        });
        // trainOnBatch settles in microtasks, so without one macrotask turn per batch a signal handler (Ctrl-C in
        // the CLI) or a message port could not call control.stop() until the epoch ends. Costs microseconds.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (stateOf() === 'paused') {
          const t0 = performance.now();
          await writer.setStatus('paused');
          log('Paused.');
          await control.waitWhilePaused();
          pausedMs += performance.now() - t0;
          if (stateOf() !== 'stopping') {
            await writer.setStatus('running');
            log('Resumed.');
          }
        }
        if (stateOf() === 'stopping') {
          userStopped = true;
          // A partial epoch has no validation metrics to compare, so it is not recorded: the best
          // completed epoch is what restore_best_weights brings back.
          if (b < batchesPerEpoch - 1) completed = false;
          log(`Stopped by request after batch ${b + 1}/${batchesPerEpoch} of epoch ${epoch + 1}.`);
          break;
        }
      }
      if (fused.ok) fused.trainer.pushToModel();
      if (!completed) break;
      const trainSec = (performance.now() - epochStart - (pausedMs - epochPausedBefore)) / 1000;
      const logs: EpochLogs = { loss: lossSum / seen, accuracy: accSum / seen, learning_rate: lr };
      if (split.validation.length > 0) {
        const v = await lossAndAccuracy(model, train, split.validation, classNames);
        logs.val_loss = v.loss;
        logs.val_accuracy = v.accuracy;
      }
      held = [];
      await callbacks.onEpochEnd(epoch, logs);
      const result: EpochResult = {
        runId,
        epoch: epoch + 1,
        loss: logs.loss!,
        accuracy: logs.accuracy!,
        val_loss: logs.val_loss ?? null,
        val_accuracy: logs.val_accuracy ?? null,
        learningRate: lr,
        durationSeconds: (performance.now() - epochStart - (pausedMs - epochPausedBefore)) / 1000,
        imagesPerSec: trainSec > 0 ? seen / trainSec : 0,
        events: handle.takeEvents(),
      };
      epochsRun++;
      lastTrainAccuracy = result.accuracy;
      await writer.appendEpoch(result);
      hooks.onEpoch?.(result);
      const lines: string[] = held;
      held = null;
      for (const line of lines) log(line);
      if (handle.stopTraining) break;
    }

    await callbacks.onTrainEnd(); // EarlyStopping puts the best weights back here
    const status: Exclude<RunStatus, 'running' | 'paused' | 'failed'> = userStopped
      ? 'stopped'
      : earlyStopping && earlyStopping.stoppedEpoch > 0
        ? 'early_stopped'
        : 'completed';
    const bestEpoch = earlyStopping && earlyStopping.bestValue !== null ? earlyStopping.bestEpoch + 1 : null;

    const evaluation = await evaluateModel(model, test, classNames, { spec, steps, lastTrainAccuracy });
    await writer.writeEvaluation(evaluation);
    await writer.saveModel(model);
    await writer.finish(status, bestEpoch);
    return { runId, status, epochsRun, bestEpoch, evaluation };
  } catch (err) {
    if (writer) {
      const e = err instanceof Error ? err : new Error(String(err));
      await writer.fail({ name: e.name, message: e.message });
      if (!(err instanceof TrainingError) && e.name === 'Error') {
        // Unexpected failures still say which run they broke.
        throw new TrainingError(`run ${writer.id} failed: ${e.message}`, writer.id);
      }
    }
    throw err;
  } finally {
    if (fused?.ok) fused.trainer.dispose();
    callbacks?.dispose();
    model.dispose();
    optimizer?.dispose();
  }
}
