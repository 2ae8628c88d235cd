/**
 * Ready-made models. The JSON files in examples/ are the one source of truth (the CLI and the docs use the same
 * files); they are parsed here at load time, so a broken example fails loudly at import.
 */
import type { AnyModelSpec } from '../../shared/spec';
import lessonCnn from '../../../examples/lesson-cnn.json' with { type: 'json' };
import lenet5 from '../../../examples/lenet5.json' with { type: 'json' };
import smallCnn from '../../../examples/small-cnn.json' with { type: 'json' };
import smallMlp from '../../../examples/small-mlp.json' with { type: 'json' };
import { parseSpec } from './spec';
import { summarizeSpec } from './validate';

/** One ready-made model for the template picker. */
export interface Template {
  id: string;
  label: string;
  spec: AnyModelSpec;
}

function template(id: string, json: unknown, describe: (params: string) => string): Template {
  const spec = parseSpec(json);
  // The count comes from the spec itself, so a label cannot drift from its example file.
  const params = summarizeSpec(spec).totalParams.toLocaleString('en-US');
  return { id, label: describe(params), spec };
}

/** The lesson's CNN, a small CNN (quick to train; tests and demos), LeNet-5 and a small MLP. */
export const TEMPLATES: Template[] = [
  template('lesson-cnn', lessonCnn, (p) => `The lesson's CNN (${p} params, BatchNorm + Dropout)`),
  template('small-cnn', smallCnn, (p) => `Small CNN (${p} params, no BatchNorm; learns in one short epoch)`),
  template('lenet5', lenet5, () => 'LeNet-5 (tanh, average pooling)'),
  template('small-mlp', smallMlp, () => 'Small MLP (Flatten, Dense 128, Dropout)'),
];

/** The template with this id; throws naming the id received and the known ones. */
export function getTemplate(id: string): Template {
  const t = TEMPLATES.find((x) => x.id === id);
  if (!t) throw new Error(`Unknown template: ${JSON.stringify(id)}. Known: ${TEMPLATES.map((x) => x.id).join(', ')}`);
  return t;
}
