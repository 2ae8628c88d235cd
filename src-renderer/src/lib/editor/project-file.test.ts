import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LESSON_HYPERPARAMETERS } from '$shared/spec';
import type { Project } from '$shared/contract';
import { emptySpec } from './layer-ops';
import { parseProjectFile, projectFileName, serializeProject } from './project-file';

const project: Project = { format_version: 1, spec: emptySpec('lesson cnn'), hyperparameters: LESSON_HYPERPARAMETERS, datasetId: 'fashion-mnist' };

test('a saved project reads back equal', () => {
  assert.deepEqual(parseProjectFile(serializeProject(project), 'p.json'), project);
  assert.equal(projectFileName('lesson cnn'), 'lesson-cnn.cnnproj.json');
});

test('errors name the file, the field and the value received', () => {
  assert.throws(() => parseProjectFile('{oops', 'p.json'), /p\.json is not JSON/);
  const badLayer = { ...project, spec: { ...project.spec, config: { name: 'x', layers: [{ class_name: 'Conv3D', config: {} }] } } };
  assert.throws(() => parseProjectFile(JSON.stringify(badLayer), 'p.json'), /p\.json: spec\.config\.layers\[0\]\.class_name must be one of .*received "Conv3D"/);
  const badBatch = { ...project, hyperparameters: { ...LESSON_HYPERPARAMETERS, batch_size: '128' } };
  assert.throws(() => parseProjectFile(JSON.stringify(badBatch), 'q.json'), /q\.json: hyperparameters\.batch_size must be a number, received "128"/);
  const badPolicy = { ...project, hyperparameters: { ...LESSON_HYPERPARAMETERS, dtype_policy: 'bf16' } };
  assert.throws(() => parseProjectFile(JSON.stringify(badPolicy), 'r.json'), /r\.json: hyperparameters\.dtype_policy must be one of float32, mixed_bfloat16, received "bf16"/);
  const bf16 = { ...project, hyperparameters: { ...LESSON_HYPERPARAMETERS, dtype_policy: 'mixed_bfloat16' as const } };
  assert.deepEqual(parseProjectFile(serializeProject(bf16), 'p.json'), bf16);
});

test('a graph (Functional) project reads back equal; a layer without inbound_nodes is named', () => {
  const graph: Project = {
    ...project,
    spec: {
      format_version: 1,
      class_name: 'Functional',
      config: {
        name: 'res',
        layers: [
          { class_name: 'InputLayer', name: 'input_layer', config: { name: 'input_layer', shape: [28, 28, 1] }, inbound_nodes: [] },
          { class_name: 'Flatten', name: 'flatten', config: { name: 'flatten' }, inbound_nodes: [[['input_layer', 0, 0, {}]]] },
        ],
        input_layers: [['input_layer', 0, 0]],
        output_layers: [['flatten', 0, 0]],
      },
    },
  };
  assert.deepEqual(parseProjectFile(serializeProject(graph), 'g.json'), graph);
  const data = JSON.parse(serializeProject(graph)) as { spec: { config: { layers: Record<string, unknown>[] } } };
  data.spec.config.layers[1].inbound_nodes = 3;
  assert.throws(() => parseProjectFile(JSON.stringify(data), 'g.json'), /g\.json: spec\.config\.layers\[1\]\.inbound_nodes must be an array, received 3/);
});

test('the canvas positions read back equal; a position that is not two finite numbers is named', () => {
  const placed: Project = { ...project, canvasPositions: { input_layer: { x: 12.5, y: -40 }, dense: { x: 300, y: 180 } } };
  assert.deepEqual(parseProjectFile(serializeProject(placed), 'p.json'), placed);
  const bad = { ...project, canvasPositions: { dense: { x: 300, y: null } } };
  assert.throws(() => parseProjectFile(JSON.stringify(bad), 's.json'), /s\.json: canvasPositions\.dense must be an \{x, y\} of finite numbers, received \{"x":300,"y":null\}/);
  assert.throws(() => parseProjectFile(JSON.stringify({ ...project, canvasPositions: [1] }), 's.json'), /s\.json: canvasPositions must be an object/);
});
