import type { DatasetInfo } from '../../shared/contract';

/**
 * A set of images with their labels, kept as raw bytes (0–255, row-major NHWC) so 60,000 images cost 47 MB,
 * not 188 MB of float32; `toTensors` scales a chosen subset when it is needed.
 */
export interface ImageSet {
  /** count × height × width × channels bytes. */
  images: Uint8Array;
  /** count class indices. */
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** A loaded dataset: its description (id, fingerprint, class names) and its train and test sets. */
export interface Dataset {
  info: DatasetInfo;
  train: ImageSet;
  test: ImageSet;
  /**
   * The folder or CSV file it was read from (absent for data made in memory). Runs record it with the
   * fingerprint, so an export can find the same data again and tell when it has moved or changed.
   */
  source?: string;
}
