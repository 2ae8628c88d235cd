import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inboundLayerNames, isFunctionalSpec } from '$shared/spec';
import type { AnyModelSpec, FunctionalModelSpec, ModelSpec } from '$shared/spec';
import { isMergeClass } from '$shared/layers/index';
import { addBlock, connect, copyBlocks, disconnect, pasteBlocks, removeBlocks, setBlockField, settle, toGraph, wiresOf, wouldCycle } from './graph-ops';

const lesson: ModelSpec = {
  format_version: 1,
  class_name: 'Sequential',
  config: {
    name: 'm',
    layers: [
      { class_name: 'InputLayer', config: { shape: [28, 28, 1] } },
      { class_name: 'Conv2D', config: { filters: 8, kernel_size: 3 } },
      { class_name: 'Conv2D', config: { filters: 8, kernel_size: 3, name: 'mine' } },
      { class_name: 'Flatten', config: {} },
      { class_name: 'Dense', config: { units: 10, activation: 'softmax' } },
    ],
  },
};
const merges = isMergeClass;
const inputsOf = (g: FunctionalModelSpec, name: string): string[] => inboundLayerNames(g.config.layers.find((l) => l.name === name) ?? { class_name: 'Dense', name, config: {}, inbound_nodes: [] });
const graph = (s: AnyModelSpec): FunctionalModelSpec => {
  assert.ok(isFunctionalSpec(s));
  return s;
};

test('a Sequential model is its chain, named as Keras names it, and a chain settles back to the same Sequential', () => {
  const g = toGraph(lesson);
  assert.deepEqual(
    g.config.layers.map((l) => l.name),
    ['input_layer', 'conv2d', 'mine', 'flatten', 'dense'],
  );
  assert.deepEqual(inputsOf(g, 'mine'), ['conv2d']);
  assert.deepEqual(g.config.input_layers, [['input_layer', 0, 0]]);
  assert.deepEqual(g.config.output_layers, [['dense', 0, 0]]);
  assert.deepEqual(settle(g), lesson);
});

test('adding a block after the last keeps a chain Sequential; an unwired block or a branch makes it Functional', () => {
  const g = toGraph(lesson);
  const after = addBlock(g, 'Dropout', { rate: 0.5 }, 'dense');
  assert.equal(after.name, 'dropout');
  const s = settle(after.spec);
  assert.equal(s.class_name, 'Sequential');
  assert.deepEqual(s.config.layers.at(-1), { class_name: 'Dropout', config: { rate: 0.5 } });
  assert.equal(settle(addBlock(g, 'Dropout', {}, null).spec).class_name, 'Functional');
  const branch = addBlock(g, 'Conv2D', { filters: 8, kernel_size: 1 }, 'conv2d');
  assert.equal(branch.name, 'conv2d_1');
  assert.equal(settle(branch.spec).class_name, 'Functional');
});

test('connect replaces a single input, appends to a merge, and refuses cycles and wires into an InputLayer', () => {
  const added = addBlock(toGraph(lesson), 'Add', {}, 'mine');
  const add = added.name;
  assert.equal(add, 'add');
  let g = connect(added.spec, 'conv2d', add, merges);
  assert.deepEqual(inputsOf(g, add), ['mine', 'conv2d']);
  g = connect(g, add, 'flatten', merges);
  assert.deepEqual(inputsOf(g, 'flatten'), [add]);
  assert.equal(wouldCycle(g, 'dense', 'conv2d'), true);
  assert.equal(connect(g, 'dense', 'conv2d', merges), g);
  assert.equal(connect(g, 'conv2d', 'input_layer', merges), g);
  assert.deepEqual(g.config.output_layers, [['dense', 0, 0]]);
  // Layers stay in an order where each follows its inputs.
  const seen = new Set<string>();
  for (const l of g.config.layers) {
    for (const n of inboundLayerNames(l)) assert.ok(seen.has(n), `${l.name} listed before its input ${n}`);
    seen.add(l.name);
  }
});

test('removing a block in a chain bridges it; removing wires leaves open inputs', () => {
  const g = toGraph(lesson);
  const s = settle(removeBlocks(g, ['mine']));
  assert.deepEqual(
    s.config.layers.map((l) => l.class_name),
    ['InputLayer', 'Conv2D', 'Flatten', 'Dense'],
  );
  const cut = disconnect(g, [{ source: 'mine', target: 'flatten', slot: 0 }]);
  assert.deepEqual(inputsOf(cut, 'flatten'), []);
  assert.equal(wiresOf(cut).length, 3);
});

test('renaming through the form renames every wire; clearing the name gives a fresh auto name', () => {
  const g = setBlockField(toGraph(lesson), 'conv2d', 'name', 'stem');
  assert.deepEqual(inputsOf(g, 'mine'), ['stem']);
  assert.equal(g.config.layers[1].config.name, 'stem');
  const back = setBlockField(g, 'mine', 'name', undefined);
  assert.ok(back.config.layers.some((l) => l.name === 'conv2d'));
  assert.equal(setBlockField(g, 'stem', 'filters', 16).config.layers[1].config.filters, 16);
});

test('copy/paste of a residual block gives fresh auto names, keeps internal wires and continues from the selected block', () => {
  let g = toGraph({ ...lesson, config: { ...lesson.config, layers: lesson.config.layers.slice(0, 2) } });
  g = addBlock(g, 'Conv2D', { filters: 8, kernel_size: 3, padding: 'same' }, 'conv2d').spec;
  const added = addBlock(g, 'Add', {}, 'conv2d_1');
  const add = added.name;
  g = connect(added.spec, 'conv2d', add, merges);
  const fragment = copyBlocks(g, ['conv2d_1', add]);
  const { spec, names } = pasteBlocks(g, fragment, add);
  const add2 = names.get(add) ?? '';
  assert.equal(names.get('conv2d_1'), 'conv2d_2');
  assert.equal(add2, 'add_1');
  assert.deepEqual(inputsOf(spec, 'conv2d_2'), [add]);
  assert.deepEqual(inputsOf(spec, add2), ['conv2d_2', add]);
  assert.deepEqual(spec.config.output_layers, [[add2, 0, 0]]);
  const loose = graph(pasteBlocks(g, fragment).spec);
  assert.deepEqual(inputsOf(loose, 'conv2d_2'), []);
  assert.deepEqual(inputsOf(loose, add2), ['conv2d_2']);
});

test('pasting after a block in the middle of a network inserts the copy there', () => {
  const g = toGraph(lesson);
  const { spec, names } = pasteBlocks(g, copyBlocks(g, ['mine']), 'mine');
  const copy = names.get('mine') ?? '';
  assert.deepEqual(inputsOf(spec, copy), ['mine']);
  assert.deepEqual(inputsOf(spec, 'flatten'), [copy]);
  assert.equal(settle(spec).class_name, 'Sequential');
});

