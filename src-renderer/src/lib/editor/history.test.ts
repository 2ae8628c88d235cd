import { test } from 'node:test';
import assert from 'node:assert/strict';
import { History } from './history';

test('undo returns the snapshots in reverse order and redo replays them', () => {
  const h = new History<number>(10);
  let state = 0;
  for (const next of [1, 2, 3]) {
    h.record(state);
    state = next;
  }
  assert.equal(h.depth, 3);
  state = h.undo(state) ?? state;
  state = h.undo(state) ?? state;
  assert.equal(state, 1);
  assert.equal(h.canRedo, true);
  state = h.redo(state) ?? state;
  assert.equal(state, 2);
  assert.equal(h.undo(state), 1);
});

test('a new edit after an undo clears the redo stack', () => {
  const h = new History<string>(10);
  h.record('a');
  assert.equal(h.undo('b'), 'a');
  h.record('a');
  assert.equal(h.canRedo, false);
  assert.equal(h.redo('c'), null);
});

test('the history is bounded: the oldest steps are dropped', () => {
  const h = new History<number>(3);
  for (let i = 0; i < 10; i++) h.record(i);
  assert.equal(h.depth, 3);
  assert.equal(h.undo(10), 9);
  assert.equal(h.undo(9), 8);
  assert.equal(h.undo(8), 7);
  assert.equal(h.undo(7), null);
});

test('edits with the same key close together coalesce into one step; others do not', () => {
  const h = new History<string>(10, 1000);
  h.record('', 'field:0:filters', 0);
  h.record('3', 'field:0:filters', 200);
  h.record('32', 'field:0:filters', 400);
  assert.equal(h.depth, 1, 'typing 3, 32, 320 into one field is one undo step');
  h.record('320', 'field:0:filters', 5000);
  assert.equal(h.depth, 2, 'a pause starts a new step');
  h.record('x', 'field:1:units', 5100);
  assert.equal(h.depth, 3, 'another field starts a new step');
  h.record('y');
  h.record('z');
  assert.equal(h.depth, 5, 'keyless edits never coalesce');
});

test('an undo breaks coalescing so the next keystroke is a fresh step', () => {
  const h = new History<string>(10, 1000);
  h.record('a', 'k', 0);
  assert.equal(h.undo('ab'), 'a');
  h.record('a', 'k', 10);
  assert.equal(h.depth, 1);
  assert.equal(h.undo('ac'), 'a');
});

test('the limit must be a whole number ≥ 1', () => {
  assert.throws(() => new History(0), /received 0/);
});
