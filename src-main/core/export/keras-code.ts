/**
 * Python (Keras 3) and R (keras3) scripts that rebuild a trained tfjs model's architecture and training
 * configuration in the lesson's style, plus the weights file both scripts load.
 *
 * The scripts are generated from the loaded tfjs model (not from the spec) so that layer names, settings and
 * the weight order are exactly those of the weights written beside them. tfjs stores weights in Keras'
 * layouts (HWIO kernels; BatchNorm as gamma, beta, moving_mean, moving_variance), and its per-layer weight
 * order is Keras' `model.get_weights()` order, so the arrays go into `model.set_weights()` unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { OPTIMIZERS } from '../../shared/optimizers';
import type { Hyperparameters } from '../../shared/spec';
import { layerCoreFor } from '../model/layers/index';
import { inboundLayers, isGraphModel, outputLayerName } from '../model/tf-graph';
import { Int, KerasExportError, type Arg, type Lit } from './keras-args';

export { KerasExportError } from './keras-args';

/** One layer as the generated scripts build it. */
export interface KerasLayer {
  className: string;
  name: string;
  args: [string, Arg][];
  params: number;
  /** The layers whose outputs it takes (the input layer's name for the first layer of a chain). */
  inputs: string[];
}

/** One array of the weights file, in `model.get_weights()` order. */
export interface WeightEntry {
  layer: string;
  weight: string;
  shape: number[];
  /** Byte offset in weights.bin. */
  offset: number;
}

/** Everything the scripts need to know about the trained model. */
export interface KerasModelDescription {
  name: string;
  input: { name: string; shape: number[] };
  layers: KerasLayer[];
  weights: WeightEntry[];
  totalParams: number;
  /** A graph (branches and merges): the scripts write Keras' functional style, one variable per layer. */
  graph: boolean;
  /** The name of the output layer. */
  output: string;
}

/** Context the scripts print and use: where the model came from and how it was trained. */
export interface ScriptContext {
  runId: string;
  datasetId: string | null;
  classNames: string[];
  hyperparameters: Hyperparameters;
  /** ISO date of the export, printed in the header. */
  exportedAt: string;
}

/** Keras constructor arguments for one tfjs layer, from its layer definition (core/model/layers). */
function kerasArgs(layer: tf.layers.Layer): [string, Arg][] {
  const core = layerCoreFor(layer.getClassName());
  if (!core) throw new KerasExportError(`layer '${layer.name}' (${layer.getClassName()}) has no Keras translation`);
  return core.kerasArgs(layer.getConfig() as Record<string, unknown>, layer);
}

/** Keras 3's defaults for the arguments `kerasArgs` emits: left out of the scripts, as a person would write them. */
const KERAS_DEFAULTS: Record<string, unknown> = {
  strides: [1, 1],
  dilation_rate: [1, 1],
  padding: 'valid',
  activation: 'linear',
  use_bias: true,
  depth_multiplier: 1,
  axis: -1,
  momentum: 0.99,
  epsilon: 0.001,
  center: true,
  scale: true,
};

const plain = (v: Arg): unknown => (v instanceof Int ? v.value : Array.isArray(v) ? (v as Arg[]).map(plain) : v);

function withoutDefaults(args: [string, Arg][]): [string, Arg][] {
  const pool = args.find(([k]) => k === 'pool_size');
  return args.filter(([k, v]) => {
    // Pooling strides default to the pool size, not to 1.
    if (k === 'strides' && pool) return JSON.stringify(plain(v)) !== JSON.stringify(plain(pool[1]));
    return !(k in KERAS_DEFAULTS) || JSON.stringify(plain(v)) !== JSON.stringify(KERAS_DEFAULTS[k]);
  });
}

/** Describes a trained tfjs model for the script generators, with the byte layout of weights.bin. */
export function describeModel(model: tf.LayersModel): KerasModelDescription {
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const first = model.layers[0];
  const inputName = first && first.getClassName() === 'InputLayer' ? first.name : 'input';
  const layers: KerasLayer[] = [];
  const weights: WeightEntry[] = [];
  let offset = 0;
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const inputs = inboundLayers(layer).map((l) => l.name);
    layers.push({ className: layer.getClassName(), name: layer.name, args: withoutDefaults(kerasArgs(layer)), params: layer.countParams(), inputs });
    for (const w of layer.weights) {
      weights.push({ layer: layer.name, weight: w.name.split('/').pop()!.replace(/_\d+$/, ''), shape: w.shape as number[], offset });
      offset += (w.shape as number[]).reduce((a, b) => a * b, 1) * 4;
    }
  }
  const output = outputLayerName(model);
  return { name: model.name, input: { name: inputName, shape: inShape }, layers, weights, totalParams: model.countParams(), graph: isGraphModel(model), output };
}

/** All weights in `model.get_weights()` order as one little-endian float32 buffer. */
export function weightsBinary(model: tf.LayersModel): Uint8Array {
  const values = model.layers.flatMap((l) => l.getWeights());
  const total = values.reduce((s, v) => s + v.size, 0);
  const out = new Uint8Array(total * 4);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const v of values) {
    for (const x of v.dataSync()) {
      view.setFloat32(at, x, true);
      at += 4;
    }
  }
  return out;
}

// ---------------------------------------------------------------- literals

function pyNumber(n: number): string {
  if (!Number.isFinite(n)) throw new KerasExportError(`cannot write the number ${n} into a script`);
  return String(n);
}

function py(v: Arg): string {
  if (v instanceof Int) return String(v.value);
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'string') return JSON.stringify(v);
  const items = (v as Arg[]).map(py);
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

function r(v: Arg): string {
  if (v instanceof Int) return `${v.value}L`;
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'string') return JSON.stringify(v);
  const arr = v as Arg[];
  const nested = arr.some((x) => Array.isArray(x));
  return `${nested ? 'list' : 'c'}(${arr.map(r).join(', ')})`;
}

/** Python keyword arguments for the optimizer, only those the run set (Keras' defaults otherwise). */
function optimizerArgs(h: Hyperparameters): [string, Arg][] {
  return Object.entries(h.optimizer.config)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k, v as number | boolean]);
}


/** The keras3 function that builds a Keras layer class (from its layer definition); undefined for an unknown class. */
export function rLayerFunction(className: string): string | undefined {
  return layerCoreFor(className)?.rFunction;
}

function callbackArgs(spec: object | null): [string, Arg][] {
  if (!spec) return [];
  return Object.entries(spec).map(([k, v]) => [k, k === 'patience' || k === 'cooldown' ? new Int(Number(v)) : (v as Lit)]);
}

/** Which Keras dataset loader matches the run's data, when there is one. */
function kerasDataset(datasetId: string | null): 'fashion_mnist' | 'mnist' | null {
  if (datasetId === 'fashion-mnist') return 'fashion_mnist';
  if (datasetId === 'mnist') return 'mnist';
  return null;
}

/**
 * One script variable per layer of a graph, named after the layer (a valid identifier in both Python and R, never
 * a keyword or a name the script itself uses); the input layer's variable is `inputs`.
 */
function graphVariables(d: KerasModelDescription): Map<string, string> {
  const reserved = new Set([
    'inputs', 'outputs', 'model', 'keras', 'layers', 'np', 'x', 'args', 'parser', 'data', 'here', 'input', 'output', 'callbacks', 'history', 'metrics', 'pred',
    'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally',
    'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
    'function', 'repeat', 'next', 'TRUE', 'FALSE', 'NULL', 'NA', 'Inf', 'NaN',
  ]);
  const vars = new Map<string, string>([[d.input.name, 'inputs']]);
  const used = new Set(['inputs']);
  for (const l of d.layers) {
    let base = l.name.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z]/.test(base)) base = `l_${base}`;
    let v = base;
    for (let i = 1; reserved.has(v) || used.has(v); i++) v = `${base}_${i}`;
    used.add(v);
    vars.set(l.name, v);
  }
  return vars;
}

// ---------------------------------------------------------------- Python

/** The Python (Keras 3) script: rebuild, load the trained weights, evaluate; `--train` retrains from scratch. */
export function pythonScript(d: KerasModelDescription, ctx: ScriptContext): string {
  const h = ctx.hyperparameters;
  const ds = kerasDataset(ctx.datasetId);
  const numClasses = ctx.classNames.length;
  const L: string[] = [];
  L.push(
    '#!/usr/bin/env python3',
    `"""${d.name}: the CNN trained in CNN Workbench (run ${ctx.runId}), rebuilt in Keras 3.`,
    '',
    `Exported ${ctx.exportedAt}. Files beside this script:`,
    '  weights.bin          the trained weights: float32 little-endian, in model.get_weights() order (WEIGHTS below)',
    '  weights.json         the same layout as JSON (layer, weight, shape, byte offset)',
    '  preprocessing.json   how to prepare an image: NHWC, grayscale, pixels scaled by 1/255',
    '',
    'Usage:',
    '  python model.py           rebuild the model, load the trained weights, evaluate on the test set',
    '  python model.py --train   retrain from scratch with the run\'s training configuration',
    '"""',
    'import argparse',
    'import pathlib',
    '',
    'import numpy as np',
    'import keras',
    'from keras import layers',
    '',
    'HERE = pathlib.Path(__file__).resolve().parent',
    `CLASS_NAMES = [${ctx.classNames.map((n) => JSON.stringify(n)).join(', ')}]`,
    `SEED = ${h.seed}`,
    `BATCH_SIZE = ${h.batch_size}`,
    `EPOCHS = ${h.epochs}`,
    `VALIDATION_SPLIT = ${pyNumber(h.validation_split)}`,
    '',
    '# (layer, weight, shape) in model.get_weights() order: the layout of weights.bin.',
    'WEIGHTS = [',
    ...d.weights.map((w) => `    (${JSON.stringify(w.layer)}, ${JSON.stringify(w.weight)}, ${py(w.shape.map((n) => new Int(n)))}),`),
    ']',
    '',
    '# Parameters per layer, as CNN Workbench counted them; checked after the model is built.',
    'EXPECTED_PARAMS = {',
    ...d.layers.map((l) => `    ${JSON.stringify(l.name)}: ${l.params},`),
    '}',
    `EXPECTED_TOTAL_PARAMS = ${d.totalParams}`,
    '',
    '',
    ...(h.dtype_policy === 'mixed_bfloat16'
      ? ['# The run trained under Keras\' mixed_bfloat16 policy (weights float32, convolutions computed in bfloat16).', 'keras.mixed_precision.set_global_policy("mixed_bfloat16")', '', '']
      : []),
    'def build_model():',
    `    inputs = keras.Input(shape=${py(d.input.shape.map((n) => new Int(n)))}, name=${JSON.stringify(d.input.name)})`,
  );
  if (d.graph) {
    // Keras' functional style: each layer called on the variables of the layers it takes, a merge on a list.
    const vars = graphVariables(d);
    for (const l of d.layers) {
      const args = [...l.args.map(([k, v]) => `${k}=${py(v)}`), `name=${JSON.stringify(l.name)}`].join(', ');
      const ins = l.inputs.map((n) => vars.get(n) ?? 'inputs');
      L.push(`    ${vars.get(l.name)} = layers.${l.className}(${args})(${ins.length === 1 ? ins[0] : `[${ins.join(', ')}]`})`);
    }
    L.push(`    outputs = ${vars.get(d.output) ?? 'inputs'}`);
  } else {
    d.layers.forEach((l, i) => {
      const args = [...l.args.map(([k, v]) => `${k}=${py(v)}`), `name=${JSON.stringify(l.name)}`].join(', ');
      const src = i === 0 ? 'inputs' : 'x';
      const dst = i === d.layers.length - 1 ? 'outputs' : 'x';
      L.push(`    ${dst} = layers.${l.className}(${args})(${src})`);
    });
    if (d.layers.length === 0) L.push('    outputs = inputs');
  }
  const optArgs = optimizerArgs(h).map(([k, v]) => `${k}=${py(v)}`).join(', ');
  L.push(
    `    model = keras.Model(inputs=inputs, outputs=outputs, name=${JSON.stringify(d.name)})`,
    '    model.compile(',
    `        optimizer=keras.optimizers.${OPTIMIZERS[h.optimizer.class_name].kerasClass}(${optArgs}),`,
    `        loss=${JSON.stringify(h.loss)},`,
    '        metrics=["accuracy"],',
    '    )',
    '    return model',
    '',
    '',
    'def check_params(model):',
    '    for name, count in EXPECTED_PARAMS.items():',
    '        got = model.get_layer(name).count_params()',
    '        assert got == count, f"layer {name}: Keras counts {got} parameters, CNN Workbench {count}"',
    '    assert model.count_params() == EXPECTED_TOTAL_PARAMS, model.count_params()',
    '',
    '',
    'def load_weights(path=HERE / "weights.bin"):',
    '    """The trained weights as a list of arrays for model.set_weights()."""',
    '    flat = np.fromfile(path, dtype="<f4")',
    '    arrays, at = [], 0',
    '    for layer, weight, shape in WEIGHTS:',
    '        n = int(np.prod(shape))',
    '        arrays.append(flat[at:at + n].reshape(shape))',
    '        at += n',
    '    assert at == flat.size, f"{path} holds {flat.size} floats, WEIGHTS describes {at}"',
    '    return arrays',
    '',
    '',
    'def set_trained_weights(model, arrays):',
    '    # Each layer gets its arrays by name, so the order Keras lists a graph\'s layers in does not matter.',
    '    by_layer = {}',
    '    for (layer, _weight, _shape), a in zip(WEIGHTS, arrays):',
    '        by_layer.setdefault(layer, []).append(a)',
    '    for layer, values in by_layer.items():',
    '        model.get_layer(layer).set_weights(values)',
    '',
    '',
    'def load_data():',
    '    """Train and test images as float32 NHWC in [0, 1], labels one-hot, as the lesson prepares them."""',
  );
  if (ds) {
    L.push(`    (x_train, y_train), (x_test, y_test) = keras.datasets.${ds}.load_data()`);
  } else {
    L.push(
      `    raise SystemExit("the run used dataset ${ctx.datasetId ?? 'unknown'}, which Keras cannot download: load it here as "`,
      '                     "(x_train, y_train), (x_test, y_test) uint8 arrays of shape (n, height, width[, channels])")',
    );
  }
  L.push(
    `    x_train = x_train.reshape((-1, ${d.input.shape.join(', ')})).astype("float32") / 255`,
    `    x_test = x_test.reshape((-1, ${d.input.shape.join(', ')})).astype("float32") / 255`,
    `    y_train_oh = keras.utils.to_categorical(y_train, ${numClasses})`,
    `    y_test_oh = keras.utils.to_categorical(y_test, ${numClasses})`,
    '    return (x_train, y_train_oh), (x_test, y_test, y_test_oh)',
    '',
    '',
    'def callbacks():',
    '    cbs = []',
  );
  if (h.early_stopping) L.push(`    cbs.append(keras.callbacks.EarlyStopping(${callbackArgs(h.early_stopping).map(([k, v]) => `${k}=${py(v)}`).join(', ')}))`);
  if (h.reduce_lr_on_plateau) L.push(`    cbs.append(keras.callbacks.ReduceLROnPlateau(${callbackArgs(h.reduce_lr_on_plateau).map(([k, v]) => `${k}=${py(v)}`).join(', ')}))`);
  L.push(
    '    return cbs',
    '',
    '',
    'def main():',
    '    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])',
    '    parser.add_argument("--train", action="store_true", help="retrain from scratch instead of loading weights.bin")',
    '    args = parser.parse_args()',
    '',
    '    model = build_model()',
    '    model.summary()',
    '    check_params(model)',
    '    (x_train, y_train), (x_test, y_test_labels, y_test) = load_data()',
    '',
    '    if args.train:',
    '        # A seeded 10%-style hold-out like the lesson; numpy\'s shuffle, so not the same images as the app\'s split.',
    '        keras.utils.set_random_seed(SEED)',
    '        idx = np.random.default_rng(SEED).permutation(len(x_train))',
    '        n_tr = int(np.floor((1 - VALIDATION_SPLIT) * len(x_train)))',
    '        tr, va = idx[:n_tr], idx[n_tr:]',
    '        model.fit(',
    '            x_train[tr], y_train[tr],',
    '            validation_data=(x_train[va], y_train[va]),',
    '            epochs=EPOCHS,',
    '            batch_size=BATCH_SIZE,',
    '            callbacks=callbacks(),',
    '            verbose=2,',
    '        )',
    '    else:',
    '        set_trained_weights(model, load_weights())',
    '',
    '    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)',
    '    print(f"test loss {test_loss:.4f}   test accuracy {test_accuracy:.4f}")',
    '    pred = model.predict(x_test, verbose=0).argmax(axis=1)',
    '    confusion = np.zeros((len(CLASS_NAMES), len(CLASS_NAMES)), dtype=int)',
    '    np.add.at(confusion, (y_test_labels, pred), 1)',
    '    print("confusion matrix (rows = truth, columns = predicted):")',
    '    print(confusion)',
    '',
    '',
    'if __name__ == "__main__":',
    '    main()',
    '',
  );
  return L.join('\n');
}

// ---------------------------------------------------------------- R

/** The R (keras3) script, in the lesson's style: layer_input + pipes, callbacks, fit, evaluate, table(). */
export function rScript(d: KerasModelDescription, ctx: ScriptContext): string {
  const h = ctx.hyperparameters;
  const ds = kerasDataset(ctx.datasetId);
  const numClasses = ctx.classNames.length;
  const rArgs = (args: [string, Arg][]) => args.map(([k, v]) => `${k} = ${r(v)}`).join(', ');
  const L: string[] = [];
  L.push(
    `# ${d.name}: the CNN trained in CNN Workbench (run ${ctx.runId}), rebuilt with keras3.`,
    `# Exported ${ctx.exportedAt}. Files beside this script:`,
    '#   weights.bin         the trained weights: float32 little-endian, in get_weights() order (weight_shapes below)',
    '#   preprocessing.json  how to prepare an image: NHWC, grayscale, pixels scaled by 1/255',
    '# Usage:',
    '#   Rscript model.R           rebuild the model, load the trained weights, evaluate on the test set',
    '#   Rscript model.R --train   retrain from scratch with the run\'s training configuration',
    '',
    'library(keras3)',
    '',
    'script_args <- commandArgs(trailingOnly = FALSE)',
    'script_file <- sub("^--file=", "", script_args[grep("^--file=", script_args)])',
    'here <- if (length(script_file) == 1) dirname(normalizePath(script_file)) else getwd()',
    'train_from_scratch <- "--train" %in% commandArgs(trailingOnly = TRUE)',
    '',
    `class_names <- c(${ctx.classNames.map((n) => JSON.stringify(n)).join(', ')})`,
    `num_classes <- ${numClasses}`,
    '',
    '# One entry per array of weights.bin, in get_weights() order.',
    'weight_shapes <- list(',
    d.weights.map((w) => `  list(layer = ${JSON.stringify(w.layer)}, weight = ${JSON.stringify(w.weight)}, shape = c(${w.shape.join(', ')}))`).join(',\n'),
    ')',
    '',
    '# Parameters per layer, as CNN Workbench counted them; checked after the model is built.',
    'expected_params <- c(',
    d.layers.map((l) => `  ${JSON.stringify(l.name)} = ${l.params}`).join(',\n'),
    ')',
    '',
    '# Reads weights.bin (row-major, like numpy) into R arrays with the same element order as Keras expects.',
    'read_weights <- function(path = file.path(here, "weights.bin")) {',
    '  con <- file(path, "rb")',
    '  on.exit(close(con))',
    '  lapply(weight_shapes, function(w) {',
    '    v <- readBin(con, what = "numeric", n = prod(w$shape), size = 4, endian = "little")',
    '    if (length(w$shape) == 1) return(array(v, dim = w$shape))',
    '    aperm(array(v, dim = rev(w$shape)), rev(seq_along(w$shape)))',
    '  })',
    '}',
    '',
    `input <- layer_input(shape = c(${d.input.shape.map((n) => `${n}L`).join(', ')}), name = ${JSON.stringify(d.input.name)})`,
  );
  if (d.graph) {
    // keras3's functional style: one variable per layer; a merge takes a list of them.
    const vars = graphVariables(d);
    L.push('inputs <- input');
    for (const l of d.layers) {
      const fn = rLayerFunction(l.className);
      if (!fn) throw new KerasExportError(`layer '${l.name}' (${l.className}) has no keras3 function`);
      const args = rArgs([...l.args, ['name', l.name]]);
      const ins = l.inputs.map((n) => vars.get(n) ?? 'inputs');
      L.push(ins.length === 1 ? `${vars.get(l.name)} <- ${ins[0]} |> ${fn}(${args})` : `${vars.get(l.name)} <- ${fn}(list(${ins.join(', ')}), ${args})`);
    }
    L.push(`output <- ${vars.get(d.output) ?? 'inputs'}`);
  } else if (d.layers.length === 0) {
    L.push('output <- input');
  } else {
    L.push('output <- input |>');
    d.layers.forEach((l, i) => {
      const fn = rLayerFunction(l.className);
      if (!fn) throw new KerasExportError(`layer '${l.name}' (${l.className}) has no keras3 function`);
      const args = rArgs([...l.args, ['name', l.name]]);
      L.push(`  ${fn}(${args})${i === d.layers.length - 1 ? '' : ' |>'}`);
    });
  }
  L.push(
    `model <- keras_model(inputs = input, outputs = output, name = ${JSON.stringify(d.name)})`,
    'model |>',
    '  compile(',
    `    optimizer = ${OPTIMIZERS[h.optimizer.class_name].rFunction}(${rArgs(optimizerArgs(h))}),`,
    `    loss = ${JSON.stringify(h.loss)},`,
    '    metrics = "accuracy"',
    '  )',
    'model',
    'for (layer_name in names(expected_params)) {',
    '  got <- get_layer(model, layer_name)$count_params()',
    '  if (got != expected_params[[layer_name]]) stop(sprintf("layer %s: keras counts %d parameters, CNN Workbench %d", layer_name, got, expected_params[[layer_name]]))',
    '}',
    '',
  );
  if (ds) {
    L.push(`data <- dataset_${ds}()`);
  } else {
    L.push(`stop("the run used dataset ${ctx.datasetId ?? 'unknown'}, which keras3 cannot download: load it into data$train$x, data$train$y, data$test$x, data$test$y")`);
  }
  L.push(
    `x_train <- array_reshape(data$train$x, dim = c(nrow(data$train$x), ${d.input.shape.join(', ')})) / 255`,
    `x_test <- array_reshape(data$test$x, dim = c(nrow(data$test$x), ${d.input.shape.join(', ')})) / 255`,
    'y_train_oh <- to_categorical(data$train$y, num_classes)',
    'y_test_oh <- to_categorical(data$test$y, num_classes)',
    '',
    'if (train_from_scratch) {',
    `  set.seed(${h.seed})`,
    `  set_random_seed(${h.seed})`,
    '  n <- dim(x_train)[1]',
    '  idx <- sample.int(n)',
    `  n_tr <- floor(${1 - h.validation_split} * n)`,
    '  tr_idx <- idx[1:n_tr]',
    '  va_idx <- idx[(n_tr + 1):n]',
    '  callbacks <- list()',
  );
  if (h.early_stopping) L.push(`  callbacks <- c(callbacks, callback_early_stopping(${rArgs(callbackArgs(h.early_stopping))}))`);
  if (h.reduce_lr_on_plateau) L.push(`  callbacks <- c(callbacks, callback_reduce_lr_on_plateau(${rArgs(callbackArgs(h.reduce_lr_on_plateau))}))`);
  L.push(
    '  history <- model |>',
    '    fit(',
    '      x = x_train[tr_idx, , , , drop = FALSE], y = y_train_oh[tr_idx, , drop = FALSE],',
    '      validation_data = list(x_train[va_idx, , , , drop = FALSE], y_train_oh[va_idx, , drop = FALSE]),',
    `      epochs = ${h.epochs},`,
    `      batch_size = ${h.batch_size},`,
    '      callbacks = callbacks,',
    '      verbose = 2',
    '    )',
    '} else {',
    '  # Each layer gets its arrays by name, so the order keras3 lists a graph\'s layers in does not matter.',
    '  trained <- read_weights()',
    '  layer_of <- vapply(weight_shapes, function(w) w$layer, "")',
    '  for (layer_name in unique(layer_of)) set_weights(get_layer(model, layer_name), trained[layer_of == layer_name])',
    '}',
    '',
    'metrics <- model |> evaluate(x_test, y_test_oh, verbose = 0)',
    '# Named by Keras (loss, accuracy): never read them by position.',
    'print(round(unlist(metrics), 4))',
    'pred <- apply(predict(model, x_test, verbose = 0), 1, which.max) - 1',
    'print(table(truth = data$test$y, pred = pred))',
    '',
  );
  return L.join('\n');
}
