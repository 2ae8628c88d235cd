// One rule per optimizer field (shared/optimizers.ts): the wire schema, the core's hyperparameter check and the
// optimizer factory accept and refuse exactly the same values. Momentum 1.5 used to pass the wire and the
// pre-check, then fail inside the worker.
import assert from 'node:assert/strict';
import test from 'node:test';
import { LESSON_HYPERPARAMETERS, OPTIMIZER_NAMES, type Hyperparameters } from '../shared/spec';
import { OPTIMIZER_FIELD_RULES, OPTIMIZERS } from '../shared/optimizers';
import { createOptimizer } from '../core/model/optimizer';
import { validateHyperparameters } from '../core/train/hyperparameters';
import { HyperparametersSchema } from './schemas';

const withOptimizer = (class_name: Hyperparameters['optimizer']['class_name'], config: Record<string, unknown>): Hyperparameters =>
  ({ ...LESSON_HYPERPARAMETERS, optimizer: { class_name, config: { learning_rate: 0.01, ...config } } }) as Hyperparameters;

/** Whether each of the three checks accepts the hyperparameters. */
function verdicts(h: Hyperparameters): { wire: boolean; core: boolean; factory: boolean } {
  const wire = HyperparametersSchema.safeParse(h).success;
  let core = true;
  try {
    validateHyperparameters(h);
  } catch {
    core = false;
  }
  let factory = true;
  try {
    createOptimizer(h.optimizer).dispose();
  } catch {
    factory = false;
  }
  return { wire, core, factory };
}

test('momentum 1.5 is refused by the wire schema, the core check and the optimizer factory alike', () => {
  assert.deepEqual(verdicts(withOptimizer('sgd', { momentum: 1.5 })), { wire: false, core: false, factory: false });
  assert.deepEqual(verdicts(withOptimizer('sgd', { momentum: 0.9 })), { wire: true, core: true, factory: true });
  assert.match(String((() => { try { validateHyperparameters(withOptimizer('sgd', { momentum: 1.5 })); } catch (e) { return (e as Error).message; } })()), /momentum.*in \[0, 1\)/);
});

test('every optimizer field: its boundary values get the same verdict from all three checks', () => {
  for (const name of OPTIMIZER_NAMES) {
    for (const field of Object.keys(OPTIMIZERS[name].defaults)) {
      const rule = OPTIMIZER_FIELD_RULES[field as keyof typeof OPTIMIZER_FIELD_RULES];
      const probes: unknown[] = rule.kind === 'bool' ? [true, false, 1] : [rule.min, rule.min - 1e-9, rule.min + 0.5, rule.max ?? 10, (rule.max ?? 10) + 1e-9, Number.NaN];
      for (const value of probes) {
        const v = verdicts(withOptimizer(name, { [field]: value }));
        assert.ok(v.wire === v.core && v.core === v.factory, `${name}.${field} = ${String(value)}: wire ${v.wire}, core ${v.core}, factory ${v.factory}`);
      }
    }
  }
});
