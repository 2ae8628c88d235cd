/**
 * Which layer classes take several inputs (Keras' merge layers). Until the merge layers' definitions land
 * (branch h15a), this is Keras' list of them by class name; then it reads the definitions.
 */
import type { LayerClassName } from '$shared/spec';

const MERGE_CLASSES: ReadonlySet<string> = new Set(['Add', 'Concatenate', 'Multiply', 'Average', 'Maximum', 'Subtract']);

export function takesSeveralInputs(className: LayerClassName): boolean {
  return MERGE_CLASSES.has(className);
}
