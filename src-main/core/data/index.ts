/**
 * Datasets: IDX and Kaggle-CSV readers, Fashion-MNIST location/download, validation, fingerprints,
 * the seeded validation split and the lesson's preprocessing. Everything throws `DataError` naming the file.
 */
export { DataError } from './errors';
export { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classes';
export type { Dataset, ImageSet } from './types';
export { parseIdx, parseIdxHeader, readIdxFile, isGzip, type IdxData } from './idx';
export { parseCsv, parseCsvBytes, type CsvOptions } from './csv';
export {
  locateFashionMnist,
  locateMnist,
  findIdxFiles,
  FASHION_MNIST_MIRRORS,
  FASHION_MNIST_FILES,
  DEBIAN_FASHION_MNIST_DIR,
  IDX_FILE_NAMES,
  type LocateOptions,
} from './locate';
export { loadDataset, slugify, CSV_TEST_FRACTION, CSV_TEST_SEED, type LoadOptions } from './load';
export { fingerprint } from './fingerprint';
export { mulberry32, shuffleInPlace, splitIndices, type Rng } from './random';
export { gatherBatch, toTensors, getImages } from './tensors';
export { listDatasets, importDataset, getTestImages, checkDatasetId, loadDatasetCached, readIdxHeaderFromFile } from './catalog';
export { loadImageFolder, modelInputShape, IMAGE_TEST_FRACTION, IMAGE_TEST_SEED, type ImageFolderOptions } from './image-folder';
