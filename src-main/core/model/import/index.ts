/** Opening models written by Keras (3 and tf.keras 2) and TF.js as workbench specs, with their weights. */
export { convertKerasConfig, ModelImportError, type ConvertedModel, type KerasDialect } from './keras-config';
export { applyImportedWeights } from './weights';
export { isForeignModelJson, openModelBytes, openModelFile, type ImportedWeight, type ModelFileFormat, type OpenedModel, type OpenOptions } from './open';
export { evaluateImported } from './evaluate';
