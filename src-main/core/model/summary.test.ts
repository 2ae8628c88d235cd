import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatShape, formatSummary, getTemplate, summarizeSpec } from './index';

// The lesson's own printed table (copied verbatim from the lesson text), parsed here so that every figure the
// test checks comes from the lesson, not from this file.
const lesson = readFileSync(new URL('./fixtures/lesson-summary.txt', import.meta.url), 'utf8');
const lessonRows = [...lesson.matchAll(/│ (\S+) \((\w+)\) │ (\([^)]*\)) │ ([\d,]+) │/g)].map((m) => ({
  name: m[1],
  className: m[2],
  shape: m[3],
  params: Number(m[4].replaceAll(',', '')),
}));
const total = (label: string) => {
  const m = new RegExp(`^${label}: ([\\d,]+)`, 'm').exec(lesson);
  assert.ok(m, `lesson fixture has "${label}"`);
  return m[1];
};

test('the lesson fixture parses into its 21 layer rows', () => {
  assert.equal(lessonRows.length, 21);
});

test("summarizeSpec reproduces every row of the lesson's table for examples/lesson-cnn.json", () => {
  const summary = summarizeSpec(getTemplate('lesson-cnn').spec);
  assert.equal(summary.ok, true);
  assert.deepEqual(summary.issues, []);
  assert.equal(summary.rows.length, lessonRows.length);
  summary.rows.forEach((row, i) => {
    const want = lessonRows[i];
    assert.equal(row.name, want.name, `row ${i} name`);
    assert.equal(row.className, want.className, `row ${i} class`);
    assert.equal(formatShape(row.outputShape), want.shape, `row ${i} (${row.name}) output shape`);
    assert.equal(row.params, want.params, `row ${i} (${row.name}) params`);
  });
});

test("the three totals equal the lesson's, and formatSummary prints them with thousands separators", () => {
  const summary = summarizeSpec(getTemplate('lesson-cnn').spec);
  const text = formatSummary(summary);
  for (const label of ['Total params', 'Trainable params', 'Non-trainable params']) {
    const value = total(label);
    assert.match(text, new RegExp(`^ ${label}: ${value} \\(`, 'm'), `${label}: ${value}`);
  }
  assert.equal(summary.totalParams, Number(total('Total params').replaceAll(',', '')));
  assert.equal(summary.trainableParams, Number(total('Trainable params').replaceAll(',', '')));
  assert.equal(summary.nonTrainableParams, Number(total('Non-trainable params').replaceAll(',', '')));
});

test("formatSummary's table rows carry the lesson's cells (whitespace aside) and its memory sizes", () => {
  const text = formatSummary(summarizeSpec(getTemplate('lesson-cnn').spec));
  const squash = (s: string) => s.replace(/ +/g, ' ');
  const ours = new Set(text.split('\n').map(squash));
  for (const line of lesson.split('\n').filter((l) => l.startsWith('│'))) {
    assert.ok(ours.has(squash(line)), `missing row: ${line}`);
  }
  for (const size of lesson.matchAll(/params: [\d,]+ (\([\d.]+ [KM]?B\))/g)) assert.ok(text.includes(size[1]), `memory size ${size[1]}`);
});

test('a functional model\'s table gains Keras\' "Connected to" column, a merge\'s inputs one per line', () => {
  const t = getTemplate('small-resnet');
  const text = formatSummary(summarizeSpec(t.spec), t.spec.config.name);
  const lines = text.split('\n');
  assert.match(lines[2] ?? '', /┃ Layer \(type\)\s+┃ Output Shape\s+┃ Param # ┃ Connected to\s+┃ Trainable ┃/);
  assert.match(text, /│ image \(InputLayer\)\s+│ \(None, 28, 28, 1\)\s+│\s+0 │ -\s+│\s+-\s+│/);
  const add = lines.findIndex((l) => l.includes('block2_add (Add)'));
  assert.match(lines[add] ?? '', /│ block2_add \(Add\)\s+│ \(None, 14, 14, 32\)\s+│\s+0 │ block2_bn2\[0\]\[0\],\s+│/);
  assert.match(lines[add + 1] ?? '', /^│\s+│\s+│\s+│ block2_proj_bn\[0\]\[0\]\s+│\s+│$/);
  // A Sequential table keeps the lesson's four columns.
  assert.doesNotMatch(formatSummary(summarizeSpec(getTemplate('lesson-cnn').spec)), /Connected to/);
});
