/**
 * Inside the network: feature maps, filters, Grad-CAM and saliency maps, and the embedding map of a run's
 * trained model (see the modules beside this one). Run-level entry points load the run's model and class
 * names once and answer several questions about it; they run wherever tfjs may (CLI, training worker).
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { Activations, ClassMap, Embedding, ExplainMethod, FilterImage } from '../../shared/contract';
import { loadDataset } from '../data/load';
import { readRunInfo } from '../export/run-info';
import { decodeImage, preprocessImage } from '../predict/image';
import { loadRunModel } from '../runs/model-io';
import { RUN_FILES } from '../runs/store';
import { embedTestSet, type EmbedOptions } from './embedding';
import { exciteFilters, firstConvKernels, type ExciteOptions } from './filters';
import { classProbabilities, gradCam, layerActivations, saliencyMap, topClasses } from './maps';
import { inputShape } from './network';

export { layerActivations, gradCam, saliencyMap, inputGradient, classScore, classProbabilities, topClasses } from './maps';
export { firstConvKernels, exciteFilters } from './filters';
export { pca, umap2d } from './projection';
export { embedTestSet, penultimateFeatures } from './embedding';

/** A run's model with its class names, for asking several questions in a row. Call `dispose` when done. */
export class RunExplainer {
  private constructor(
    readonly runDir: string,
    readonly model: tf.LayersModel,
    readonly classNames: string[],
    readonly datasetId: string | null,
    readonly testLimit: number | null,
  ) {}

  /** Loads a run folder's model and class names; errors name the folder and file. */
  static async open(runDir: string): Promise<RunExplainer> {
    const model = await loadRunModel(runDir);
    const k = model.outputs[0]!.shape[1] ?? 0;
    const info = await readRunInfo(runDir, k);
    let testLimit: number | null = null;
    try {
      const run = JSON.parse(await fs.readFile(path.join(runDir, RUN_FILES.run), 'utf8')) as { limits?: { test?: unknown } };
      testLimit = typeof run.limits?.test === 'number' ? run.limits.test : null;
    } catch {
      testLimit = null; // no run.json: the whole test set
    }
    return new RunExplainer(runDir, model, info.classNames, info.datasetId, testLimit);
  }

  /** [height, width, channels] the model takes. */
  get inputShape(): [number, number, number] {
    return inputShape(this.model);
  }

  /** The class index of a class name (exact, then case-insensitive) or of a number given as text; null if none. */
  classIndex(name: string): number | null {
    const exact = this.classNames.indexOf(name);
    if (exact >= 0) return exact;
    const lower = this.classNames.findIndex((c) => c.toLowerCase() === name.toLowerCase());
    if (lower >= 0) return lower;
    if (/^\d+$/.test(name) && Number(name) < this.classNames.length) return Number(name);
    return null;
  }

  /** Decodes and preprocesses an encoded PNG/JPEG as predict does. */
  imageFromBytes(name: string, bytes: Uint8Array): Float32Array {
    const [h, w, c] = this.inputShape;
    return preprocessImage(decodeImage(name, bytes), h, w, c);
  }

  /** Test image `index` of the run's dataset, scaled to [0, 1], plus its label. */
  async testImage(index: number): Promise<{ image: Float32Array; label: number }> {
    const test = await this.testSet();
    if (!Number.isInteger(index) || index < 0 || index >= test.count) {
      throw new RangeError(`test image ${index} does not exist: the run's test set has ${test.count} images (0–${test.count - 1})`);
    }
    const per = test.height * test.width * test.channels;
    const image = Float32Array.from(test.images.subarray(index * per, (index + 1) * per), (v) => v / 255);
    return { image, label: test.labels[index]! };
  }

  private testSetPromise: ReturnType<typeof loadDataset> | null = null;
  private async testSet() {
    if (!this.datasetId) throw new Error(`run ${this.runDir} does not say which dataset it was trained on (run.json lacks it)`);
    this.testSetPromise ??= loadDataset(this.datasetId, { limitTest: this.testLimit ?? undefined, limitTrain: 1, download: false });
    return (await this.testSetPromise).test;
  }

  activations(image: Float32Array): Activations {
    return layerActivations(this.model, image, this.classNames);
  }

  probabilities(image: Float32Array): number[] {
    return classProbabilities(this.model, image);
  }

  top(image: Float32Array, k?: number) {
    return topClasses(this.probabilities(image), this.classNames, k);
  }

  classMap(image: Float32Array, method: ExplainMethod, classIndex: number): ClassMap {
    return method === 'gradcam' ? gradCam(this.model, image, classIndex, this.classNames) : saliencyMap(this.model, image, classIndex, this.classNames);
  }

  kernels(): { layer: string; filters: FilterImage[] } {
    return firstConvKernels(this.model);
  }

  excite(layer: string, filters: number[], opts?: ExciteOptions): FilterImage[] {
    return exciteFilters(this.model, layer, filters, opts);
  }

  /** The run's test set projected (see `embedTestSet`). */
  async embed(opts: EmbedOptions): Promise<Embedding> {
    return embedTestSet(this.model, await this.testSet(), this.classNames, opts);
  }

  dispose(): void {
    this.model.dispose();
  }
}
