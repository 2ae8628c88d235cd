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
