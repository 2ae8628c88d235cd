// A layer class is one definition in two halves (shared/layers: fields, shapes, typed config, caption;
// core/model/layers: tfjs build, Keras/R, ONNX, fused step). These tests pin that the compiler refuses an
// incomplete definition and that the records cover every class — the reason adding a layer is now a short list.
import assert from 'node:assert/strict';
import test from 'node:test';
import { LAYER_CLASS_NAMES, SPEC_FORMAT_VERSION, type ModelSpec } from '../../../shared/spec';
import { LAYER_INFO } from '../../../shared/layers/index';
import { defineLayer, sameShape } from '../../../shared/layers/kit';
import { summarizeSpec } from '../validate';
import { LAYER_CORE } from './index';
import { defineCore, type LayerCore } from './kit';

test('the compiler refuses a layer definition that lacks a part', () => {
  // A core half without its ONNX translation:
  // @ts-expect-error Property 'onnx' is missing
  const noOnnx: LayerCore<'ReLU'> = { build: LAYER_CORE.ReLU.build, kerasArgs: () => [], rFunction: 'layer_activation_relu', fused: { unsupported: 'x' } };
  // A core half that forgets to say whether the fused step covers it:
  // @ts-expect-error Property 'fused' is missing
  defineCore<'Dense'>({ build: LAYER_CORE.Dense.build, kerasArgs: () => [], rFunction: 'layer_dense', onnx: (s) => s.x });
  // A tfjs-free half without shape inference:
  // @ts-expect-error Property 'infer' is missing
  defineLayer({ className: 'ReLU', namePrefix: 're_lu', palette: 'Dense', summary: '', fields: [], resolve: () => ({}), caption: () => '' });
  // The record of core halves without one class:
  const { ReLU: _relu, ...withoutRelu } = LAYER_CORE;
  // @ts-expect-error Property 'ReLU' is missing
  const record: typeof LAYER_CORE = withoutRelu;
  // The tfjs-free record with a class the spec does not name:
  // @ts-expect-error 'Conv3D' is not a LayerClassName
  defineLayer({ className: 'Conv3D', namePrefix: 'conv3d', palette: 'Convolution', summary: '', fields: [], infer: sameShape, resolve: () => ({}), caption: () => '' });
  assert.ok(noOnnx && record);
});

test('every layer class has both halves, and each half names its own class', () => {
  for (const c of LAYER_CLASS_NAMES) {
    assert.equal(LAYER_INFO[c].className, c);
    assert.ok(LAYER_CORE[c], c);
    assert.equal(typeof LAYER_CORE[c].build, 'function', c);
    assert.match(LAYER_CORE[c].rFunction, /^layer_/, c);
  }
  assert.deepEqual(Object.keys(LAYER_INFO).sort(), [...LAYER_CLASS_NAMES].sort());
  assert.deepEqual(Object.keys(LAYER_CORE).sort(), [...LAYER_CLASS_NAMES].sort());
});

test("ReLU(max_value=6) and GroupNormalization(groups=4) after a 32-filter Conv2D: Keras' shapes and counts", () => {
  const spec: ModelSpec = {
    format_version: SPEC_FORMAT_VERSION,
    class_name: 'Sequential',
    config: {
      name: 'relu6_groupnorm',
      layers: [
        { class_name: 'InputLayer', config: { shape: [28, 28, 1] } },
        { class_name: 'Conv2D', config: { filters: 32, kernel_size: 3 } },
        { class_name: 'GroupNormalization', config: { groups: 4 } },
        { class_name: 'ReLU', config: { max_value: 6 } },
        { class_name: 'GlobalAveragePooling2D', config: {} },
        { class_name: 'Dense', config: { units: 10, activation: 'softmax' } },
      ],
    },
  };
  const s = summarizeSpec(spec);
  assert.equal(s.ok, true, JSON.stringify(s.issues));
  const rows = s.rows.map((r) => [r.name, r.outputShape, r.params]);
  assert.deepEqual(rows, [
    ['input_layer', [null, 28, 28, 1], 0],
    ['conv2d', [null, 26, 26, 32], 320],
    ['group_normalization', [null, 26, 26, 32], 64],
    ['re_lu', [null, 26, 26, 32], 0],
    ['global_average_pooling2d', [null, 32], 0],
    ['dense', [null, 10], 330],
  ]);
  assert.equal(s.totalParams, 714);
});

test('GroupNormalization whose groups do not divide the channels is refused, naming layer, field and both numbers', () => {
  const spec = {
    format_version: SPEC_FORMAT_VERSION,
    class_name: 'Sequential',
    config: {
      name: 'bad_groups',
      layers: [
        { class_name: 'InputLayer', config: { shape: [8, 8, 1] } },
        { class_name: 'Conv2D', config: { filters: 6, kernel_size: 3 } },
        { class_name: 'GroupNormalization', config: { groups: 4 } },
      ],
    },
  };
  const issue = summarizeSpec(spec).issues.find((i) => i.field === 'groups');
  assert.ok(issue, 'an issue on groups');
  assert.equal(issue.layerIndex, 2);
  assert.match(issue.message, /Layer 2 'group_normalization' \(GroupNormalization\): groups = 4 — the 6 input channels cannot be split into 4 equal groups/);
});
