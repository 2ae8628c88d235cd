/**
 * Test helpers for image-folder datasets: PNG/JPEG writers (pngjs, jpeg-js, and hand-built chunks for what
 * pngjs cannot write: palettes with transparency), Fashion-MNIST written out as class folders, and a colour-only
 * set whose classes differ by hue at equal brightness. Not imported by production code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { FASHION_MNIST_CLASSES } from './classes';
import { mulberry32 } from './random';
import { realIdx } from './testkit';

/** PNG bytes of an RGBA image. `colorType` 0 writes grayscale (from the red channel), 2 RGB, 6 RGBA. */
export function pngBytes(width: number, height: number, rgba: Uint8Array, opts: { colorType?: 0 | 2 | 6; bitDepth?: 8 | 16 } = {}): Buffer {
  const png = new PNG({ width, height, colorType: opts.colorType ?? 6, inputColorType: 6, bitDepth: opts.bitDepth ?? 8, inputHasAlpha: true });
  png.data = Buffer.from(rgba);
  return PNG.sync.write(png, { colorType: opts.colorType ?? 6, inputColorType: 6, bitDepth: opts.bitDepth ?? 8, inputHasAlpha: true });
}

/** RGBA bytes filled with one colour. */
export function solid(width: number, height: number, [r, g, b, a = 255]: number[]): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) out.set([r!, g!, b!, a], p * 4);
  return out;
}

/** JPEG bytes of an RGBA image (quality 95), with an EXIF APP1 orientation tag when `orientation` is given. */
export function jpegBytes(width: number, height: number, rgba: Uint8Array, orientation?: number): Buffer {
  const enc = jpeg.encode({ data: Buffer.from(rgba), width, height }, 95).data;
  if (orientation === undefined) return enc;
  // APP1: "Exif\0\0", a little-endian TIFF header, one IFD with one entry: 0x0112 SHORT 1 = orientation.
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(1, 8);
  tiff.writeUInt16LE(0x0112, 10);
  tiff.writeUInt16LE(3, 12);
  tiff.writeUInt32LE(1, 14);
  tiff.writeUInt16LE(orientation, 18);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const seg = Buffer.alloc(4);
  seg.writeUInt16BE(0xffe1, 0);
  seg.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([enc.subarray(0, 2), seg, body, enc.subarray(2)]);
}

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function chunk(name: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(name, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A palette PNG (colour type 3, 8 bits) with a tRNS chunk: `indices` (width × height) into `palette` (RGB
 * triples), each entry's alpha in `alpha`.
 */
export function palettePngBytes(width: number, height: number, indices: Uint8Array, palette: number[][], alpha: number[]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 3, 0, 0, 0], 8);
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Buffer.from(palette.flat())),
    chunk('tRNS', Buffer.from(alpha)),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Writes `bytes` at `root/rel`, creating folders. */
export function put(root: string, rel: string, bytes: Uint8Array | string): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

/** Class folder names for Fashion-MNIST that sort in label order ("0-T-shirt-top", …). */
export const FASHION_FOLDERS = FASHION_MNIST_CLASSES.map((c, i) => `${i}-${c.replace(/[^A-Za-z]+/g, '-')}`);

/** The first `n` Fashion-MNIST training images as grayscale PNGs in class folders under `root`. */
export async function writeFashionFolders(root: string, n: number): Promise<{ labels: number[]; pixels: Uint8Array[] }> {
  const images = await realIdx('trainImages');
  const labels = await realIdx('trainLabels');
  const out = { labels: [] as number[], pixels: [] as Uint8Array[] };
  for (let i = 0; i < n; i++) {
    const px = images.subarray(16 + i * 784, 16 + (i + 1) * 784);
    const rgba = new Uint8Array(784 * 4);
    for (let p = 0; p < 784; p++) rgba.set([px[p]!, px[p]!, px[p]!, 255], p * 4);
    const label = labels[8 + i]!;
    put(root, `${FASHION_FOLDERS[label]}/img${String(i).padStart(5, '0')}.png`, pngBytes(28, 28, rgba, { colorType: 0 }));
    out.labels.push(label);
    out.pixels.push(px.slice());
  }
  return out;
}

/**
 * A colour-only set under `root`: `perClass` images per class, each a noisy pattern whose brightness is drawn
 * from the same range for every class while the hue decides the class — so only colour tells them apart.
 * Images are `size` × `size` RGB PNGs.
 */
export function writeColourFolders(root: string, perClass: number, size = 16, seed = 7): { classes: string[] } {
  const classes = ['blue', 'green', 'red'];
  // Unit directions in RGB with zero BT.601 luminance change: adding t × dir shifts hue, not brightness.
  const dirs: [number, number, number][] = [
    [-0.5, -0.2, 1], // towards blue
    [-0.6, 0.6, -1.5], // towards green
    [1, -0.4, -0.5], // towards red
  ].map(([r, g, b]) => {
    // Remove the luminance part: project out along (1,1,1) scaled so that 0.299r + 0.587g + 0.114b = 0.
    const l = 0.299 * r! + 0.587 * g! + 0.114 * b!;
    return [r! - l, g! - l, b! - l];
  });
  const rng = mulberry32(seed);
  classes.forEach((cls, c) => {
    for (let i = 0; i < perClass; i++) {
      const rgba = new Uint8Array(size * size * 4);
      for (let p = 0; p < size * size; p++) {
        const base = 70 + rng() * 110; // same brightness range for every class
        const t = 25 + rng() * 10;
        const [dr, dg, db] = dirs[c]!;
        rgba.set([base + t * dr, base + t * dg, base + t * db, 255].map((v) => Math.max(0, Math.min(255, Math.round(v)))), p * 4);
      }
      put(root, `${cls}/${cls}${String(i).padStart(4, '0')}.png`, pngBytes(size, size, rgba, { colorType: 2 }));
    }
  });
  return { classes };
}
