// The boundary accepts Functional (graph) specs next to Sequential ones; the wiring is the core's to judge.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { AnyModelSpec } from '../shared/spec';
import { createCoreBridge } from './core-bridge';
import { ModelSpecSchema } from './schemas';

const root = path.resolve(import.meta.dirname, '../..');
const example = (name: string): unknown => JSON.parse(readFileSync(path.join(root, 'examples', `${name}.json`), 'utf8'));

test('the wire schema accepts Sequential and Functional specs, and refuses malformed wiring', () => {
  assert.equal(ModelSpecSchema.safeParse(example('lesson-cnn')).success, true);
  assert.equal(ModelSpecSchema.safeParse(example('residual-cnn')).success, true);
  const spec = example('residual-cnn') as { config: { layers: { inbound_nodes: unknown }[]; output_layers: unknown } };
  spec.config.layers[1]!.inbound_nodes = 'image';
  assert.equal(ModelSpecSchema.safeParse(spec).success, false);
  assert.equal(ModelSpecSchema.safeParse({ ...(example('lesson-cnn') as object), class_name: 'Model' }).success, false);
});

test('the services summarise a graph with "Connected to" and name a cycle', async () => {
  const core = createCoreBridge();
  const summary = await core.summarizeSpec(ModelSpecSchema.parse(example('residual-cnn')) as unknown as AnyModelSpec);
  assert.equal(summary.ok, true, JSON.stringify(summary.issues));
  assert.deepEqual(summary.rows.find((r) => r.name === 'add')?.connectedTo, ['conv', 'branch_conv2']);
  const cyclic = example('residual-cnn') as { config: { layers: { name: string; inbound_nodes: unknown }[] } };
  cyclic.config.layers.find((l) => l.name === 'conv')!.inbound_nodes = [[['image', 0, 0, {}], ['add', 0, 0, {}]]];
  const bad = await core.summarizeSpec(cyclic as unknown as AnyModelSpec);
  assert.equal(bad.ok, false);
  assert.ok(bad.issues.some((i) => /is part of a cycle/.test(i.message)), JSON.stringify(bad.issues.map((i) => i.message)));
});
