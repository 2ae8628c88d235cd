/**
 * The layering rule covers Svelte components: the repository's own eslint.config.js (what `npm run lint`
 * runs) is asked to lint a component as if it were saved under src-renderer/src/components/. Nothing is
 * written to disk; lintText with a filePath applies exactly the config that file would get.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const COMPONENT = path.join(ROOT, 'src-renderer/src/components/editor/lint-probe.svelte');

function component(imports: string): string {
  return `<script lang="ts">\n  ${imports}\n  let { n }: { n: number } = $props();\n</script>\n\n<p>{n}</p>\n`;
}

async function layeringErrors(imports: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(component(imports), { filePath: COMPONENT });
  assert.equal(result.fatalErrorCount, 0, `the probe component must parse: ${JSON.stringify(result.messages)}`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

test('a component importing src-main/core fails the lint with the layering message', async () => {
  const errors = await layeringErrors(`import { buildModel } from '../../../../src-main/core/model/build';\n  void buildModel;`);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /The renderer only sees src-main\/shared/);
});

test('a component importing tfjs or services fails too', async () => {
  assert.equal((await layeringErrors(`import * as tf from '@tensorflow/tfjs';\n  void tf;`)).length, 1);
  assert.equal((await layeringErrors(`import { createServices } from '../../../../src-main/services/index';\n  void createServices;`)).length, 1);
});

test('a component importing shared types through the $shared alias passes', async () => {
  assert.deepEqual(await layeringErrors(`import type { ModelSpec } from '$shared/spec';\n  const s: ModelSpec | null = null;\n  void s;`), []);
});
