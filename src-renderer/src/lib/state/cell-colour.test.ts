import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellColours } from './cell-colour';

test('every shade of both tints gets a text colour at WCAG AA contrast (≥ 4.5:1)', () => {
  for (const rgb of [
    [37, 99, 235],
    [234, 88, 12],
  ] as const) {
    for (let alpha = 0; alpha <= 1.0001; alpha += 0.05) {
      const c = cellColours(rgb, alpha);
      assert.ok(c.contrast >= 4.5, `rgb(${rgb.join(',')}) at ${alpha.toFixed(2)}: ${c.text} on ${c.background} is ${c.contrast.toFixed(2)}:1`);
    }
  }
});

test('light cells take black text, the darkest take white', () => {
  assert.equal(cellColours([37, 99, 235], 0.1).text, '#000');
  assert.equal(cellColours([37, 99, 235], 0.95).text, '#fff');
  assert.equal(cellColours([37, 99, 235], 0).background, 'rgb(255, 255, 255)');
});
