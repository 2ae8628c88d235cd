/**
 * Ready-made models. The JSON files in examples/ are the one source of truth (the CLI and the docs use the same
 * files); they are parsed here at load time, so a broken example fails loudly at import.
 */
import type { ModelSpec } from '../../shared/spec';
import lessonCnn from '../../../examples/lesson-cnn.json' with { type: 'json' };
import lenet5 from '../../../examples/lenet5.json' with { type: 'json' };
import smallCnn from '../../../examples/small-cnn.json' with { type: 'json' };
import smallMlp from '../../../examples/small-mlp.json' with { type: 'json' };
import { parseSpec } from './spec';

/** One ready-made model for the template picker. */
export interface Template {
  id: string;
  label: string;
  spec: ModelSpec;
}

/** The lesson's CNN, a small CNN (quick to train; tests and demos), LeNet-5 and a small MLP. */
export const TEMPLATES: Template[] = [
  { id: 'lesson-cnn', label: "The lesson's CNN (468,586 params, BatchNorm + Dropout)", spec: parseSpec(lessonCnn) },
  { id: 'small-cnn', label: 'Small CNN (54,410 params, no BatchNorm; learns in one short epoch)', spec: parseSpec(smallCnn) },
  { id: 'lenet5', label: 'LeNet-5 (tanh, average pooling)', spec: parseSpec(lenet5) },
  { id: 'small-mlp', label: 'Small MLP (Flatten, Dense 128, Dropout)', spec: parseSpec(smallMlp) },
];

/** The template with this id; throws naming the id received and the known ones. */
export function getTemplate(id: string): Template {
  const t = TEMPLATES.find((x) => x.id === id);
  if (!t) throw new Error(`Unknown template: ${JSON.stringify(id)}. Known: ${TEMPLATES.map((x) => x.id).join(', ')}`);
  return t;
}
