/**
 * The spec checks the app's main process runs (the editor's live summary, templates, the check before a run
 * starts) must not load tfjs there: importing it stalls the main event loop for 0.5–0.9 s on these machines.
 * Its own file, so that no other test has loaded tfjs into this process first.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { it } from 'node:test';
import { LESSON_HYPERPARAMETERS } from '../shared/spec';
import { createCoreBridge } from './core-bridge';

const require = createRequire(import.meta.url);
const tfjsLoaded = () => Object.keys(require.cache).filter((k) => k.includes(`${'@tensorflow'}/`));

it('summarizes, lists templates and checks a trainable request without loading tfjs', async () => {
  const core = createCoreBridge();
  const templates = await core.templates();
  const lesson = templates.find((t) => t.id === 'lesson-cnn');
  assert.ok(lesson);
  const summary = await core.summarizeSpec(lesson.spec);
  assert.equal(summary.totalParams, 468_586);
  await core.checkTrainable(lesson.spec, LESSON_HYPERPARAMETERS);
  await assert.rejects(core.checkTrainable({ format_version: 1, class_name: 'Sequential', config: { name: 'empty', layers: [] } }, LESSON_HYPERPARAMETERS), { name: 'SpecError' });
  assert.deepEqual(tfjsLoaded(), []);
});
