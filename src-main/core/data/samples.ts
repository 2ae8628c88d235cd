/**
 * Test images as plain data for galleries. Its own module, without tfjs: the app's main process serves these,
 * and loading tfjs there stalls its event loop.
 */
import type { ImageSample } from '../../shared/contract';
import { DataError } from './errors';
import type { ImageSet } from './types';

/** Raw pixels (as base64 of the bytes: they cross IPC and the socket as a string, not as JSON numbers) and labels of chosen images, for galleries. */
export function getImages(set: ImageSet, indices: number[]): ImageSample[] {
  const pixels = set.height * set.width * set.channels;
  return indices.map((index) => {
    if (!Number.isInteger(index) || index < 0 || index >= set.count) {
      throw new DataError(`image index ${index} is outside the set of ${set.count} images`);
    }
    return {
      index,
      label: set.labels[index]!,
      width: set.width,
      height: set.height,
      channels: set.channels,
      pixelsBase64: Buffer.from(set.images.buffer, set.images.byteOffset + index * pixels, pixels).toString('base64'),
    };
  });
}
