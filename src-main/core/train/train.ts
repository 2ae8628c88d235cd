/**
 * `runTraining`: the lesson's workflow headless — validate, build, train with Keras semantics (seeded split,
 * seeded per-epoch shuffle, EarlyStopping / ReduceLROnPlateau, cooperative stop and pause), evaluate on the
 * test set and write the run folder as it goes.
 *
 * Shaped like Keras' `fit`: a loop over epochs and batches that calls a training step (`./step`: the fused
 * native step or tfjs layers' trainOnBatch, chosen once) and a callback list, and stops cooperatively. A custom
 * loop rather than `model.fit`: it gives per-batch control (stop, pause, divergence, progress) and makes the
 * shuffle explicit. Validation and test go through `model.predict` in inference mode.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, BatchProgress, EpochResult, TrainingFinished } from '../../shared/contract';
import { DEFAULT_DIVERGENCE, type Hyperparameters, type AnyModelSpec, type SpecIssue } from '../../shared/spec';
import { initBackend } from '../backend';
import { mulberry32, shuffleInPlace, splitIndices, type Dataset, type ImageSet } from '../data';
import { evaluateModel, lossAndAccuracy } from '../eval/predict';
import { buildModel, createOptimizer, parseSpec, SpecError, summarizeSpec } from '../model';
import { checkMemory, estimateMemory, memoryBudget, optimizerSlots } from '../model/memory';
import type { ImportedWeight } from '../model/import/open';
import { applyImportedWeights } from '../model/import/weights';
import { removeCheckpoint, writeCheckpoint, type Checkpoint, type CheckpointArray } from '../runs/checkpoint';
import { reopenRun, type ResumableRun } from '../runs/resume';
import { RunStore, type RunWriter } from '../runs/store';
import { CallbackList, callbacksFor, resolveMode, type CallbackState, type EpochLogs } from './callbacks';
import { TerminateOnDivergence } from './divergence';
import { ModelTrainerHandle } from './handle';
import { TrainControl, type TrainState } from './control';
import { validateHyperparameters } from './hyperparameters';
import { createTrainStep, type TrainStep } from './step';
import { RandomLayer } from '../model/tfjs-layers/augmentation';

/** Everything one training run needs. */
export interface TrainJob {
  spec: AnyModelSpec;
  hyperparameters: Hyperparameters;
  dataset: Dataset;
  /** The runs folder; the run gets its own sub-folder. */
  runsDir: string;
  /** Use only the first N training / test images (recorded in run.json). */
  limitTrain?: number;
  limitTest?: number;
  /** Continue this run (same folder and id) from its checkpoint instead of starting a new one. */
  resume?: ResumableRun;
  /** Bytes training may plan for; default `memoryBudget()` (CNN_WORKBENCH_MEMORY_BUDGET, else half the memory). */
  memoryBudget?: number;
  /** Start from these weights (an opened Keras / TF.js model: fine-tuning) instead of the seeded initializers. */
  initialWeights?: { source: string; weights: ImportedWeight[] };
  /**
   * No epochs: `initialWeights` as they are, scored on the test set and saved, so Results, Inside and export work
   * on a model trained elsewhere. The run is 'completed' with 0 epochs.
   */
  evaluateOnly?: boolean;
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

/** Training itself failed (e.g. the loss was NaN before any epoch finished). The run is marked 'failed' on disk with this message. */
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
function checkModelFitsData(model: tf.LayersModel, spec: AnyModelSpec, dataset: Dataset): void {
  const issues: SpecIssue[] = [];
  // A graph's input and output layers are wherever the spec lists them: find them by name.
  const indexOf = (name: string, fallback: number) => {
    const i = spec.config.layers.findIndex((l) => l.config.name === name);
    return i >= 0 ? i : fallback;
  };
  const inShape = model.inputs[0]!.shape.slice(1);
  const [h, w, c] = dataset.info.imageShape;
  if (inShape.length !== 3 || inShape[0] !== h || inShape[1] !== w || inShape[2] !== c) {
    const name = model.inputLayers[0]?.name ?? String(spec.config.layers[0]?.config.name ?? 'input');
    const first = indexOf(name, 0);
    issues.push(
      specIssue(first, name, 'shape', inShape, `Layer ${first} '${name}': the model takes images of shape [${inShape.join(', ')}] but ${dataset.info.name} has [${h}, ${w}, ${c}]`),
    );
  }
  const outShape = model.outputs[0]!.shape;
  const k = dataset.info.classNames.length;
  if (outShape.length !== 2 || outShape[1] !== k) {
    const name = model.outputLayers[0]?.name ?? model.layers[model.layers.length - 1]!.name;
    const last = indexOf(name, spec.config.layers.length - 1);
    issues.push(
      specIssue(last, name, 'units', outShape.slice(1), `Layer ${last} '${name}': the model outputs shape [${outShape.slice(1).join(', ')}] but ${dataset.info.name} has ${k} classes (expected [${k}])`),
    );
  }
  if (issues.length > 0) throw new SpecError(issues, `The model does not fit the dataset ${dataset.info.id}`);
}

/** Keras' `validation_data` metrics for an epoch end: the one place validation runs (inference mode), under the run's
 *  dtype policy as Keras' fit validates. (The final test evaluation is float32: a run's reported accuracy does not
 *  depend on the CPU that computed it.) */
async function validate(model: tf.LayersModel, set: ImageSet, indices: Int32Array, classNames: string[], h: Hyperparameters): Promise<EpochLogs> {
  if (indices.length === 0) return {};
  const v = await lossAndAccuracy(model, set, indices, classNames, h.dtype_policy);
  return { val_loss: v.loss, val_accuracy: v.accuracy };
}

/** What the fit loop needs, gathered once the run folder exists. */
interface FitContext {
  model: tf.LayersModel;
  step: TrainStep;
  h: Hyperparameters;
  train: ImageSet;
  split: { train: Int32Array; validation: Int32Array };
  classNames: string[];
  writer: RunWriter;
  callbacks: CallbackList;
  guard: TerminateOnDivergence;
  handle: ModelTrainerHandle;
  hooks: TrainHooks;
  control: TrainControl;
  /** Logs through the epoch-end holding (see `fit`). */
  log(line: string): void;
}

/** How the fit loop ended (and, in a checkpoint, how far it got). */
interface FitOutcome {
  userStopped: boolean;
  steps: number;
  epochsRun: number;
  lastTrainAccuracy: number | null;
}

/** An evaluate-only run's "fit": nothing trained, so the run ends 'completed' at 0 epochs. */
const NO_EPOCHS: FitOutcome = { userStopped: false, steps: 0, epochsRun: 0, lastTrainAccuracy: null };

/** One epoch's batches; `completed` is false when a stop (the user's or the divergence guard's) ended it early. */
interface EpochOutcome {
  lossSum: number;
  accSum: number;
  seen: number;
  completed: boolean;
  stopped: boolean;
}

/**
 * Keras' fit loop: for each epoch, shuffle, train the batches through the step strategy, validate, let the
 * callbacks act, record the epoch and checkpoint it; stop when a callback sets `stopTraining` or the user asks.
 * A resumed run replays the shuffles of the epochs done (the permutation stream is the same) and puts the
 * checkpoint's weights, optimizer and callback state back, so it continues exactly as if never interrupted.
 */
async function fit(ctx: FitContext, holdLogs: (held: string[] | null) => string[] | null, resume: Checkpoint | null): Promise<FitOutcome> {
  const { h, callbacks, handle, hooks, control, writer } = ctx;
  // Its own stream, not the split's: the shuffles do not depend on how many numbers the split drew.
  const rng = mulberry32((h.seed ^ 0x5eed5eed) >>> 0);
  const order = Int32Array.from(ctx.split.train);
  const clock = { trainStart: performance.now(), pausedMs: 0 };
  const outcome: FitOutcome = { userStopped: false, steps: 0, epochsRun: 0, lastTrainAccuracy: null };

  await callbacks.onTrainBegin();
  let first = 0;
  if (resume) {
    await restore(ctx, resume);
    for (let e = 0; e < resume.epoch; e++) shuffleInPlace(order, rng);
    first = resume.epoch;
    Object.assign(outcome, { steps: resume.steps, epochsRun: resume.epoch, lastTrainAccuracy: resume.lastTrainAccuracy });
    ctx.log(`Resumed from the checkpoint of epoch ${resume.epoch}.`);
  }
  for (let epoch = first; epoch < h.epochs; epoch++) {
    if (control.state === 'stopping') {
      // Stop requested during the last epoch's validation: do not start another epoch.
      outcome.userStopped = true;
      ctx.log(`Stopped by request before epoch ${epoch + 1}.`);
      break;
    }
    await callbacks.onEpochBegin(epoch);
    shuffleInPlace(order, rng);
    const epochStart = performance.now();
    const pausedBefore = clock.pausedMs;
    const lr = handle.getLearningRate();
    ctx.step.beginEpoch();
    const e = await trainEpoch(ctx, epoch, order, lr, clock, outcome);
    ctx.step.endEpoch();
    if (e.stopped) outcome.userStopped = true;
    if (!e.completed) break;
    const trainSec = (performance.now() - epochStart - (clock.pausedMs - pausedBefore)) / 1000;
    const logs: EpochLogs = { loss: e.lossSum / e.seen, accuracy: e.accSum / e.seen, learning_rate: lr };
    Object.assign(logs, await validate(ctx.model, ctx.train, ctx.split.validation, ctx.classNames, ctx.h));
    // Lines the callbacks log at an epoch end are held until that epoch's result is out, so they read in
    // Keras' order: "Epoch 11/50 - … val_loss …" then "Epoch 11: ReduceLROnPlateau reducing learning rate …".
    holdLogs([]);
    await callbacks.onEpochEnd(epoch, logs);
    const result: EpochResult = {
      runId: writer.id,
      epoch: epoch + 1,
      loss: logs.loss!,
      accuracy: logs.accuracy!,
      val_loss: logs.val_loss ?? null,
      val_accuracy: logs.val_accuracy ?? null,
      learningRate: lr,
      durationSeconds: (performance.now() - epochStart - (clock.pausedMs - pausedBefore)) / 1000,
      imagesPerSec: trainSec > 0 ? e.seen / trainSec : 0,
      events: handle.takeEvents(),
    };
    outcome.epochsRun++;
    outcome.lastTrainAccuracy = result.accuracy;
    await writer.appendEpoch(result);
    // Before the epoch is reported: once a user sees "Epoch 2/50", a crash can no longer lose it.
    await backup(ctx, epoch + 1, outcome);
    // The best epoch so far is also the saved model, so a crashed run still has one to export.
    if (ctx.guard.bestEpoch === epoch) await writer.saveModel(ctx.model);
    hooks.onEpoch?.(result);
    for (const line of holdLogs(null) ?? []) ctx.log(line);
    if (handle.stopTraining || outcome.userStopped) break;
  }
  await callbacks.onTrainEnd(); // EarlyStopping (and the divergence guard) put the best weights back here
  return outcome;
}

/** Writes the checkpoint of `epochsDone` epochs: weights, optimizer, callbacks, counters (one atomic file). */
async function backup(ctx: FitContext, epochsDone: number, outcome: FitOutcome): Promise<void> {
  const states = ctx.callbacks.getState();
  try {
    const arrays: CheckpointArray[] = [];
    const add = async (group: string, tensors: tf.Tensor[]) => {
      for (const [i, t] of tensors.entries()) arrays.push({ group, name: String(i), shape: t.shape, data: (await t.data()) as Float32Array });
    };
    await add('weights', ctx.model.getWeights());
    const opt = await ctx.step.getState();
    for (const a of opt.arrays) arrays.push({ group: 'optimizer', name: a.name, shape: a.shape, data: a.data });
    for (const [i, st] of states.entries()) if (st.weights) await add(`callback:${i}`, st.weights);
    randomLayers(ctx.model).forEach((l, i) => arrays.push({ group: 'augmentation', name: String(i), shape: [2], data: Float32Array.of(l.generatorState >>> 16, l.generatorState & 0xffff) }));
    await writeCheckpoint(ctx.writer.dir, {
      epoch: epochsDone,
      learningRate: ctx.handle.getLearningRate(),
      steps: outcome.steps,
      lastTrainAccuracy: outcome.lastTrainAccuracy,
      stepKind: opt.kind,
      counters: opt.counters,
      callbacks: states.map((st) => st.json),
      arrays,
    });
  } finally {
    for (const st of states) if (st.weights) tf.dispose(st.weights);
  }
}

/** Puts a checkpoint's state back into the model, the step, the callbacks and the learning rate. */
async function restore(ctx: FitContext, ckpt: Checkpoint): Promise<void> {
  const group = (name: string) => ckpt.arrays.filter((a) => a.group === name);
  const current = ctx.model.getWeights();
  const saved = group('weights');
  if (saved.length !== current.length || saved.some((a, i) => a.data.length !== current[i]!.size)) {
    throw new TrainingError(`the checkpoint's weights (${saved.length} arrays) do not fit this model (${current.length})`, ctx.writer.id);
  }
  const weights = saved.map((a, i) => tf.tensor(a.data, current[i]!.shape, 'float32'));
  ctx.model.setWeights(weights);
  tf.dispose(weights);
  await ctx.step.setState({ kind: ckpt.stepKind, counters: ckpt.counters, arrays: group('optimizer') });
  const states: CallbackState[] = ckpt.callbacks.map((json, i) => {
    const w = group(`callback:${i}`);
    return { json, weights: w.length > 0 ? w.map((a) => tf.tensor(a.data, a.shape, 'float32')) : null };
  });
  ctx.callbacks.setState(states);
  ctx.handle.setLearningRate(ckpt.learningRate);
  // The augmentation layers' generators continue where they were (checkpoints from before they were kept: from the seed).
  const generators = group('augmentation');
  randomLayers(ctx.model).forEach((l, i) => {
    const g = generators[i];
    if (g) l.generatorState = g.data[0]! * 0x10000 + g.data[1]!;
  });
}

/** The model's random augmentation layers, in order. */
const randomLayers = (model: tf.LayersModel): RandomLayer[] => model.layers.filter((l): l is RandomLayer => l instanceof RandomLayer);

/** The batches of one epoch, with progress, pause and cooperative stop between batches. */
async function trainEpoch(
  ctx: FitContext,
  epoch: number,
  order: Int32Array,
  lr: number,
  clock: { trainStart: number; pausedMs: number },
  outcome: FitOutcome,
): Promise<EpochOutcome> {
  const { h, callbacks, hooks, control, writer, handle } = ctx;
  const n = order.length;
  const batchesPerEpoch = Math.ceil(n / h.batch_size);
  const epochStart = performance.now();
  const pausedBefore = clock.pausedMs;
  const e: EpochOutcome = { lossSum: 0, accSum: 0, seen: 0, completed: true, stopped: false };
  // A function, not the property: TypeScript would otherwise narrow `control.state` across awaits.
  const stateOf = (): TrainState => control.state;
  for (let b = 0; b < batchesPerEpoch; b++) {
    await callbacks.onBatchBegin(b);
    const idx = order.subarray(b * h.batch_size, Math.min(n, (b + 1) * h.batch_size));
    const { loss, accuracy, finite } = await ctx.step.step(idx, lr);
    outcome.steps++;
    e.lossSum += loss * idx.length;
    e.accSum += accuracy * idx.length;
    e.seen += idx.length;
    await callbacks.onBatchEnd(b, { loss: e.lossSum / e.seen, accuracy: e.accSum / e.seen, size: idx.length, batchLoss: loss, weightsFinite: finite });
    if (handle.stopTraining) {
      // The divergence guard saw a NaN / Inf: this epoch's weights are lost, it is not recorded.
      e.completed = false;
      break;
    }
    const now = performance.now();
    const epochSec = (now - epochStart - (clock.pausedMs - pausedBefore)) / 1000;
    hooks.onBatch?.({
      runId: writer.id,
      epoch: epoch + 1,
      epochs: h.epochs,
      batch: b + 1,
      batchesPerEpoch,
      loss: e.lossSum / e.seen,
      accuracy: e.accSum / e.seen,
      learningRate: lr,
      imagesPerSec: epochSec > 0 ? e.seen / epochSec : 0,
      etaSeconds: (epochSec / (b + 1)) * (batchesPerEpoch - b - 1),
      elapsedSeconds: (now - clock.trainStart - clock.pausedMs) / 1000,
      trainingStep: ctx.step.description,
    });
    // trainOnBatch settles in microtasks, so without one macrotask turn per batch a signal handler (Ctrl-C in
    // the CLI) or a message port could not call control.stop() until the epoch ends. Costs microseconds.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (stateOf() === 'paused') {
      const t0 = performance.now();
      await writer.setStatus('paused');
      ctx.log('Paused.');
      await control.waitWhilePaused();
      clock.pausedMs += performance.now() - t0;
      if (stateOf() !== 'stopping') {
        await writer.setStatus('running');
        ctx.log('Resumed.');
      }
    }
    if (stateOf() === 'stopping') {
      e.stopped = true;
      // A partial epoch has no validation metrics to compare, so it is not recorded: the best
      // completed epoch is what restore_best_weights brings back.
      if (b < batchesPerEpoch - 1) e.completed = false;
      ctx.log(`Stopped by request after batch ${b + 1}/${batchesPerEpoch} of epoch ${epoch + 1}.`);
      break;
    }
  }
  return e;
}

/** The share of the most frequent class among `indices`: the accuracy of always answering it (chance). */
function chanceAccuracy(set: ImageSet, indices: Int32Array, k: number): number {
  const counts = new Array<number>(k).fill(0);
  for (const i of indices) counts[set.labels[i]!]!++;
  return indices.length > 0 ? Math.max(...counts) / indices.length : 0;
}

/**
 * Trains `job.spec` on `job.dataset` and evaluates it on the test set, writing the run folder as it goes.
 *
 * Validation happens before anything is written: a bad spec throws `SpecError`, bad hyperparameters
 * `HyperparameterError`, a model that does not fit the data `SpecError`, one over the memory budget
 * `MemoryBudgetError` (with the estimate) — and no run folder exists.
 * Once the folder exists, any failure marks the run 'failed' on disk with its reason. Every epoch is
 * checkpointed (`runs/checkpoint.ts`), so a failed or stopped run can continue (`job.resume`).
 * Resolves with status 'completed', 'early_stopped' (EarlyStopping), 'stopped' (`control.stop()`) or
 * 'diverged' (the divergence guard: the best epoch's weights evaluated and saved, `message` says why); a NaN
 * before any epoch finished throws `TrainingError` (nothing worth keeping).
 */
export async function runTraining(job: TrainJob, hooks: TrainHooks = {}, control: TrainControl = new TrainControl()): Promise<TrainingFinished> {
  // ---- validate everything before writing anything
  if (job.evaluateOnly && (!job.initialWeights || job.resume)) throw new TrainingError('evaluateOnly scores weights opened from a file: give initialWeights (and no resume)');
  const h = validateHyperparameters(job.hyperparameters);
  const spec = parseSpec(job.spec);
  const summary = summarizeSpec(spec);
  if (!summary.ok) throw new SpecError(summary.issues);
  const train = limitSet(job.dataset.train, job.limitTrain, 'limitTrain');
  const test = limitSet(job.dataset.test, job.limitTest, 'limitTest');
  const classNames = job.dataset.info.classNames;
  const split = splitIndices(train.count, h.validation_split, h.seed);
  if (split.train.length === 0) throw new RangeError(`no training images left: ${train.count} image(s) with validation_split ${h.validation_split}`);
  // No batch is larger than the training part: buffers and the memory check follow the data, not the batch size.
  const maxBatch = Math.min(h.batch_size, split.train.length);
  const slots = optimizerSlots(h.optimizer.class_name, h.optimizer.config.momentum);
  checkMemory(estimateMemory(summary, slots, job.memoryBudget ?? memoryBudget()), maxBatch, spec.config.name);

  let backend = await initBackend();
  const model = buildModel(spec, h.seed);
  let optimizer: tf.Optimizer | null = null;
  let writer: RunWriter | null = null;
  let callbacks: CallbackList | null = null;
  let step: TrainStep | null = null;
  try {
    // Before anything reads the weights: the model is the step's source of truth at each epoch's start.
    if (job.initialWeights && !job.resume) applyImportedWeights(model, job.initialWeights.weights, job.initialWeights.source);
    checkModelFitsData(model, spec, job.dataset);
    optimizer = createOptimizer(h.optimizer);
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    step = createTrainStep(model, spec, h, backend, train, classNames.length, maxBatch);
    backend = { ...backend, description: `${backend.description}; ${step.description}` };

    // ---- the run folder exists from here on
    writer = job.resume
      ? await reopenRun(job.resume)
      : await new RunStore(job.runsDir).create({
          spec,
          hyperparameters: h,
          params: summary.totalParams,
          backend,
          dataset: job.dataset.info,
          dataSource: job.dataset.source ? { path: job.dataset.source, fingerprint: job.dataset.info.fingerprint } : null,
          limits: { train: job.limitTrain ?? null, test: job.limitTest ?? null },
          startedFrom: job.initialWeights ? job.initialWeights.source : null,
          counts: { train: split.train.length, validation: split.validation.length, test: test.count },
        });
    let held: string[] | null = null;
    const log = (line: string) => (held ? held.push(line) : hooks.onLog?.(line));
    const holdLogs = (next: string[] | null) => {
      const before = held;
      held = next;
      return before;
    };
    hooks.onStart?.(writer.id, backend);
    hooks.onLog?.(`Training step: ${step.description}`);
    if (job.initialWeights && !job.resume) {
      hooks.onLog?.(job.evaluateOnly ? `Scoring the weights of ${job.initialWeights.source} as opened (no training).` : `Starting from the weights of ${job.initialWeights.source} (fine-tuning).`);
    }

    const handle = new ModelTrainerHandle(model, log);
    const { list, earlyStopping } = callbacksFor(h);
    // The guard ranks epochs as EarlyStopping does, so "the best epoch" means one thing in a run.
    const monitor = earlyStopping?.monitor ?? (split.validation.length > 0 ? 'val_loss' : 'loss');
    const mode = resolveMode(monitor, h.early_stopping?.mode ?? 'auto');
    const guard = new TerminateOnDivergence(
      h.divergence === undefined ? DEFAULT_DIVERGENCE : h.divergence,
      monitor,
      mode,
      chanceAccuracy(train, split.train, classNames.length),
      h.optimizer.config.learning_rate,
    );
    callbacks = new CallbackList([...list, guard]);
    callbacks.setTrainer(handle);

    const ctx: FitContext = { model, step, h, train, split, classNames, writer, callbacks, guard, handle, hooks, control, log };
    const outcome = job.evaluateOnly ? NO_EPOCHS : await fit(ctx, holdLogs, job.resume?.checkpoint ?? null);

    if (guard.reason !== null && guard.bestValue === null) throw new TrainingError(guard.reason, writer.id);
    const status: TrainingFinished['status'] =
      guard.reason !== null
        ? 'diverged'
        : outcome.userStopped
          ? 'stopped'
          : earlyStopping && earlyStopping.stoppedEpoch > 0
            ? 'early_stopped'
            : 'completed';
    const bestEpoch =
      status === 'diverged' ? guard.bestEpoch + 1 : earlyStopping && earlyStopping.bestValue !== null ? earlyStopping.bestEpoch + 1 : null;

    const evaluation = await evaluateModel(model, test, classNames, { spec, steps: outcome.steps, lastTrainAccuracy: outcome.lastTrainAccuracy });
    await writer.writeEvaluation(evaluation);
    await writer.saveModel(model);
    const message = guard.reason ?? undefined;
    await writer.finish(status, bestEpoch, message ? { name: 'Diverged', message } : null);
    // Only a stopped run can be continued; a finished one keeps its model, not the (larger) checkpoint.
    if (status !== 'stopped') await removeCheckpoint(writer.dir);
    return { runId: writer.id, status, epochsRun: outcome.epochsRun, bestEpoch, evaluation, ...(message ? { message } : {}) };
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
    step?.dispose();
    callbacks?.dispose();
    model.dispose();
    optimizer?.dispose();
  }
}
