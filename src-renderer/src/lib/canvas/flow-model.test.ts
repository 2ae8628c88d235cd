import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionalModelSpec, SpecSummary } from '$shared/spec';
import { isMergeClass } from '$shared/layers/index';
import { addBlock, connect, toGraph } from './graph-ops';
import { flowModel, parseWireId, wireId } from './flow-model';

function residual(): FunctionalModelSpec {
  let g = toGraph({
    format_version: 1,
    class_name: 'Sequential',
    config: { name: 'r', layers: [{ class_name: 'InputLayer', config: { shape: [8, 8, 1] } }, { class_name: 'Conv2D', config: { filters: 4, kernel_size: 3 } }] },
  });
  g = addBlock(g, 'Conv2D', { filters: 4, kernel_size: 1 }, 'input_layer').spec;
  const add = addBlock(g, 'Add', {}, 'conv2d');
  return connect(add.spec, 'conv2d_1', add.name, isMergeClass);
}

test('blocks carry the summary row of their layer (by name) and the wires their slots', () => {
  const g = residual();
  const summary: SpecSummary = {
    ok: true,
    issues: [],
    rows: [{ index: 1, name: 'conv2d', className: 'Conv2D', outputShape: [null, 6, 6, 4], params: 40, trainableParams: 40, nonTrainableParams: 0 }],
    totalParams: 40,
    trainableParams: 40,
    nonTrainableParams: 0,
  };
  const { nodes, edges } = flowModel(g, summary, new Map(), ['conv2d']);
  const conv = nodes.find((n) => n.id === 'conv2d');
  assert.equal(conv?.data.shape, '(None, 6, 6, 4)');
  assert.equal(conv?.data.params, '40');
  assert.equal(conv?.selected, true);
  assert.equal(nodes.find((n) => n.id === 'conv2d_1')?.data.shape, null);
  assert.deepEqual(
    edges.map((e) => e.id),
    g.config.layers.flatMap((l) => (l.inbound_nodes[0] ?? []).map((r, slot) => wireId(r[0], l.name, slot))),
  );
  assert.deepEqual(parseWireId(wireId('a->b', 'c', 1)), { source: 'a->b', target: 'c', slot: 1 });
});

test('an issue naming a layer marks its block, and the wire from an input it also names', () => {
  const g = residual();
  const merge = g.config.layers.at(-1)?.name ?? '';
  const message = `${merge}: its inputs disagree: conv2d gives (None, 6, 6, 4) and conv2d_1 gives (None, 8, 8, 4)`;
  const summary: SpecSummary = {
    ok: false,
    issues: [{ severity: 'error', layerIndex: null, layerName: merge, field: null, received: null, message }],
    rows: [],
    totalParams: 0,
    trainableParams: 0,
    nonTrainableParams: 0,
  };
  const { nodes, edges } = flowModel(g, summary, new Map(), []);
  const block = nodes.find((n) => n.id === merge);
  assert.equal(block?.data.severity, 'error');
  assert.deepEqual(block?.data.issues, [message]);
  const marked = edges.filter((e) => e.data?.issue !== null).map((e) => e.source);
  assert.deepEqual(marked.sort(), ['conv2d', 'conv2d_1']);
  assert.equal(edges.find((e) => e.target === 'conv2d')?.class, undefined);
});
