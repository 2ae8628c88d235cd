/**
 * zod schemas for every payload that crosses into the services from a renderer (Electron IPC) or a browser
 * (WebSocket). These guard shapes and sizes only — the core still validates meaning (layer configs,
 * hyperparameter ranges) and reports it in its own words. Anything here that rejects a payload names the
 * method, the argument and the field, with the value received.
 */
import { z } from 'zod';
import type { MethodChannel } from '../shared/channels';
import { EXPLAIN_METHODS, EXPORT_FORMATS } from '../shared/contract';
import { DTYPE_POLICIES, MAX_BATCH_SIZE, MAX_LAYERS, MONITOR_MODES, MONITOR_NAMES, OPTIMIZER_NAMES } from '../shared/spec';
import { optimizerConfigSchema } from '../core/train/hyperparameters';

/** Run ids, dataset ids, template ids: a conservative slug, so an id can never walk out of its folder. */
export const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Most indices one `getTestImages` call may ask for (a gallery page, not the whole set). */
export const MAX_INDICES = 10_000;
/** Most images one `predict` call may carry. */
export const MAX_PREDICT_IMAGES = 64;
/** Most thumbnails per class one `describeDataset` call may ask for. */
export const MAX_THUMBNAILS_PER_CLASS = 64;
/** Largest encoded image, in base64 characters (10 MB of bytes is ~13.4 M base64 characters). */
export const MAX_IMAGE_BASE64 = Math.ceil((10 * 1024 * 1024 * 4) / 3) + 4;
export { MAX_LAYERS };

const finite = z.number().finite();

/** A safe id; `..` is refused even though the slug would allow dots. */
export const IdSchema = z
  .string()
  .regex(SAFE_ID, 'must be 1-128 letters, digits, dots, dashes or underscores, starting with a letter or digit')
  .refine((s) => !s.includes('..'), 'must not contain ".."');

/**
 * A model spec: the envelope is checked here, each layer only as `{class_name: string, config: object}` —
 * an unknown class or a wrong kernel size is the core's to report, per layer, in the summary.
 */
export const LayerSpecSchema = z.looseObject({
  class_name: z.string().min(1).max(64),
  config: z.record(z.string(), z.unknown()),
});

const SequentialSpecSchema = z.looseObject({
  format_version: z.number().int().min(0).max(1_000),
  class_name: z.literal('Sequential'),
  config: z.looseObject({
    name: z.string().max(200),
    layers: z.array(LayerSpecSchema).max(MAX_LAYERS),
  }),
});

/** `[layer_name, node_index, tensor_index]` (tf.keras 2), with the call's kwargs object when inbound. */
const TensorRefSchema = z.tuple([z.string().min(1).max(200), z.number().int().min(0), z.number().int().min(0)]).rest(z.unknown());

/**
 * A Functional (graph) spec: each layer also names the layers it takes (`inbound_nodes`); the wiring itself —
 * unknown names, cycles, dangling layers — is the core's to report, naming the layer.
 */
const FunctionalSpecSchema = z.looseObject({
  format_version: z.number().int().min(0).max(1_000),
  class_name: z.literal('Functional'),
  config: z.looseObject({
    name: z.string().max(200),
    layers: z.array(LayerSpecSchema.extend({ name: z.string().max(200), inbound_nodes: z.array(z.array(TensorRefSchema).max(MAX_LAYERS)).max(MAX_LAYERS) })).max(MAX_LAYERS),
    input_layers: z.array(TensorRefSchema).max(MAX_LAYERS),
    output_layers: z.array(TensorRefSchema).max(MAX_LAYERS),
  }),
});

/** Any model spec the services accept: Sequential or Functional, told apart by `class_name`. */
export const ModelSpecSchema = z.discriminatedUnion('class_name', [SequentialSpecSchema, FunctionalSpecSchema]);

const MonitorSchema = z.enum(MONITOR_NAMES);
const ModeSchema = z.enum(MONITOR_MODES);

export const HyperparametersSchema = z.object({
  optimizer: z.object({
    class_name: z.enum(OPTIMIZER_NAMES),
    // The core's own schema, built from the one rule per field in shared/optimizers.ts.
    config: optimizerConfigSchema,
  }),
  loss: z.literal('categorical_crossentropy'),
  batch_size: z.number().int().min(1).max(MAX_BATCH_SIZE),
  epochs: z.number().int().min(1).max(100_000),
  validation_split: finite.min(0).max(0.99),
  seed: z.number().int().safe(),
  early_stopping: z
    .object({
      monitor: MonitorSchema,
      mode: ModeSchema,
      patience: z.number().int().min(0).max(100_000),
      min_delta: finite.min(0),
      restore_best_weights: z.boolean(),
    })
    .nullable(),
  reduce_lr_on_plateau: z
    .object({
      monitor: MonitorSchema,
      mode: ModeSchema,
      factor: finite.gt(0).lt(1),
      patience: z.number().int().min(0).max(100_000),
      min_lr: finite.min(0),
      min_delta: finite.min(0),
      cooldown: z.number().int().min(0).max(100_000),
    })
    .nullable(),
  divergence: z
    .object({
      patience: z.number().int().min(1).max(100_000),
      loss_ceiling_fraction: finite.gt(0).max(1),
      chance_margin: finite.min(0).lt(1),
    })
    .nullable()
    .optional(),
  dtype_policy: z.enum(DTYPE_POLICIES).optional(),
});

export const TrainingRequestSchema = z.object({
  spec: ModelSpecSchema,
  hyperparameters: HyperparametersSchema,
  datasetId: IdSchema,
  limitTrain: z.number().int().min(1).max(100_000_000).optional(),
  limitTest: z.number().int().min(1).max(100_000_000).optional(),
  startFromWeights: IdSchema.optional(),
  evaluateOnly: z.boolean().optional(),
});

export const ExportFormatSchema = z.enum(EXPORT_FORMATS);

/**
 * A path as sent by a renderer. Shape only (no NUL, bounded); whether it may be used is decided by the
 * services' path policy against data roots and the paths main handed out.
 */
export const PathSchema = z
  .string()
  .min(1)
  .max(4_096)
  .refine((s) => !s.includes('\0'), 'must not contain NUL characters');

export const PredictImagesSchema = z
  .array(
    z.object({
      name: z.string().min(1).max(255),
      base64: z
        .string()
        .max(MAX_IMAGE_BASE64, `an image may be at most 10 MB`)
        .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
    }),
  )
  .min(1)
  .max(MAX_PREDICT_IMAGES);

/** Largest model file the UI may open, in base64 characters (30 MB of bytes: configs are kilobytes, a .keras archive carries its weights). */
export const MAX_MODEL_FILE_BASE64 = 40 * 1024 * 1024;

export const ModelFileSchema = z.strictObject({
  name: z.string().min(1).max(255),
  base64: z
    .string()
    .min(1)
    .max(MAX_MODEL_FILE_BASE64, 'a model file may be at most 30 MB here (open larger ones with the CLI: cnn-workbench import FILE)')
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
});

/** Most filters one `exciteFilters` call may ask for (each is a few dozen gradient steps). */
export const MAX_EXCITE_FILTERS = 64;

const ImageRefSchema = z.union([z.strictObject({ testIndex: z.number().int().min(0).max(100_000_000) }), PredictImagesSchema.element]);

export const ProjectSchema = z.object({
  format_version: z.number().int().min(0).max(1_000),
  spec: ModelSpecSchema,
  hyperparameters: HyperparametersSchema,
  datasetId: IdSchema.nullable(),
  canvasPositions: z.record(z.string().min(1).max(255), z.strictObject({ x: finite, y: finite })).optional(),
});

/** One argument of a method: its name (for error messages) and its schema. */
export interface ArgSchema {
  name: string;
  schema: z.ZodType;
  optional?: boolean;
}

const arg = (name: string, schema: z.ZodType): ArgSchema => ({ name, schema });
const opt = (name: string, schema: z.ZodType): ArgSchema => ({ name, schema, optional: true });

/** The arguments of every contract method, in order. A method absent here cannot be called. */
export const METHOD_ARGS: Record<MethodChannel, ArgSchema[]> = {
  'model.summarize': [arg('spec', ModelSpecSchema)],
  'model.listTemplates': [],
  'model.previewAugmentation': [
    arg('spec', ModelSpecSchema),
    arg('datasetId', IdSchema),
    arg('imageIndex', z.number().int().min(0).max(100_000_000)),
    arg('seed', z.number().int().min(0).max(2 ** 31 - 1)),
  ],
  'model.openModelFile': [arg('file', ModelFileSchema)],
  'datasets.listDatasets': [],
  'datasets.importDataset': [opt('path', PathSchema)],
  'datasets.getTestImages': [
    arg('datasetId', IdSchema),
    arg('indices', z.array(z.number().int().min(0).max(100_000_000)).max(MAX_INDICES)),
  ],
  'datasets.describeDataset': [arg('datasetId', IdSchema), arg('perClass', z.number().int().min(0).max(MAX_THUMBNAILS_PER_CLASS))],
  'training.getBackend': [],
  'training.getActiveRun': [],
  'training.startTraining': [arg('request', TrainingRequestSchema)],
  'training.continueRun': [arg('runId', IdSchema)],
  'training.pauseTraining': [arg('runId', IdSchema)],
  'training.resumeTraining': [arg('runId', IdSchema)],
  'training.stopTraining': [arg('runId', IdSchema)],
  'runs.listRuns': [],
  'runs.getRun': [arg('runId', IdSchema)],
  'runs.annotateRun': [
    arg('runId', IdSchema),
    arg('annotation', z.object({ title: z.string().max(200).nullable().optional(), notes: z.string().max(10_000).optional() }).strict()),
  ],
  'runs.deleteRun': [arg('runId', IdSchema)],
  'exports.exportModel': [arg('runId', IdSchema), arg('format', ExportFormatSchema), opt('path', PathSchema)],
  'exports.zipExport': [arg('runId', IdSchema), arg('name', PathSchema)],
  'exports.predict': [arg('runId', IdSchema), arg('images', PredictImagesSchema), opt('options', z.object({ invert: z.boolean().optional() }))],
  'exports.predictTestImages': [
    arg('runId', IdSchema),
    arg('indices', z.array(z.number().int().min(0).max(100_000_000)).min(1).max(MAX_PREDICT_IMAGES)),
  ],
  'inside.activations': [arg('runId', IdSchema), arg('image', ImageRefSchema)],
  'inside.classMap': [arg('runId', IdSchema), arg('image', ImageRefSchema), arg('method', z.enum(EXPLAIN_METHODS)), arg('classIndex', z.number().int().min(0).max(100_000))],
  'inside.kernels': [arg('runId', IdSchema)],
  'inside.exciteFilters': [arg('runId', IdSchema), arg('layer', z.string().min(1).max(256)), arg('filters', z.array(z.number().int().min(0).max(100_000)).min(1).max(MAX_EXCITE_FILTERS))],
  'inside.embedding': [arg('runId', IdSchema), arg('method', z.enum(['pca', 'umap'])), opt('seed', z.number().int().min(0).max(2 ** 31 - 1))],
  'projects.openProject': [],
  'projects.saveProject': [arg('project', ProjectSchema)],
};
