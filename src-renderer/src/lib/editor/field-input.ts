/**
 * Text ⇄ value for one layer field, driven by the shared `FieldDescriptor` table. Only the *syntax* is checked
 * here (is it a whole number, a pair, a shape); ranges and shape compatibility are the core's job and come back
 * through the live summary, so every semantic message has one author and points at its layer.
 */
import type { FieldDescriptor, FieldValue } from '$shared/spec';

/** Parse outcome: a value to store, `undefined` to omit the field (Keras default), or a reason. */
export type FieldParse = { ok: true; value: FieldValue | undefined } | { ok: false; error: string };

/** How a value appears in a text input: pairs as `3, 3`, nested padding as `1, 1, 2, 2`. */
export function formatFieldValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.flat().join(', ');
  return String(value);
}

/** The placeholder that shows the Keras default (or that the field is required). */
export function fieldPlaceholder(d: FieldDescriptor): string {
  if (d.required) return d.suggested !== undefined ? `required, e.g. ${formatFieldValue(d.suggested)}` : 'required';
  if (d.default === null) return 'default: None';
  return `default: ${formatFieldValue(d.default)}`;
}

/** Split "3, 3", "3x3", "[3,3]" or "3 3" into number tokens (NaN for anything that is not a number). */
function numbers(t: string): number[] {
  return t
    .replace(/[[\]()]/g, ' ')
    .split(/[\s,x×]+/i)
    .filter((s) => s !== '')
    .map(Number);
}

const whole = (n: number): boolean => Number.isInteger(n);

/**
 * Parse what the user typed into a field.
 * @param d the field's descriptor (kind decides the syntax)
 * @param raw the input's text; empty means "not set", which is refused only for required fields
 */
export function parseFieldInput(d: FieldDescriptor, raw: string): FieldParse {
  const t = raw.trim();
  const bad = (expected: string): FieldParse => ({ ok: false, error: `${d.name} must be ${expected}, received "${t}"` });
  if (t === '') return d.required ? { ok: false, error: `${d.name} is required (Keras has no default)` } : { ok: true, value: undefined };
  switch (d.kind) {
    case 'string':
      return { ok: true, value: t };
    case 'int': {
      const n = Number(t);
      return whole(n) ? { ok: true, value: n } : bad('a whole number');
    }
    case 'float': {
      const n = Number(t);
      return Number.isFinite(n) ? { ok: true, value: n } : bad('a number');
    }
    case 'bool':
      return t === 'true' || t === 'false' ? { ok: true, value: t === 'true' } : bad('true or false');
    case 'enum':
      return d.values?.includes(t) ? { ok: true, value: t } : bad(`one of ${(d.values ?? []).join(', ')}`);
    case 'pair': {
      const ns = numbers(t);
      if (!ns.every(whole)) return bad('a whole number or two (height, width), e.g. 3 or 3, 3');
      if (ns.length === 1) return { ok: true, value: ns[0] };
      if (ns.length === 2) return { ok: true, value: ns };
      return bad('a whole number or two (height, width), e.g. 3 or 3, 3');
    }
    case 'shape': {
      const ns = numbers(t);
      return ns.length > 0 && ns.every(whole) ? { ok: true, value: ns } : bad('whole numbers without the batch dimension, e.g. 28, 28, 1');
    }
    case 'padding2d': {
      const ns = numbers(t);
      if (!ns.every(whole)) return bad('n, "rows, cols" or "top, bottom, left, right"');
      if (ns.length === 1) return { ok: true, value: ns[0] };
      if (ns.length === 2) return { ok: true, value: ns };
      if (ns.length === 4) return { ok: true, value: [ns.slice(0, 2), ns.slice(2, 4)] };
      return bad('n, "rows, cols" or "top, bottom, left, right"');
    }
  }
}

/** Starting config for a new layer: every required field gets its suggested value, everything else is omitted. */
export function starterConfig(fields: readonly FieldDescriptor[]): Record<string, FieldValue> {
  const config: Record<string, FieldValue> = {};
  for (const d of fields) if (d.required && d.suggested !== undefined) config[d.name] = d.suggested;
  return config;
}
