/**
 * Turning a user's PNG or JPEG into the tensor the model takes, exactly as preprocessing.json describes:
 * decode → (alpha over black) → grayscale by luminance (when the model takes one channel) → resize to the
 * model's input (area averaging when shrinking, bilinear when enlarging) → scale by 1/255, NHWC.
 *
 * No polarity guessing: Fashion-MNIST is a light object on a black background and images are used as they
 * are. A dark-on-light photo must be inverted by the user (the `invert` option), not silently by us.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A decoded image: RGBA bytes, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** A file that is not a readable PNG/JPEG; the message names the file. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, sig: number[]): boolean {
  return bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);
}

function hexStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Decodes PNG or JPEG bytes (recognised by their signature, not the file name). */
export function decodeImage(name: string, bytes: Uint8Array): DecodedImage {
  if (bytes.length === 0) throw new ImageDecodeError(`${name}: the file is empty, not a PNG or JPEG image`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (startsWith(bytes, PNG_SIGNATURE)) {
    try {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    } catch (err) {
      throw new ImageDecodeError(`${name}: a PNG that cannot be decoded (${err instanceof Error ? err.message : String(err)}); is the file truncated?`);
    }
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) {
    try {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512, maxResolutionInMP: 100 });
      // Phone cameras store the sensor's orientation and an EXIF tag saying how to turn it for display.
      return applyOrientation({ width: img.width, height: img.height, rgba: img.data }, exifOrientation(bytes));
    } catch (err) {
      throw new ImageDecodeError(`${name}: a JPEG that cannot be decoded (${err instanceof Error ? err.message : String(err)}); is the file truncated?`);
    }
  }
  throw new ImageDecodeError(`${name}: not a PNG or JPEG image (the file starts with bytes ${hexStart(bytes)}); predict reads .png and .jpg/.jpeg files`);
}

/**
 * The EXIF orientation (1–8) of a JPEG, or 1 when it has none. Reads only the APP1 "Exif" segment's first IFD;
 * anything malformed counts as "no orientation" rather than an error, since the pixels themselves are fine.
 */
export function exifOrientation(jpegBytes: Uint8Array): number {
  const view = new DataView(jpegBytes.buffer, jpegBytes.byteOffset, jpegBytes.byteLength);
  let at = 2;
  while (at + 4 <= jpegBytes.length && jpegBytes[at] === 0xff) {
    const marker = jpegBytes[at + 1]!;
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image: no more metadata
    const length = view.getUint16(at + 2);
    const body = at + 4;
    if (marker === 0xe1 && body + 14 <= jpegBytes.length && String.fromCharCode(...jpegBytes.subarray(body, body + 4)) === 'Exif') {
      const tiff = body + 6;
      const little = jpegBytes[tiff] === 0x49; // "II" Intel byte order, else "MM" Motorola
      const u16 = (o: number) => view.getUint16(o, little);
      const u32 = (o: number) => view.getUint32(o, little);
      try {
        const ifd = tiff + u32(tiff + 4);
        const entries = u16(ifd);
        for (let i = 0; i < entries; i++) {
          const e = ifd + 2 + i * 12;
          if (u16(e) === 0x0112) {
            const v = u16(e + 8);
            return v >= 1 && v <= 8 ? v : 1;
          }
        }
      } catch {
        return 1; // offsets pointing outside the file
      }
      return 1;
    }
    at = body + length - 2;
  }
  return 1;
}

/** Turns decoded pixels as EXIF orientation `o` says, so the image is upright as a photo viewer shows it. */
export function applyOrientation(img: DecodedImage, o: number): DecodedImage {
  if (o <= 1 || o > 8) return img;
  const { width: w, height: h } = img;
  const swap = o >= 5;
  const outW = swap ? h : w;
  const outH = swap ? w : h;
  const out = new Uint8Array(outW * outH * 4);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      // (sx, sy): the stored pixel shown at (x, y).
      let sx: number;
      let sy: number;
      switch (o) {
        case 2: sx = w - 1 - x; sy = y; break; // mirrored
        case 3: sx = w - 1 - x; sy = h - 1 - y; break; // upside down
        case 4: sx = x; sy = h - 1 - y; break; // mirrored vertically
        case 5: sx = y; sy = x; break; // transposed
        case 6: sx = y; sy = h - 1 - x; break; // needs 90° clockwise
        case 7: sx = w - 1 - y; sy = h - 1 - x; break; // transversed
        default: sx = w - 1 - y; sy = x; break; // 8: needs 90° counter-clockwise
      }
      out.set(img.rgba.subarray((sy * w + sx) * 4, (sy * w + sx) * 4 + 4), (y * outW + x) * 4);
    }
  }
  return { width: outW, height: outH, rgba: out };
}

/**
 * Weights for resampling `inLen` samples to `outLen`: box (area) filter when shrinking, so every input pixel
 * counts in proportion to its overlap; linear interpolation with half-pixel centres when enlarging.
 */
function resampleWeights(inLen: number, outLen: number): { index: number[]; weight: number[] }[] {
  const scale = inLen / outLen;
  const taps: { index: number[]; weight: number[] }[] = [];
  for (let o = 0; o < outLen; o++) {
    const index: number[] = [];
    const weight: number[] = [];
    if (scale >= 1) {
      const start = o * scale;
      const end = start + scale;
      for (let i = Math.floor(start); i < Math.min(inLen, Math.ceil(end)); i++) {
        const overlap = Math.min(end, i + 1) - Math.max(start, i);
        if (overlap > 0) {
          index.push(i);
          weight.push(overlap / scale);
        }
      }
    } else {
      const centre = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inLen - 1);
      const i0 = Math.floor(centre);
      const i1 = Math.min(i0 + 1, inLen - 1);
      const t = centre - i0;
      index.push(i0, i1);
      weight.push(1 - t, t);
    }
    taps.push({ index, weight });
  }
  return taps;
}

/** Fills `out` with row `y` of a source image: `width × channels` values, interleaved. */
export type RowReader = (y: number, out: Float32Array) => void;

/**
 * Resizes an image separably, reading it one row at a time: the source is never held as float planes, only
 * `inH × outW × channels` floats after the horizontal pass, so shrinking a 10,000 × 10,000 photo to 32 × 32 costs
 * ~4 MB beyond its decoded bytes. Returns `outH × outW × channels` values, interleaved (HWC).
 */
export function resizeRows(readRow: RowReader, inH: number, inW: number, channels: number, outH: number, outW: number): Float32Array {
  const xs = resampleWeights(inW, outW);
  const ys = resampleWeights(inH, outH);
  const row = new Float32Array(inW * channels);
  const rows = new Float32Array(inH * outW * channels);
  for (let y = 0; y < inH; y++) {
    readRow(y, row);
    for (let x = 0; x < outW; x++) {
      const { index, weight } = xs[x]!;
      for (let c = 0; c < channels; c++) {
        let v = 0;
        for (let k = 0; k < index.length; k++) v += row[index[k]! * channels + c]! * weight[k]!;
        rows[(y * outW + x) * channels + c] = v;
      }
    }
  }
  const out = new Float32Array(outH * outW * channels);
  for (let y = 0; y < outH; y++) {
    const { index, weight } = ys[y]!;
    for (let x = 0; x < outW * channels; x++) {
      let v = 0;
      for (let k = 0; k < index.length; k++) v += rows[index[k]! * outW * channels + x]! * weight[k]!;
      out[y * outW * channels + x] = v;
    }
  }
  return out;
}

/** Resizes one float plane (row-major height × width) separably. */
export function resizePlane(src: Float32Array, inH: number, inW: number, outH: number, outW: number): Float32Array {
  if (inH === outH && inW === outW) return src.slice();
  return resizeRows((y, out) => out.set(src.subarray(y * inW, (y + 1) * inW)), inH, inW, 1, outH, outW);
}

/**
 * One image as the model sees it before scaling: `height × width × channels` values in 0–255 (HWC).
 * channels 1 = grayscale by BT.601 luminance; 3 = RGB. Transparent pixels are composited over black, the
 * background of the training images. The one pipeline behind predict and the image-folder datasets, so a
 * picture given to predict becomes the same input as the same picture in a training folder.
 */
export function modelPixels(img: DecodedImage, height: number, width: number, channels: number): Float32Array {
  if (channels !== 1 && channels !== 3) throw new Error(`the model takes ${channels} channels per pixel; images can give 1 (grayscale) or 3 (RGB)`);
  const { rgba } = img;
  const readRow: RowReader = (y, out) => {
    for (let x = 0, p = y * img.width * 4; x < img.width; x++, p += 4) {
      const a = rgba[p + 3]! / 255;
      const r = rgba[p]! * a;
      const g = rgba[p + 1]! * a;
      const b = rgba[p + 2]! * a;
      if (channels === 1) {
        out[x] = 0.299 * r + 0.587 * g + 0.114 * b;
      } else {
        out[x * 3] = r;
        out[x * 3 + 1] = g;
        out[x * 3 + 2] = b;
      }
    }
  };
  const out = resizeRows(readRow, img.height, img.width, channels, height, width);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, out[i]!));
  return out;
}

/** Options for `preprocessImage`. */
export interface PreprocessOptions {
  /** Replace v by 255 − v before scaling (for dark-on-light images fed to a light-on-dark model). */
  invert?: boolean;
}

/**
 * The model input for one decoded image: float32, height × width × channels (NHWC without N), values in
 * [0, 1]. channels 1 = grayscale by BT.601 luminance; 3 = RGB. Transparent pixels are composited over black,
 * the background of the training images.
 */
export function preprocessImage(img: DecodedImage, height: number, width: number, channels: number, opts: PreprocessOptions = {}): Float32Array {
  const out = modelPixels(img, height, width, channels);
  for (let i = 0; i < out.length; i++) out[i] = (opts.invert ? 255 - out[i]! : out[i]!) / 255;
  return out;
}
