import type { ImageSample } from '$shared/contract';

/** The bytes of a base64 string (the pixels of an `ImageSample`), decoded without Node's Buffer. */
export function decodeBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Base64 of bytes (the inverse of `decodeBase64`), for pixels that arrive as numbers, e.g. a prediction's input. */
export function encodeBase64(bytes: ArrayLike<number>): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]! & 0xff);
  return btoa(binary);
}

/**
 * A sample's pixels as RGBA for `ImageData`: grey is copied into red, green and blue, alpha is opaque. A sample
 * whose byte count does not match its width × height × channels is refused by name rather than drawn garbled.
 */
export function sampleToRgba(sample: ImageSample): Uint8ClampedArray {
  const { width, height, channels } = sample;
  const pixels = decodeBase64(sample.pixelsBase64);
  if (pixels.length !== width * height * channels) {
    throw new Error(`test image ${sample.index}: ${pixels.length} pixel bytes for ${width}×${height}×${channels}`);
  }
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const r = pixels[i * channels]!;
    rgba[i * 4] = r;
    rgba[i * 4 + 1] = channels >= 3 ? pixels[i * channels + 1]! : r;
    rgba[i * 4 + 2] = channels >= 3 ? pixels[i * channels + 2]! : r;
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

/**
 * A sample as grey values in [0, 1], one per pixel: for overlays drawn over the image (class maps). Colour
 * pixels become their luminance (ITU-R BT.601 weights, as the predict pipeline's grayscale conversion).
 */
export function sampleToGray(sample: ImageSample): number[] {
  const rgba = sampleToRgba(sample);
  const out = new Array<number>(sample.width * sample.height);
  for (let i = 0; i < out.length; i++) out[i] = (0.299 * rgba[i * 4]! + 0.587 * rgba[i * 4 + 1]! + 0.114 * rgba[i * 4 + 2]!) / 255;
  return out;
}
