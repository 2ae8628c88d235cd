/**
 * What a PNG or JPEG holds, read from its first bytes without decoding it: size (after EXIF orientation),
 * colour, bit depth, transparency. An image folder is surveyed with these before anything is decoded, so the
 * most common size and the colour mode are known first and a 10,000 × 10,000 photo is seen coming.
 */
import { exifOrientation } from '../predict/image';

export interface ImageHeader {
  kind: 'png' | 'jpeg';
  /** Displayed size: width and height swapped when the EXIF orientation turns the image by 90°. */
  width: number;
  height: number;
  /** 'gray' (PNG types 0/4, 1-component JPEG), 'rgb' (PNG 2/6, palette, 3-component JPEG), 'cmyk' (4-component JPEG). */
  colour: 'gray' | 'rgb' | 'cmyk';
  /** Bits per sample (PNG 1–16, JPEG 8 or 12). */
  bitDepth: number;
  /** A palette PNG. */
  palette: boolean;
  /** An alpha channel or a tRNS chunk (seen before the first IDAT). */
  transparency: boolean;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** How many leading bytes `probeImageHeader` wants: PNG chunks before IDAT and JPEG markers before SOF fit in it. */
export const HEADER_BYTES = 64 * 1024;

/** The header of PNG or JPEG bytes (the first `HEADER_BYTES` are enough), or null when it is neither or is cut short. */
export function probeImageHeader(bytes: Uint8Array): ImageHeader | null {
  if (bytes.length >= 33 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return probePng(bytes);
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return probeJpeg(bytes);
  return null;
}

function probePng(bytes: Uint8Array): ImageHeader | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const bitDepth = bytes[24]!;
  const type = bytes[25]!;
  let transparency = type === 4 || type === 6;
  // Walk the chunks up to the first IDAT for a tRNS (transparency of a palette or of one colour).
  for (let at = 8; at + 8 <= bytes.length; ) {
    const len = view.getUint32(at);
    const name = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (name === 'IDAT') break;
    if (name === 'tRNS') transparency = true;
    at += 12 + len;
  }
  if (width === 0 || height === 0) return null;
  return { kind: 'png', width, height, colour: type === 0 || type === 4 ? 'gray' : 'rgb', bitDepth, palette: type === 3, transparency };
}

function probeJpeg(bytes: Uint8Array): ImageHeader | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image / start of scan before any frame header
    const length = view.getUint16(at + 2);
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width, components.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 10 > bytes.length) return null;
      const bitDepth = bytes[at + 4]!;
      let height = view.getUint16(at + 5);
      let width = view.getUint16(at + 7);
      const components = bytes[at + 9]!;
      if (exifOrientation(bytes) >= 5) [width, height] = [height, width];
      if (width === 0 || height === 0) return null;
      const colour = components === 1 ? 'gray' : components === 4 ? 'cmyk' : 'rgb';
      return { kind: 'jpeg', width, height, colour, bitDepth, palette: false, transparency: false };
    }
    at += 2 + length;
  }
  return null;
}
