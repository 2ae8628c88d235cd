/**
 * The one entry point through which untrusted callers (Electron IPC, browser-mode WebSocket) reach the
 * services: look up `service.method` in the contract's channel list, validate the arguments with zod,
 * call, and turn any failure into a `WireError` — so a bad payload gets `{name, message}` back and the
 * process keeps running.
 */
import type { z } from 'zod';
import { API_METHODS, type MethodChannel, type ServiceName } from '../shared/channels';
import type { WireError, WorkbenchApi } from '../shared/contract';
import { MAX_JSON_DEPTH, nestingDepth, showJson } from '../core/json-limits';
import { METHOD_ARGS } from './schemas';

/** A payload that failed its schema, or a call to a method that does not exist. */
export class ValidationError extends Error {
  override name = 'ValidationError';
}

/** Longest rendering of a received value inside an error message. */
const MAX_SHOWN = 80;

function show(value: unknown): string {
  return showJson(value, MAX_SHOWN);
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describeIssue(channel: string, argName: string, value: unknown, issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? ` field ${issue.path.map(String).join('.')}` : '';
  const received = issue.code === 'too_big' && Array.isArray(valueAt(value, issue.path))
    ? `an array of ${(valueAt(value, issue.path) as unknown[]).length} items`
    : show(valueAt(value, issue.path));
  return `${channel}: argument '${argName}'${field}: ${issue.message} (received ${received})`;
}

/** True when `channel` names a method of the contract (own entries only: no `__proto__` tricks). */
export function isMethodChannel(channel: unknown): channel is MethodChannel {
  return typeof channel === 'string' && Object.prototype.hasOwnProperty.call(METHOD_ARGS, channel);
}

/**
 * Validates `args` for `channel` and returns them parsed. Throws `ValidationError` naming the method,
 * argument, field and received value. Optional arguments may be omitted, `undefined` or `null` (JSON
 * turns a trailing `undefined` into `null`).
 */
export function validateArgs(channel: unknown, args: unknown): unknown[] {
  if (!isMethodChannel(channel)) {
    throw new ValidationError(`unknown method ${show(channel)}: the contract has ${Object.keys(METHOD_ARGS).length} methods, e.g. 'model.summarize'`);
  }
  if (!Array.isArray(args)) throw new ValidationError(`${channel}: arguments must be an array (received ${show(args)})`);
  const spec = METHOD_ARGS[channel];
  if (args.length > spec.length) {
    throw new ValidationError(`${channel}: takes at most ${spec.length} argument(s), received ${args.length}`);
  }
  return spec.map((a, i) => {
    const value: unknown = args[i];
    if (a.optional && (value === undefined || value === null)) return undefined;
    if (value === undefined) throw new ValidationError(`${channel}: argument '${a.name}' is missing`);
    // Before zod or anything else recursive walks it: thousands of levels overflow the stack.
    if (nestingDepth(value) > MAX_JSON_DEPTH) {
      throw new ValidationError(`${channel}: argument '${a.name}' is nested more than ${MAX_JSON_DEPTH} levels deep (arrays or objects within each other); no argument of the contract needs that`);
    }
    const parsed = a.schema.safeParse(value);
    if (!parsed.success) throw new ValidationError(describeIssue(channel, a.name, value, parsed.error.issues[0]!));
    return parsed.data;
  });
}

/** Turns anything thrown into the `{name, message}` that crosses a process boundary — never a stack. */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) return { name: err.name || 'Error', message: err.message || String(err) };
  if (err && typeof err === 'object' && 'message' in err) {
    const e = err as { name?: unknown; message: unknown };
    return { name: typeof e.name === 'string' ? e.name : 'Error', message: String(e.message) };
  }
  return { name: 'Error', message: String(err) };
}

/** A function that performs one validated call: what IPC handlers and socket handlers invoke. */
export type Dispatch = (channel: unknown, args: unknown) => Promise<unknown>;

/** Builds the dispatcher over an implementation of the contract. Throws (rejects) with validated errors. */
export function createDispatch(api: WorkbenchApi): Dispatch {
  return async (channel, args) => {
    const parsed = validateArgs(channel, args);
    const [service, method] = (channel as MethodChannel).split('.') as [ServiceName, string];
    if (!(API_METHODS[service] as readonly string[]).includes(method)) throw new ValidationError(`unknown method '${String(channel)}'`);
    const target = api[service] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    return target[method]!.apply(target, parsed);
  };
}
