/**
 * Bounds on untrusted JSON values, shared by the services' boundary and the spec checks: how deep a value may
 * nest, and how much of a received value an error or warning may echo back. Pure functions, no imports.
 *
 * Why a depth cap: JSON.parse copes with any nesting, but everything recursive after it does not —
 * JSON.stringify, structuredClone (the worker boundary) and the spec checks all overflow the stack at a
 * few thousand levels ("Maximum call stack size exceeded"). No legitimate payload nests beyond a dozen levels.
 */

/** Deepest nesting of arrays/objects a payload may have (a spec is ~5 deep; kernel_size pairs add 1). */
export const MAX_JSON_DEPTH = 64;

/** Longest rendering of a received value inside a message (the rest is summarised by its length). */
export const MAX_SHOWN_CHARS = 120;

/** How deep `value` nests (a scalar is 0, `[]` is 1), counted without recursion and stopping past `limit`. */
export function nestingDepth(value: unknown, limit: number = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const d = depth + 1;
    if (d > deepest) deepest = d;
    if (d > limit) return d;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, d]);
    }
  }
  return deepest;
}

/**
 * A value as JSON for a message, at most `max` characters: a long string is cut before it is encoded (so a
 * 60 MB string costs nothing to mention), anything longer is cut with its full length stated, and a value
 * that cannot be encoded (too deep, circular) is described instead of throwing.
 */
export function showJson(value: unknown, max: number = MAX_SHOWN_CHARS): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string' && value.length > max) {
    return `${JSON.stringify(value.slice(0, max))}… (a string of ${value.length} characters)`;
  }
  if (value !== null && typeof value === 'object' && nestingDepth(value) > MAX_JSON_DEPTH) {
    return `${Array.isArray(value) ? 'an array' : 'an object'} nested more than ${MAX_JSON_DEPTH} levels deep`;
  }
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max)}… (${s.length} characters)` : s;
}
