/**
 * The one typed contract between the renderer and the services (Electron IPC or browser-mode WebSocket).
 * Types only. Main implements every service; the preload exposes exactly `WorkbenchApi` as `window.workbench`;
 * the browser-mode client implements the same interface over a WebSocket.
 *
 * Only JSON crosses: numbers, strings, arrays, plain objects; bulk bytes (pixels) as base64 strings. Errors cross
 * as `{name, message}`.
 */
import type { Hyperparameters, AnyModelSpec, SpecSummary } from './spec';

/** Errors as they cross a process boundary. */
export interface WireError {
  name: string;
  message: string;
}

/** Returned by every `onX` subscription: call it to unsubscribe. */
export type Unsubscribe = () => void;

// ---------------------------------------------------------------- backend

export type BackendName = 'tensorflow' | 'tensorflow-gpu' | 'native' | 'wasm' | 'cpu';

/** Which engine trains, and why that one (shown in the UI and recorded in every run). */
export interface BackendInfo {
  name: BackendName;
  /** e.g. "tfjs-node 4.22.0 (libtensorflow)" or "wasm + workbench kernels, 2 threads". */
  description: string;
  /** One sentence: why this backend and not a faster one (e.g. "@tensorflow/tfjs-node is not installed"). */
  reason: string;
  threads: number;
}

// ---------------------------------------------------------------- datasets

export interface DatasetInfo {
  id: string;
  name: string;
  /** 'images': a folder of PNG/JPEG, one subfolder per class (Keras' `image_dataset_from_directory` layout). */
  format: 'idx' | 'csv' | 'images';
  /** Where it was found, for display only. */
  location: string;
  trainCount: number;
  testCount: number;
  imageShape: [number, number, number];
  classNames: string[];
  /** SHA-256 over the files' bytes, so a run records exactly which data it saw. */
  fingerprint: string;
  /** What an image-folder dataset holds and how it was read; present only for format 'images'. */
  imageFolder?: ImageFolderInfo;
}

/** How an image folder's pixels become the model's input: 1 channel (BT.601 luminance) or 3 (RGB). */
export type ColorMode = 'grayscale' | 'rgb';

/** A file of an image folder that was skipped, with why (its path relative to the dataset folder). */
export interface SkippedImage {
  path: string;
  reason: string;
}

/** The dataset view's facts about an image folder (see `core/data/image-folder.ts`). */
export interface ImageFolderInfo {
  /** 'folders': `train/` and `test/` at the top; 'seeded': a stratified test split held out with a fixed seed. */
  split: { kind: 'folders' } | { kind: 'seeded'; testFraction: number; seed: number };
  /** The colour mode the images were read in (the dataset's channels). */
  colorMode: ColorMode;
  /** The images' own mode: 'rgb' when any image has colour. */
  sourceColorMode: ColorMode;
  /** [height, width] every image was resized to. */
  imageSize: [number, number];
  /** Whether `imageSize` was asked for or is the folder's most common size. */
  imageSizeFrom: 'option' | 'most-common';
  /** The sizes found (after EXIF orientation), most common first, at most 8. */
  sizes: { height: number; width: number; count: number }[];
  /** Images per class (in `classNames` order) in the training and test sets. */
  classCounts: { train: number[]; test: number[] };
  /** Unreadable images left out: how many, and the first few. */
  skipped: { count: number; first: SkippedImage[] };
  /** Files that are not PNG/JPEG (README, .txt, .gif…) and were not read: how many, and the first few. */
  ignored: { count: number; first: string[] };
  /** One sentence each on what was done to the data: mixed sizes resized, 16-bit reduced, colour dropped… */
  notes: string[];
}

/**
 * A test image for galleries. The pixels travel as bytes, base64-encoded (0–255, row-major,
 * height×width×channels): as JSON numbers a 10,000-image reply was ~23 MB of text and ~8 M JS numbers on
 * each side; as base64 it is 10.5 MB in 10,000 strings. `decodePixels` in the renderer turns it back.
 */
export interface ImageSample {
  index: number;
  label: number;
  width: number;
  height: number;
  channels: number;
  /** base64 of the width × height × channels pixel bytes. */
  pixelsBase64: string;
}

/**
 * What a dataset holds, for the dataset view: images per class in each set and a few training images of each
 * class (thumbnails, as base64 bytes like `ImageSample`s elsewhere), for any format (an image folder's skipped
 * files and sizes are in its `DatasetInfo.imageFolder`).
 */
export interface DatasetOverview {
  datasetId: string;
  classNames: string[];
  /** Images per class (label order) in the training and test sets. */
  trainCounts: number[];
  testCounts: number[];
  /** Up to the asked number of training images per class, in class order (a list is shorter when the class is). */
  thumbnails: ImageSample[][];
}

/** One training image under the model's leading augmentation layers (training mode, seeded): the original and its draws. */
export interface AugmentationPreview {
  /** The preprocessing/augmentation layers applied, in model order. */
  layers: { name: string; className: string }[];
  seed: number;
  original: ImageSample;
  draws: ImageSample[];
  /** How the layers' output was mapped to 0–255 for display when it left [0, 1] (e.g. after a Rescaling), else null. */
  displayNote: string | null;
}

// ---------------------------------------------------------------- training

/** What the user asks for when pressing Train. */
export interface TrainingRequest {
  spec: AnyModelSpec;
  hyperparameters: Hyperparameters;
  datasetId: string;
  /** Use only the first N training / test images (demos, tests); omitted = all. */
  limitTrain?: number;
  limitTest?: number;
  /**
   * Start from the weights of a model file opened with `model.openModelFile` (its `weights.id`): fine-tuning. The
   * services hold the weights of the last few files opened; an id they no longer hold is refused, naming the file.
   */
  startFromWeights?: string;
  /**
   * With `startFromWeights`: no epochs — those weights as they are, scored on the test set and saved as a run
   * ('completed', 0 epochs), so Results, Inside and export work on a model trained elsewhere.
   */
  evaluateOnly?: boolean;
}

/** 'diverged': stopped by the divergence guard (NaN/Inf, loss at its ceiling, accuracy at chance), best weights kept. */
export type RunStatus = 'running' | 'paused' | 'completed' | 'early_stopped' | 'stopped' | 'diverged' | 'failed';

/**
 * A run's status as listed: what its run.json says, or `corrupt` when its files are damaged (run.json not JSON
 * or not a record, missing beside a spec.json, a FIFO, a link out of its folder); `problem` then says which.
 */
export type ListedRunStatus = RunStatus | 'corrupt';

/** Throttled per-batch progress (at most ~10/s across a process boundary). */
export interface BatchProgress {
  runId: string;
  epoch: number; // 1-based
  epochs: number;
  batch: number; // 1-based, batches done in this epoch
  batchesPerEpoch: number;
  loss: number;
  accuracy: number;
  learningRate: number;
  imagesPerSec: number;
  etaSeconds: number;
  elapsedSeconds: number;
  /** How a batch trains: the fused native step, or tfjs layers and why (e.g. a layer the fused step lacks). */
  trainingStep: string;
}

/** Things that happened at an epoch end, for marking on the curves. */
export type EpochEvent =
  | { kind: 'best'; monitor: string; value: number }
  | { kind: 'lr_reduced'; from: number; to: number }
  | { kind: 'early_stop'; bestEpoch: number; restored: boolean };

/** One epoch's record: always delivered, appended to the run's history on disk. */
export interface EpochResult {
  runId: string;
  epoch: number; // 1-based
  loss: number;
  accuracy: number;
  val_loss: number | null;
  val_accuracy: number | null;
  learningRate: number;
  durationSeconds: number;
  imagesPerSec: number;
  events: EpochEvent[];
}

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Test-set evaluation: loss and accuracy labelled as what they are. */
export interface Evaluation {
  testLoss: number;
  testAccuracy: number;
  testCount: number;
  classNames: string[];
  /** rows = truth, columns = predicted (as in the lesson). */
  confusionMatrix: number[][];
  perClass: ClassMetrics[];
  macro: { precision: number; recall: number; f1: number };
  /** Off-diagonal cells, largest first. */
  confusedPairs: { truth: number; predicted: number; count: number }[];
  /** Misclassified test images with their predicted probabilities. */
  misclassified: { index: number; truth: number; predicted: number; probabilities: number[] }[];
  /**
   * Per class, the correctly classified test images the model was least sure of (lowest probability on the true
   * class first): the matrix diagonal's gallery. Absent from evaluations written before it existed.
   */
  leastConfidentCorrect?: { index: number; truth: number; predicted: number; probabilities: number[] }[];
  /** Set when BatchNorm moving statistics have not settled (short runs): explains near-chance inference. */
  notes: string[];
}

export interface TrainingFinished {
  runId: string;
  status: Exclude<RunStatus, 'running' | 'paused' | 'failed'>;
  epochsRun: number;
  bestEpoch: number | null;
  evaluation: Evaluation;
  /** Why a 'diverged' run stopped (absent otherwise). */
  message?: string;
}

export interface TrainingFailed {
  runId: string;
  error: WireError;
}

// ---------------------------------------------------------------- runs

export interface RunSummary {
  /** The run's folder name: unique, even for a copied folder. */
  id: string;
  createdAt: string; // ISO 8601 (a corrupt run: its folder's modification time)
  modelName: string;
  params: number;
  status: ListedRunStatus;
  /** Why a `corrupt` run cannot be read, naming the file; absent otherwise. */
  problem?: string;
  epochsRun: number;
  bestValAccuracy: number | null;
  testAccuracy: number | null;
  testLoss: number | null;
  backend: string;
  durationSeconds: number;
  datasetId: string;
  /** The user's name for the run (null: none given; show the model name) and notes. */
  title: string | null;
  notes: string;
  /** The settings that tell runs of one model apart; null where the run's hyperparameters are unreadable. */
  optimizer: string | null;
  batchSize: number | null;
  learningRate: number | null;
  /** Training images used (after any limit, before the validation split). */
  trainImages: number;
  /** The model file whose weights the run started from (fine-tuning); null: fresh weights. */
  startedFrom: string | null;
}

/** What the user may change about a saved run: its name (null clears it) and notes. */
export interface RunAnnotation {
  title?: string | null;
  notes?: string;
}

export interface RunDetail extends RunSummary {
  spec: AnyModelSpec;
  hyperparameters: Hyperparameters;
  history: EpochResult[];
  evaluation: Evaluation | null;
  error: WireError | null;
}

// ---------------------------------------------------------------- export and predict

/** Export formats, in menu order: the one list the core, the CLI and the forms check against. */
export const EXPORT_FORMATS = ['tfjs', 'onnx', 'keras', 'r'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * What checking an export found, one word each:
 * - `verified`: reloaded and compared with the in-app model within tolerance (keras/r: the script was parsed,
 *   its layers and weights checked);
 * - `unchecked`: written, but this machine cannot check the format (keras/r without Python / R) — not an error;
 * - `not-verified`: written, but there was nothing to compare it on (the run's data is missing or has changed);
 *   the export was not found wrong;
 * - `disagrees`: compared and it does not reproduce the in-app model — do not use it.
 */
export type ExportOutcome = 'verified' | 'unchecked' | 'not-verified' | 'disagrees';

/** Agreement between the exported artefact, reloaded, and the in-app model. null = cannot be checked here. */
export interface ExportReport {
  format: ExportFormat;
  path: string;
  checked: number | null;
  argmaxAgreement: number | null;
  maxAbsDiff: number | null;
  /** True for `verified` and `unchecked`. */
  ok: boolean;
  outcome: ExportOutcome;
  message: string;
  /** Training-only layers (Keras' random augmentation) the exported inference graph leaves out (TF.js, ONNX). */
  leftOutLayers?: { name: string; className: string }[];
}

/** A file an export wrote, for the report (name relative to the export folder). */
export interface ExportedFile {
  name: string;
  bytes: number;
}

/** `exportModel`'s answer: the verification report and the files written. */
export interface ExportResult extends ExportReport {
  files: ExportedFile[];
}

/** Where an export in progress is (pushed as `exports.onExportProgress`). */
export interface ExportProgress {
  runId: string;
  format: ExportFormat;
  stage: 'loading' | 'writing' | 'verifying' | 'done';
  /** One line for the user, e.g. "comparing with the in-app model on 200 test images". */
  message: string;
}

/** A zipped export folder, for a browser to download. */
export interface ExportArchive {
  fileName: string;
  base64: string;
}

export interface PredictOptions {
  /** Use 255 − pixel: for a dark object photographed on a light background (Fashion-MNIST is light on black). */
  invert?: boolean;
}

export interface Prediction {
  /** What the user gave (a file name or a test index), for display. */
  source: string;
  top: { classIndex: number; className: string; probability: number }[];
  /** The image as the model sees it (after grayscale, resize, inversion), 0–255, height×width×channels. */
  input?: { width: number; height: number; channels: number; pixels: number[] };
  /** For a test image: its true class. */
  truth?: { classIndex: number; className: string };
}

// ---------------------------------------------------------------- inside the network (explain)

/** How a class map is computed: Grad-CAM on the last convolution, or the plain input gradient's magnitude. */
export const EXPLAIN_METHODS = ['gradcam', 'saliency'] as const;
export type ExplainMethod = (typeof EXPLAIN_METHODS)[number];

/** A class with its predicted probability. */
export interface ClassProbability {
  classIndex: number;
  className: string;
  probability: number;
}

/** One layer's output for one image. Spatial layers: row-major height × width × channels; vectors: units. */
export interface LayerActivation {
  name: string;
  className: string;
  /** The output shape without the batch axis, e.g. [28, 28, 32] or [128]. */
  shape: number[];
  values: number[];
}

/** What every layer makes of one image, and what the model predicts. */
export interface Activations {
  layers: LayerActivation[];
  /** Every class, in label order. */
  probabilities: number[];
  /** The most probable classes, best first. */
  top: ClassProbability[];
}

/** A map over the input image (height × width, row-major, every value ≥ 0) saying where the class comes from. */
export interface ClassMap {
  method: ExplainMethod;
  classIndex: number;
  className: string;
  /** The layer Grad-CAM looked at (saliency: the input). */
  layer: string;
  width: number;
  height: number;
  values: number[];
}

/** Images of a layer's filters: the first convolution's kernels, or what excites each filter of a deeper one. */
export interface FilterImage {
  filter: number;
  width: number;
  height: number;
  channels: number;
  /** Row-major height × width × channels, raw weights (kernels) or pixel values in [0, 1] (gradient ascent). */
  values: number[];
}

/** The test set's penultimate-layer outputs projected to 2-D, one entry per test image. */
export interface Embedding {
  method: 'pca' | 'umap';
  /** The layer whose outputs were projected, and their width. */
  layer: string;
  dimensions: number;
  seed: number;
  classNames: string[];
  /** Test-set indices of the points. */
  indices: number[];
  x: number[];
  y: number[];
  truth: number[];
  predicted: number[];
}

/** An image to look inside with: a test image of the run's dataset, or an encoded PNG/JPEG (base64). */
export type ImageRef = { testIndex: number } | { name: string; base64: string };

/** The first convolution's kernels, one image each. */
export interface KernelImages {
  layer: string;
  filters: FilterImage[];
}

// ---------------------------------------------------------------- projects

/** A project file: what the editor and the form hold. */
export interface Project {
  format_version: number;
  spec: AnyModelSpec;
  hyperparameters: Hyperparameters;
  datasetId: string | null;
  /** Where the canvas' blocks were left (top-left corners by layer name); absent: laid out afresh. */
  canvasPositions?: Record<string, { x: number; y: number }>;
}

// ---------------------------------------------------------------- services

/** A model file the user picked, as its bytes (`model.openModelFile`). */
export interface ModelFileUpload {
  name: string;
  base64: string;
}

/** A Keras / TF.js model opened as a spec (`model.openModelFile`): what it became and what was dropped on the way. */
export interface OpenedModelInfo {
  spec: AnyModelSpec;
  format: 'keras-json' | 'keras-archive' | 'tfjs';
  dialect: 'keras3' | 'tf.keras2' | 'tfjs';
  /** One line each, naming the layer: settings dropped, weights not loaded (and why). */
  notes: string[];
  /** The trained weights read from the file (a .keras archive's model.weights.h5), held by the services for a run to start from. */
  weights: OpenedWeightsInfo | null;
}

/** Weights the services hold from an opened model file: pass `id` as a run's `startFromWeights`. */
export interface OpenedWeightsInfo {
  id: string;
  /** The file they came from, as the user named it. */
  source: string;
  arrays: number;
  values: number;
}

export interface ModelService {
  summarize(spec: AnyModelSpec): Promise<SpecSummary>;
  /**
   * Opens a Keras model.to_json() file, a .keras archive or a TF.js model.json as a spec. A .keras archive's weights
   * are read too and held for a run to start from (`weights`); a TF.js model.json's sit in shard files beside it,
   * read by the CLI (`import --evaluate`, `train --spec`). A model that cannot be opened is refused with a
   * `ModelImportError` naming the file, the layer and what to do.
   */
  openModelFile(file: ModelFileUpload): Promise<OpenedModelInfo>;
  /** Ready-made specs: the lesson's CNN, LeNet-5, a small CNN, a small MLP. */
  listTemplates(): Promise<{ id: string; label: string; spec: AnyModelSpec }[]>;
  /**
   * Training image `imageIndex` of `datasetId` under the spec's leading augmentation layers, in training mode, in
   * eight seeded draws. Computed in the worker (tfjs never loads where the UI is served).
   */
  previewAugmentation(spec: AnyModelSpec, datasetId: string, imageIndex: number, seed: number): Promise<AugmentationPreview>;
}

export interface DatasetService {
  listDatasets(): Promise<DatasetInfo[]>;
  /** Electron: opens a dialog when `path` is omitted. Browser mode: `path` must be under the server's data roots. */
  importDataset(path?: string): Promise<DatasetInfo | null>;
  getTestImages(datasetId: string, indices: number[]): Promise<ImageSample[]>;
  /** Per-class counts and `perClass` training thumbnails per class. */
  describeDataset(datasetId: string, perClass: number): Promise<DatasetOverview>;
}

/** The run the services are busy with, so a window opened (or reloaded) mid-run can follow it. */
export interface ActiveRunInfo {
  runId: string;
  status: 'running' | 'paused';
  /** The latest batch progress sent, or null before the first batch. */
  progress: BatchProgress | null;
}

export interface TrainingService {
  getBackend(): Promise<BackendInfo>;
  /** The active run (paused included), or null when idle or while a start has no run id yet. */
  getActiveRun(): Promise<ActiveRunInfo | null>;
  startTraining(request: TrainingRequest): Promise<{ runId: string }>;
  /**
   * Continues a failed or stopped run from its last epoch's checkpoint, in its own folder with its own spec,
   * hyperparameters and data: it ends exactly as the run left alone would have. Events as for a started run.
   */
  continueRun(runId: string): Promise<{ runId: string }>;
  pauseTraining(runId: string): Promise<void>;
  resumeTraining(runId: string): Promise<void>;
  /** Cooperative: stops after the current batch, honouring restore_best_weights, then evaluates. */
  stopTraining(runId: string): Promise<void>;
  onTrainingProgress(listener: (progress: BatchProgress) => void): Unsubscribe;
  onEpochEnd(listener: (epoch: EpochResult) => void): Unsubscribe;
  onTrainingFinished(listener: (finished: TrainingFinished) => void): Unsubscribe;
  onTrainingFailed(listener: (failed: TrainingFailed) => void): Unsubscribe;
}

export interface RunService {
  listRuns(): Promise<RunSummary[]>;
  getRun(runId: string): Promise<RunDetail>;
  /** Renames a run or sets its notes; returns the updated summary. */
  annotateRun(runId: string, annotation: RunAnnotation): Promise<RunSummary>;
  /** Deletes a run's folder; refused for the active run. */
  deleteRun(runId: string): Promise<void>;
}

/** Export and prediction run in the training worker's process (never loading tfjs where the UI is served). */
export interface ExportService {
  /**
   * Electron: opens a folder dialog when `path` is omitted, and resolves null when it is cancelled. Browser mode:
   * `path` is a folder name, written under the run's own exports/ folder (default: the format's name).
   */
  exportModel(runId: string, format: ExportFormat, path?: string): Promise<ExportResult | null>;
  /** Browser mode: an export folder under the run's exports/ (by its name) as a .zip, to download. */
  zipExport(runId: string, name: string): Promise<ExportArchive>;
  /** Images as encoded PNG/JPEG bytes (base64) with their file names. */
  predict(runId: string, images: { name: string; base64: string }[], options?: PredictOptions): Promise<Prediction[]>;
  /** Test images of the run's own data (found where the run recorded it), with their true classes. */
  predictTestImages(runId: string, indices: number[]): Promise<Prediction[]>;
  onExportProgress(listener: (progress: ExportProgress) => void): Unsubscribe;
}

/**
 * Inside a run's trained model (computed in a worker thread, never in the process serving the UI): feature maps,
 * class maps, filters and the embedding map. Numbers cross as plain arrays.
 */
export interface InsideService {
  /** Every convolution/pooling/activation/Dense layer's output for one image, and the top classes. */
  activations(runId: string, image: ImageRef): Promise<Activations>;
  /** Grad-CAM or saliency for one class (`classIndex`), resized to the model's input. */
  classMap(runId: string, image: ImageRef, method: ExplainMethod, classIndex: number): Promise<ClassMap>;
  /** The first convolution's kernels. */
  kernels(runId: string): Promise<KernelImages>;
  /** Per filter of a layer, the input that excites it most (seeded gradient ascent from noise). */
  exciteFilters(runId: string, layer: string, filters: number[]): Promise<FilterImage[]>;
  /** The run's test set by its penultimate-layer features, projected to 2-D (the same seed, the same map). */
  embedding(runId: string, method: 'pca' | 'umap', seed?: number): Promise<Embedding>;
}

export interface ProjectService {
  /** Electron: open dialog. Browser mode: returns null (the renderer uses a file input). */
  openProject(): Promise<Project | null>;
  /** Electron: save dialog; returns where it was saved, or null if cancelled. */
  saveProject(project: Project): Promise<string | null>;
}

// ---------------------------------------------------------------- app shell

/** What an application-menu item asks the renderer to do (Electron's menu; browser mode has none). */
export type MenuCommand =
  | 'project.new'
  | 'project.open'
  | 'project.save'
  | 'dataset.import'
  | 'model.export'
  | 'edit.undo'
  | 'edit.redo';

export interface AppEvents {
  /** Fired when the user picks a menu item that acts on the renderer's state. */
  onMenuCommand(listener: (command: MenuCommand) => void): Unsubscribe;
}

/** Everything the renderer can call, by service. Exposed as `window.workbench`. */
export interface WorkbenchApi {
  kind: 'electron' | 'browser';
  model: ModelService;
  datasets: DatasetService;
  training: TrainingService;
  runs: RunService;
  exports: ExportService;
  projects: ProjectService;
  inside: InsideService;
  /** Shell events (the application menu). Optional: absent where there is no shell to send them. */
  app?: AppEvents;
}
