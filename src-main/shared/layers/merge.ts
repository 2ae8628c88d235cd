/**
 * Keras' merge layers (`Add`, `Concatenate`, `Multiply`, `Average`, `Maximum`, `Subtract`): the joins of a graph
 * network (a residual block's sum, an Inception block's concatenation). They take two or more tensors — so they
 * only make sense in a Functional model — and have no weights.
 */
import type { FieldDescriptor, LayerClassName } from '../spec';
import { defineLayer, describeShape, type Dim, type InferContext, type Inferred, type Shape } from './kit';

export type MergeConfig = Record<string, never>;
export interface ConcatenateConfig {
  axis: number;
}

/** The merge classes that combine their inputs element by element (all inputs of one shape). */
export type ElementwiseMergeClass = 'Add' | 'Multiply' | 'Average' | 'Maximum' | 'Subtract';
export type MergeClassName = ElementwiseMergeClass | 'Concatenate';
export const MERGE_CLASS_NAMES: readonly MergeClassName[] = ['Add', 'Concatenate', 'Multiply', 'Average', 'Maximum', 'Subtract'];
export const isMergeClass = (c: LayerClassName): c is MergeClassName => (MERGE_CLASS_NAMES as readonly string[]).includes(c);

const unknownOutput: Inferred = { output: null, params: 0, nonTrainable: 0 };
const inputName = (ctx: InferContext, i: number): string => (ctx.inputNames[i] === undefined ? `input ${i + 1}` : `'${ctx.inputNames[i]}'`);

/**
 * Checks the number of inputs: a merge needs two or more (`Subtract` exactly two). Returns false (after reporting)
 * when the count is wrong.
 */
function checkArity(ctx: InferContext, inputs: readonly Shape[], exactlyTwo: boolean): boolean {
  if (inputs.length < 2) {
    ctx.error(null, undefined, `a merge layer takes two or more inputs but receives ${inputs.length}; merge layers belong in a Functional (graph) model, where their inputs are the layers named in inbound_nodes`);
    return false;
  }
  if (exactlyTwo && inputs.length !== 2) {
    ctx.error(null, undefined, `Subtract takes exactly two inputs (the first minus the second) but receives ${inputs.length}`);
    return false;
  }
  return true;
}

/** Two shapes agree where both are known: same rank, and every dim known in both equal (unknown dims skipped). */
function agree(a: Dim[], b: Dim[], skipAxis: number | null): boolean {
  if (a.length !== b.length) return false;
  return a.every((d, i) => i === skipAxis || d === null || b[i] === null || d === b[i]);
}

/** Element-wise merges: every input must have the first input's shape; the output has it too. */
function inferElementwise(ctx: InferContext, inputs: readonly Shape[], exactlyTwo: boolean): Inferred {
  if (!checkArity(ctx, inputs, exactlyTwo)) return unknownOutput;
  const first = inputs[0] ?? null;
  for (let i = 1; i < inputs.length; i++) {
    const other = inputs[i] ?? null;
    if (first === null || other === null) continue;
    if (!agree(first, other, null)) {
      ctx.error(
        null,
        undefined,
        `its inputs disagree: ${inputName(ctx, 0)} gives ${describeShape(first)} and ${inputName(ctx, i)} gives ${describeShape(other)}; ${ctx.className} needs inputs of one shape — add a 1×1 Conv2D (with the same strides) on the shortcut to match them`,
      );
      return unknownOutput;
    }
  }
  // Where one input's dim is unknown (an earlier error) another input may still know it.
  const output = first === null ? null : first.map((d, axis) => d ?? inputs.map((s) => s?.[axis] ?? null).find((x) => x !== null) ?? null);
  return { output, params: 0, nonTrainable: 0 };
}

const elementwise = <K extends ElementwiseMergeClass>(className: K, namePrefix: string, summary: string) =>
  defineLayer({
    className,
    role: 'maps',
    namePrefix,
    palette: 'Merge',
    summary,
    fields: [] as readonly FieldDescriptor[],
    infer: (ctx: InferContext, _input: Shape, inputs: readonly Shape[]) => inferElementwise(ctx, inputs, className === 'Subtract'),
    resolve: (): MergeConfig => ({}),
    caption: () => '',
  });

export const add = elementwise('Add', 'add', 'Adds its inputs element by element: the join of a residual (ResNet) block.');
export const multiply = elementwise('Multiply', 'multiply', 'Multiplies its inputs element by element (gating, attention-style blocks).');
export const average = elementwise('Average', 'average', 'Averages its inputs element by element.');
export const maximum = elementwise('Maximum', 'maximum', 'Takes the element-wise maximum of its inputs.');
export const subtract = elementwise('Subtract', 'subtract', 'The first input minus the second, element by element (exactly two inputs).');

const axisField: FieldDescriptor = {
  name: 'axis',
  kind: 'int',
  label: 'Axis',
  help: 'The axis to join along; -1 = the channels (an Inception block stacks its branches’ feature maps). The batch axis 0 cannot be joined.',
  required: false,
  default: -1,
};

export const concatenate = defineLayer({
  className: 'Concatenate',
  role: 'maps',
  namePrefix: 'concatenate',
  palette: 'Merge',
  summary: 'Joins its inputs along an axis (by default the channels): the join of an Inception block.',
  fields: [axisField],
  infer(ctx, _input, inputs) {
    if (!checkArity(ctx, inputs, false)) return unknownOutput;
    const first = inputs[0] ?? null;
    if (first === null) return unknownOutput;
    const rank = first.length;
    const given = ctx.int('axis');
    if (given === null) return unknownOutput;
    // Keras counts axes with the batch: -1 is the last, 1 the first per-sample axis; 0 (the batch) cannot be joined.
    const axis = given < 0 ? rank + given : given - 1;
    if (given === 0 || axis < 0 || axis >= rank) {
      ctx.error('axis', given, `must name an axis of its ${describeShape(first)} inputs: -${rank}…-1 or 1…${rank} (0 is the batch)`);
      return unknownOutput;
    }
    let joined: Dim = 0;
    for (let i = 0; i < inputs.length; i++) {
      const s = inputs[i] ?? null;
      if (s === null) {
        joined = null;
        continue;
      }
      if (!agree(first, s, axis)) {
        ctx.error(
          null,
          undefined,
          `its inputs disagree: ${inputName(ctx, 0)} gives ${describeShape(first)} and ${inputName(ctx, i)} gives ${describeShape(s)}; Concatenate along axis ${given} needs every other dimension equal`,
        );
        return unknownOutput;
      }
      const d = s[axis] ?? null;
      joined = joined === null || d === null ? null : joined + d;
    }
    return { output: first.map((d, i) => (i === axis ? joined : d)), params: 0, nonTrainable: 0 };
  },
  resolve: (r): ConcatenateConfig => ({ axis: r.int('axis') }),
  caption: (c) => (c.axis === undefined || c.axis === -1 ? '' : `axis ${String(c.axis)}`),
});
