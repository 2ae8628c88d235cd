import type { SpecIssue } from '../../shared/spec';

/**
 * Thrown when a model spec cannot be parsed or built. Carries every problem found (not just the first), each
 * naming the layer, field and value received, so the CLI and the UI can list them all at once.
 */
export class SpecError extends Error {
  override name = 'SpecError';
  /** Every problem found, errors and warnings, in layer order. */
  readonly issues: SpecIssue[];

  /**
   * @param issues the problems; the message lists the errors among them (or all issues if none is an error).
   * @param headline first line of the message.
   */
  constructor(issues: SpecIssue[], headline = 'Invalid model spec') {
    const errors = issues.filter((i) => i.severity === 'error');
    const shown = errors.length > 0 ? errors : issues;
    super(`${headline} (${shown.length} problem${shown.length === 1 ? '' : 's'}):\n${shown.map((i) => `  - ${i.message}`).join('\n')}`);
    this.issues = issues;
  }
}
