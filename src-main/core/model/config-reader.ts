/**
 * The `ConfigReader` a layer definition's `resolve` reads its typed config through: over a config that passed
 * validation and had Keras' defaults filled in (`withDefaults`). A value of the wrong type here means the
 * validator and a definition disagree — a bug, reported naming the layer and field, never a silent cast.
 */
import type { ActivationName } from '../../shared/spec';
import type { ConfigReader } from '../../shared/layers/kit';
import type { InitializerName, Pair } from '../../shared/layers/kit';
import { activationRegistry, initializerRegistry } from './registry';

export function configReader(className: string, config: Readonly<Record<string, unknown>>): ConfigReader {
  const where = (field: string) => `layer '${String(config.name)}' (${className}): config field ${field} = ${JSON.stringify(config[field])}`;
  const fail = (field: string, what: string): never => {
    throw new Error(`${where(field)} is not ${what} after validation (a layer definition disagrees with its fields)`);
  };
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const reader: ConfigReader = {
    name: String(config.name),
    trainable: config.trainable !== false,
    int: (f) => (isNum(config[f]) && Number.isInteger(config[f]) ? (config[f] as number) : fail(f, 'an integer')),
    float: (f) => (isNum(config[f]) ? (config[f] as number) : fail(f, 'a number')),
    floatOrNull: (f) => (config[f] === null || config[f] === undefined ? null : isNum(config[f]) ? (config[f] as number) : fail(f, 'a number or null')),
    bool: (f) => (typeof config[f] === 'boolean' ? (config[f] as boolean) : fail(f, 'true or false')),
    str<T extends string>(f: string, values: readonly T[]): T {
      const v = config[f];
      return typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : fail(f, `one of ${values.join(', ')}`);
    },
    pair(f): Pair {
      const v = config[f];
      if (isNum(v)) return [v, v];
      return Array.isArray(v) && v.length === 2 && v.every(isNum) ? [v[0] as number, v[1] as number] : fail(f, 'a pair of integers');
    },
    ints: (f) => {
      const v = config[f];
      return Array.isArray(v) && v.every((x) => isNum(x) && Number.isInteger(x)) ? (v as number[]) : fail(f, 'a list of integers');
    },
    activation(): ActivationName {
      const v = config.activation;
      return activationRegistry.has(v) ? v : fail('activation', 'a known activation');
    },
    initializer(f): InitializerName {
      const v = config[f];
      return initializerRegistry.has(v) ? v : fail(f, 'a known initializer');
    },
    padding2d(f): [Pair, Pair] {
      const v = config[f];
      const ok = Array.isArray(v) && v.length === 2 && v.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => isNum(x)));
      return ok ? (v as [Pair, Pair]) : fail(f, '[[top, bottom], [left, right]]');
    },
  };
  return reader;
}
