// Functional (graph) specs: validation names the layer(s) for each wiring mistake, the summary carries Keras'
// "Connected to", and the builder wires a tf.model that tfjs agrees with (shapes, parameter counts, outputs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { functionalLayer, type FunctionalLayerSpec, type FunctionalModelSpec, type LayerClassName, type LayerConfig, type SpecIssue } from '../../shared/spec';
import { initBackend } from '../backend/index';
import { buildModel } from './build';
import { SpecError } from './errors';
import { parseSpec, withDefaults } from './spec';
import { summarizeSpec } from './validate';

const root = path.resolve(import.meta.dirname, '../../..');
const example = (name: string): FunctionalModelSpec => JSON.parse(readFileSync(path.join(root, 'examples', `${name}.json`), 'utf8')) as FunctionalModelSpec;

const node = (name: string, className: string, inputs: string[], config: LayerConfig = {}): FunctionalLayerSpec => functionalLayer(name, className as LayerClassName, inputs, config);
const graph = (layers: FunctionalLayerSpec[], input = 'image', output = 'class_prob'): FunctionalModelSpec => ({
  format_version: 1,
  class_name: 'Functional',
  config: { name: 'g', layers, input_layers: [[input, 0, 0]], output_layers: [[output, 0, 0]] },
});
const head = (from: string) => [node('gap', 'GlobalAveragePooling2D', [from]), node('class_prob', 'Dense', ['gap'], { units: 10, activation: 'softmax' })];
/** image → conv_a → conv_b; add(conv_a, conv_b) → head. */
const residual = (): FunctionalLayerSpec[] => [
  node('image', 'InputLayer', [], { shape: [8, 8, 1] }),
  node('conv_a', 'Conv2D', ['image'], { filters: 4, kernel_size: 3, padding: 'same' }),
  node('conv_b', 'Conv2D', ['conv_a'], { filters: 4, kernel_size: 3, padding: 'same' }),
  node('add', 'Add', ['conv_a', 'conv_b']),
  ...head('add'),
];
const errors = (spec: unknown): SpecIssue[] => summarizeSpec(spec).issues.filter((i) => i.severity === 'error');
function oneError(spec: unknown, pattern: RegExp): SpecIssue {
  const errs = errors(spec);
  assert.equal(errs.length, 1, `expected one error, got:\n${errs.map((e) => e.message).join('\n')}`);
  assert.match(errs[0]!.message, pattern);
  return errs[0]!;
}

before(async () => {
  await initBackend();
});

test('a residual graph validates; its rows carry Keras\' "Connected to" and Keras\' parameter counts', () => {
  const s = summarizeSpec(graph(residual()));
  assert.deepEqual(s.issues, []);
  assert.deepEqual(
    s.rows.map((r) => [r.name, r.outputShape, r.params, r.connectedTo]),
    [
      ['image', [null, 8, 8, 1], 0, []],
      ['conv_a', [null, 8, 8, 4], 40, ['image']],
      ['conv_b', [null, 8, 8, 4], 148, ['conv_a']],
      ['add', [null, 8, 8, 4], 0, ['conv_a', 'conv_b']],
      ['gap', [null, 4], 0, ['add']],
      ['class_prob', [null, 10], 50, ['gap']],
    ],
  );
  assert.equal(s.totalParams, 238);
});

test('layers listed before their inputs are summarised in an order where each follows its inputs', () => {
  const [image, a, b, add, ...rest] = residual();
  const s = summarizeSpec(graph([image!, add!, b!, a!, ...rest]));
  assert.deepEqual(s.issues, []);
  assert.deepEqual(s.rows.map((r) => r.name), ['image', 'conv_a', 'conv_b', 'add', 'gap', 'class_prob']);
});

test('a cycle is an error on each layer in it, naming the loop', () => {
  const layers = residual();
  layers[1] = node('conv_a', 'Conv2D', ['image', 'conv_b'], { filters: 4, kernel_size: 3, padding: 'same' });
  // conv_a now takes two inputs (an error of its own is not what this test is about): make it a merge instead.
  layers[1] = node('conv_a', 'Add', ['image', 'conv_b']);
  layers[2] = node('conv_b', 'Conv2D', ['conv_a'], { filters: 1, kernel_size: 3, padding: 'same' });
  const errs = errors(graph(layers));
  const cyc = errs.filter((e) => /cycle/.test(e.message));
  assert.deepEqual(cyc.map((e) => e.layerName).sort(), ['conv_a', 'conv_b']);
  assert.match(cyc[0]!.message, /^Layer \d '(conv_a|conv_b)' \((Add|Conv2D)\): inbound_nodes — is part of a cycle (conv_a → conv_b → conv_a|conv_b → conv_a → conv_b)/);
  assert.throws(() => buildModel(graph(layers), 1), SpecError);
});

test('a layer that takes its own output is a cycle', () => {
  const layers = residual();
  layers[2] = node('conv_b', 'Add', ['conv_a', 'conv_b']);
  const e = errors(graph(layers)).find((x) => x.layerName === 'conv_b');
  assert.match(e?.message ?? '', /Layer 2 'conv_b' \(Add\): inbound_nodes = "conv_b" — takes its own output as its input: a cycle/);
});

test('a dangling layer (its result never reaches the output) is an error naming it and the output', () => {
  const layers = residual();
  layers.splice(3, 0, node('dead_end', 'Conv2D', ['conv_a'], { filters: 2, kernel_size: 1 }));
  const e = oneError(graph(layers), /^Layer 3 'dead_end' \(Conv2D\): does not reach the model's output 'class_prob': nothing uses its result/);
  assert.equal(e.layerName, 'dead_end');
});

test('an unknown inbound name is an error naming the layer and the name', () => {
  const layers = residual();
  layers[3] = node('add', 'Add', ['conv_a', 'conv_c']);
  const e = oneError(graph(layers), /^Layer 3 'add' \(Add\): inbound_nodes = "conv_c" — takes its input from 'conv_c', which is not a layer of this model/);
  assert.equal(e.field, 'inbound_nodes');
});

test('a name used twice is an error naming both layers', () => {
  const layers = residual();
  layers[2] = node('conv_a', 'Conv2D', ['conv_a'], { filters: 4, kernel_size: 3, padding: 'same' });
  layers[3] = node('add', 'Add', ['conv_a', 'image']);
  const errs = errors(graph(layers));
  const dup = errs.find((e) => /duplicate layer name/.test(e.message));
  assert.match(dup?.message ?? '', /^Layer 2 'conv_a' \(Conv2D\): name = "conv_a" — duplicate layer name: layer 1 already has it/);
});

test('a merge whose inputs disagree quotes both shapes and names both inputs', () => {
  const layers = residual();
  layers[2] = node('conv_b', 'Conv2D', ['conv_a'], { filters: 4, kernel_size: 3, strides: 2, padding: 'same' });
  oneError(graph(layers), /^Layer 3 'add' \(Add\): its inputs disagree: 'conv_a' gives \(None, 8, 8, 4\) and 'conv_b' gives \(None, 4, 4, 4\); Add needs inputs of one shape/);
  layers[3] = node('add', 'Concatenate', ['conv_a', 'conv_b']);
  oneError(graph(layers), /^Layer 3 'add' \(Concatenate\): its inputs disagree: 'conv_a' gives \(None, 8, 8, 4\) and 'conv_b' gives \(None, 4, 4, 4\); Concatenate along axis -1 needs every other dimension equal/);
});

test('Subtract takes exactly two inputs; a merge with one input is refused; so is a merge in a Sequential model', () => {
  const layers = residual();
  layers[3] = node('add', 'Subtract', ['conv_a', 'conv_b', 'image']);
  oneError(graph(layers), /Layer 3 'add' \(Subtract\): Subtract takes exactly two inputs .* receives 3/);
  layers[3] = node('add', 'Add', ['conv_b']);
  layers[2] = node('conv_b', 'Conv2D', ['conv_a'], { filters: 4, kernel_size: 3, padding: 'same' });
  const errs = errors(graph(layers));
  assert.ok(errs.some((e) => /^Layer 3 'add' \(Add\): a merge layer takes two or more inputs but receives 1/.test(e.message)), errs.map((e) => e.message).join('\n'));
  const seq = { format_version: 1, class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'InputLayer', config: { shape: [4] } }, { class_name: 'Add', config: {} }] } };
  assert.ok(errors(seq).some((e) => /\(Add\): a merge layer takes two or more inputs but receives 1; merge layers belong in a Functional/.test(e.message)));
});

test('a layer that takes the same tensor twice is refused (tfjs cannot run it), naming the layer and the tensor', () => {
  const layers = residual();
  layers[3] = node('add', 'Add', ['conv_b', 'conv_b']);
  layers[2] = node('conv_b', 'Conv2D', ['conv_a'], { filters: 4, kernel_size: 3, padding: 'same' });
  const errs = errors(graph(layers));
  assert.ok(errs.some((e) => /^Layer 3 'add' \(Add\): inbound_nodes = "conv_b" — takes 'conv_b' twice; tfjs cannot run/.test(e.message)), errs.map((e) => e.message).join('\n'));
});

test('two inputs or two outputs are refused with a message that only one is supported now', () => {
  const layers = [...residual(), node('image2', 'InputLayer', [], { shape: [8, 8, 1] })];
  const spec = graph(layers);
  spec.config.input_layers = [['image', 0, 0], ['image2', 0, 0]];
  const errs = errors(spec);
  assert.ok(errs.some((e) => e.layerIndex === null && /the model has 2 inputs \('image', 'image2'\); only one input is supported now/.test(e.message)), errs.map((e) => e.message).join('\n'));
  const two = graph(residual());
  two.config.output_layers = [['class_prob', 0, 0], ['gap', 0, 0]];
  assert.ok(errors(two).some((e) => /the model has 2 outputs \('class_prob', 'gap'\); only one output is supported now/.test(e.message)));
});

test('Concatenate joins along the channels (or another axis) and refuses the batch axis', () => {
  const layers = residual();
  layers[3] = node('add', 'Concatenate', ['conv_a', 'conv_b', 'image']);
  const s = summarizeSpec(graph(layers));
  assert.deepEqual(s.issues, []);
  assert.deepEqual(s.rows.find((r) => r.name === 'add')?.outputShape, [null, 8, 8, 9]);
  layers[3] = node('add', 'Concatenate', ['conv_a', 'conv_b'], { axis: 2 });
  assert.deepEqual(summarizeSpec(graph(layers)).rows.find((r) => r.name === 'add')?.outputShape, [null, 8, 16, 4]);
  layers[3] = node('add', 'Concatenate', ['conv_a', 'conv_b'], { axis: 0 });
  oneError(graph(layers), /\(Concatenate\): axis = 0 — must name an axis of its \(None, 8, 8, 4\) inputs: -3…-1 or 1…3 \(0 is the batch\)/);
});

test('parseSpec keeps a functional spec (names, wiring); withDefaults fills each layer', () => {
  const parsed = parseSpec(example('residual-cnn'));
  assert.equal(parsed.class_name, 'Functional');
  const full = withDefaults(parsed);
  assert.equal(full.class_name, 'Functional');
  if (full.class_name !== 'Functional') return;
  const add = full.config.layers.find((l) => l.name === 'add');
  assert.deepEqual(add?.inbound_nodes, [[['conv', 0, 0, {}], ['branch_conv2', 0, 0, {}]]]);
  assert.equal(full.config.layers.find((l) => l.name === 'pool')?.config.strides?.toString(), '2,2');
  assert.throws(() => parseSpec({ ...example('residual-cnn'), config: { ...example('residual-cnn').config, layers: [{ name: 'x', class_name: 'Conv2D', config: {}, inbound_nodes: 'image' }] } }), /inbound_nodes/);
});

test('the builder wires a tf.model whose shapes, parameter counts and outputs match the graph', () => {
  const spec = graph(residual());
  const model = buildModel(spec, 7);
  assert.equal(model.countParams(), summarizeSpec(spec).totalParams);
  assert.deepEqual(model.outputs[0]!.shape, [null, 10]);
  const add = model.getLayer('add');
  assert.deepEqual(add.inboundNodes[0]!.inboundLayers.map((l) => l.name), ['conv_a', 'conv_b']);
  // The output equals the graph computed by hand from the layers' own weights.
  const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 3);
  const a = model.getLayer('conv_a').apply(x) as tf.Tensor;
  const b = model.getLayer('conv_b').apply(a) as tf.Tensor;
  const byHand = model.getLayer('class_prob').apply(tf.mean(tf.add(a, b), [1, 2])) as tf.Tensor;
  const got = model.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(got, byHand))).dataSync()[0]! < 1e-6);
  // Same spec and seed ⇒ the same weights.
  const again = buildModel(spec, 7);
  assert.deepEqual(again.getWeights().map((w) => Array.from(w.dataSync())), model.getWeights().map((w) => Array.from(w.dataSync())));
  model.dispose();
  again.dispose();
});

test('every merge layer builds in tfjs and computes what Keras does', () => {
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['Add', (a, b) => tf.add(a, b)],
    ['Subtract', (a, b) => tf.sub(a, b)],
    ['Multiply', (a, b) => tf.mul(a, b)],
    ['Average', (a, b) => tf.div(tf.add(a, b), 2)],
    ['Maximum', (a, b) => tf.maximum(a, b)],
    ['Concatenate', (a, b) => tf.concat([a, b], -1)],
  ];
  for (const [cls, op] of ops) {
    const layers = residual();
    layers[3] = node('add', cls, ['conv_a', 'conv_b']);
    const model = buildModel(graph(layers), 5);
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 4);
    const a = model.getLayer('conv_a').apply(x) as tf.Tensor;
    const b = model.getLayer('conv_b').apply(a) as tf.Tensor;
    const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer('add').output as tf.SymbolicTensor });
    const diff = tf.max(tf.abs(tf.sub(sub.predict(x) as tf.Tensor, op(a, b)))).dataSync()[0]!;
    assert.ok(diff < 1e-6, `${cls}: differs by ${diff}`);
    model.dispose();
  }
});

test('the example graphs validate: residual, small ResNet and Inception blocks', () => {
  for (const name of ['residual-cnn', 'small-resnet', 'inception-blocks']) {
    const s = summarizeSpec(example(name));
    assert.deepEqual(s.issues.map((i) => i.message), [], name);
    const model = buildModel(example(name), 1);
    assert.equal(model.countParams(), s.totalParams, name);
    model.dispose();
  }
});
