/**
 * The model spec core: parse, validate and summarise a Keras-style Sequential spec, build it in tfjs with
 * seeded weights, create optimizers, and the registries and templates behind them.
 */
export { SpecError } from './errors';
export { parseSpec, withDefaults } from './spec';
export { summarizeSpec, analyzeSpec, describeShape, assignNames } from './validate';
export type { SummarizeOptions, Analysis } from './validate';
export { formatSummary, formatShape, withThousands, readableMemorySize } from './format';
export { buildModel, layerSeed } from './build';
export { createOptimizer, getLearningRate, setLearningRate } from './optimizer';
export { layerRegistry, activationRegistry, optimizerRegistry, initializerRegistry, Registry } from './registry';
export type { LayerEntry, ActivationEntry, OptimizerEntry, TfActivationIdentifier } from './registry';
export { TEMPLATES, getTemplate } from './templates';
export type { Template } from './templates';
export { layerFields } from './fields';
export { SpatialDropout2D } from './spatial-dropout';
export { estimateMemory, checkMemory, describeMemory, memoryBudget, parseBudget, optimizerSlots, trainingBytes, readableBytes, MemoryBudgetError } from './memory';
