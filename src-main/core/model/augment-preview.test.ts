import assert from 'node:assert/strict';
import test, { before } from 'node:test';
import { SPEC_FORMAT_VERSION, type LayerSpec, type ModelSpec } from '../../shared/spec';
import { initBackend } from '../backend/index';
import type { ImageSet } from '../data/types';
import { leadingAugmentation } from '../../shared/augmentation-preview';
import { previewAugmentation } from './augment-preview';
import { SpecError } from './errors';

before(async () => {
  await initBackend();
});

/** Two 6×6 RGB images: a red left half on blue (class 0), then its mirror (class 1). */
function twoImages(): ImageSet {
  const h = 6;
  const w = 6;
  const images = new Uint8Array(2 * h * w * 3);
  for (let n = 0; n < 2; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const left = n === 0 ? x < 3 : x >= 3;
        images.set(left ? [220, 20, 20] : [20, 20, 220], ((n * h + y) * w + x) * 3);
      }
  return { images, labels: Uint8Array.from([0, 1]), count: 2, height: h, width: w, channels: 3 };
}

const spec = (augment: LayerSpec[], rest: LayerSpec[] = [{ class_name: 'Flatten', config: {} }, { class_name: 'Dense', config: { units: 2, activation: 'softmax' } }]): ModelSpec => ({
  format_version: SPEC_FORMAT_VERSION,
  class_name: 'Sequential',
  config: { name: 'preview', layers: [{ class_name: 'InputLayer', config: { shape: [6, 6, 3] } }, ...augment, ...rest] },
});

const bytes = (b64: string): number[] => Array.from(Buffer.from(b64, 'base64'));

test('RandomFlip: eight colour draws, each the image or its mirror, both seen; the same seed gives the same draws', () => {
  const set = twoImages();
  const s = spec([{ class_name: 'RandomFlip', config: { mode: 'horizontal' } }]);
  const p = previewAugmentation(s, set, 0, 7);
  assert.equal(p.draws.length, 8);
  assert.deepEqual(p.layers, [{ name: 'random_flip', className: 'RandomFlip' }]);
  const original = bytes(p.original.pixelsBase64);
  const mirror = bytes(Buffer.from(set.images.subarray(108, 216)).toString('base64'));
  const kinds = p.draws.map((d) => {
    assert.deepEqual([d.width, d.height, d.channels], [6, 6, 3]);
    const b = bytes(d.pixelsBase64);
    if (b.every((v, i) => Math.abs(v - original[i]!) <= 1)) return 'same';
    if (b.every((v, i) => Math.abs(v - mirror[i]!) <= 1)) return 'mirror';
    return 'other';
  });
  assert.ok(!kinds.includes('other'), kinds.join(','));
  assert.ok(kinds.includes('same') && kinds.includes('mirror'), `8 draws should show both: ${kinds.join(',')}`);
  const again = previewAugmentation(s, set, 0, 7);
  assert.deepEqual(again.draws.map((d) => d.pixelsBase64), p.draws.map((d) => d.pixelsBase64));
  const other = previewAugmentation(s, set, 0, 8);
  assert.notDeepEqual(other.draws.map((d) => d.pixelsBase64), p.draws.map((d) => d.pixelsBase64));
});

test('only the layers right after the input are applied; an unfinished rest of the model does not stop the preview', () => {
  const s = spec([{ class_name: 'RandomRotation', config: { factor: 0.2 } }, { class_name: 'RandomContrast', config: { factor: 0.3 } }], [{ class_name: 'Conv2D', config: { filters: 4, kernel_size: 3 } }, { class_name: 'RandomFlip', config: {} }]);
  assert.deepEqual(leadingAugmentation(s.config.layers), [1, 2]);
  const p = previewAugmentation(s, twoImages(), 1, 3);
  assert.deepEqual(p.layers.map((l) => l.className), ['RandomRotation', 'RandomContrast']);
  assert.equal(p.displayNote, null);
});

test('a Rescaling that leaves [0, 1] is stretched for display and says so', () => {
  const p = previewAugmentation(spec([{ class_name: 'Rescaling', config: { scale: 2, offset: -1 } }]), twoImages(), 0, 1);
  assert.match(p.displayNote ?? '', /stretched/);
  assert.deepEqual(bytes(p.draws[0]!.pixelsBase64).slice(0, 3), [255, 0, 0]);
});

test('no augmentation layer, or a bad factor, is refused naming why', () => {
  assert.throws(() => previewAugmentation(spec([]), twoImages(), 0, 1), (e: unknown) => e instanceof SpecError && /no augmentation layer/.test(e.message));
  assert.throws(
    () => previewAugmentation(spec([{ class_name: 'RandomRotation', config: { factor: -3 } }]), twoImages(), 0, 1),
    (e: unknown) => e instanceof SpecError && /random_rotation/.test(e.message),
  );
  assert.throws(() => previewAugmentation(spec([{ class_name: 'RandomFlip', config: {} }]), twoImages(), 5, 1), /image index 5/);
});
