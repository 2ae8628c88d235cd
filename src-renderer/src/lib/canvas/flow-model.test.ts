import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionalModelSpec, LayerClassName, SpecSummary } from '$shared/spec';
import { isMergeClass } from '$shared/layers/index';
import { addBlock, connect, toGraph } from './graph-ops';
import { flowModel, keepIdentity, parseWireId, wireId } from './flow-model';
import type { FlowDrawing } from './flow-model';

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

const row = (index: number, name: string, className: LayerClassName, outputShape: (number | null)[], params: number): SpecSummary['rows'][number] => ({
  index,
  name,
  className,
  outputShape,
  params,
  trainableParams: params,
  nonTrainableParams: 0,
});
const summaryOf = (rows: SpecSummary['rows'], issues: SpecSummary['issues'] = []): SpecSummary => ({
  ok: issues.length === 0,
  issues,
  rows,
  totalParams: 0,
  trainableParams: 0,
  nonTrainableParams: 0,
});

/** What Svelte Flow binds back once it has measured the blocks (its updateNodeInternals adds `measured`). */
function measuredBy(drawing: FlowDrawing): FlowDrawing {
  return { nodes: drawing.nodes.map((n, i) => ({ ...n, measured: { width: 210, height: 60 + i } })), edges: drawing.edges };
}

test('a summary keeps the objects of the blocks and wires it does not change, and a changed block its measured size', () => {
  const g = residual();
  const conv = row(1, 'conv2d', 'Conv2D', [null, 6, 6, 4], 40);
  const shown = measuredBy(flowModel(g, summaryOf([conv]), new Map(), []));
  const next = keepIdentity(shown, flowModel(g, summaryOf([conv, row(2, 'conv2d_1', 'Conv2D', [null, 8, 8, 4], 8)]), new Map(), []));

  for (const [i, node] of next.nodes.entries()) {
    if (node.id === 'conv2d_1') continue;
    assert.equal(node, shown.nodes[i], `${node.id} is the object Svelte Flow has`);
  }
  const changed = next.nodes.find((n) => n.id === 'conv2d_1');
  const before = shown.nodes.find((n) => n.id === 'conv2d_1');
  assert.notEqual(changed, before, 'a block the summary changed is a new object, so Svelte Flow sees the change');
  assert.equal(changed?.data.shape, '(None, 8, 8, 4)');
  assert.equal(changed?.data.params, '8');
  assert.deepEqual(changed?.measured, before?.measured, 'its measured size (and so its ports) carried over');
  assert.equal(next.edges, shown.edges, 'no wire changed: the very list');

  // The same summary again (or a re-derivation): nothing to adopt, the very lists.
  const again = keepIdentity(next, flowModel(g, summaryOf([conv, row(2, 'conv2d_1', 'Conv2D', [null, 8, 8, 4], 8)]), new Map(), []));
  assert.equal(again.nodes, next.nodes);
  assert.equal(again.edges, next.edges);
});

test('identity changes where the drawing does: selection, position, issues on a wire, a new block', () => {
  const g = residual();
  const merge = g.config.layers.at(-1)?.name ?? '';
  const shown = measuredBy(flowModel(g, summaryOf([]), new Map(), []));
  const at = (d: FlowDrawing, id: string): FlowDrawing['nodes'][number] | undefined => d.nodes.find((n) => n.id === id);

  const selected = keepIdentity(shown, flowModel(g, summaryOf([]), new Map(), ['conv2d']));
  assert.equal(at(selected, 'conv2d')?.selected, true);
  assert.notEqual(at(selected, 'conv2d'), at(shown, 'conv2d'));
  assert.equal(at(selected, 'conv2d')?.data, at(shown, 'conv2d')?.data, 'its data did not change: the same data object');
  assert.equal(at(selected, 'input_layer'), at(shown, 'input_layer'));

  const moved = keepIdentity(shown, flowModel(g, summaryOf([]), new Map([['conv2d_1', { x: 300, y: 40 }]]), []));
  assert.deepEqual(at(moved, 'conv2d_1')?.position, { x: 300, y: 40 });
  assert.notEqual(at(moved, 'conv2d_1'), at(shown, 'conv2d_1'));

  const message = `${merge}: its inputs disagree: conv2d gives (None, 6, 6, 4) and conv2d_1 gives (None, 8, 8, 4)`;
  const issue = summaryOf([], [{ severity: 'error', layerIndex: null, layerName: merge, field: null, received: null, message }]);
  const marked = keepIdentity(shown, flowModel(g, issue, new Map(), []));
  for (const [i, edge] of marked.edges.entries()) {
    if (edge.target === merge) {
      assert.notEqual(edge, shown.edges[i], `${edge.id} now carries the issue`);
      assert.equal(edge.data?.issue, message);
    } else assert.equal(edge, shown.edges[i], `${edge.id} is unchanged`);
  }
  assert.equal(at(marked, merge)?.data.severity, 'error');

  const grown = addBlock(g, 'Dense', { units: 10 }, merge).spec;
  const added = keepIdentity(shown, flowModel(grown, summaryOf([]), new Map(), []));
  assert.equal(at(added, 'dense')?.measured, undefined, 'a new block is measured by Svelte Flow');
  assert.equal(at(added, 'conv2d'), at(shown, 'conv2d'));
  assert.equal(added.edges.length, shown.edges.length + 1);
  for (const edge of shown.edges) assert.equal(added.edges.find((e) => e.id === edge.id), edge);
});
