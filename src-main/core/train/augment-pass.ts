/**
 * The native augmentation pass (native/augment.cc) in front of the fused step and the native inference pass: a
 * model's leading preprocessing layers (Rescaling and the Random* layers, whose definitions say `fused: { augment }`)
 * run over each batch in native code, and the fused step trains the layers after them. While training, each random
 * layer draws its per-image parameters from its own seeded generator — the same tfjs layer object and the same
 * draws as the tfjs path, so the same seed gives the same run — and only the pixel work is native. At inference
 * the random layers are the identity and Rescaling applies, as in Keras.
 */
import type * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../backend/native';
import { layerCoreFor, type TfConfig } from '../model/layers/index';
import type { AugmentStage } from '../model/layers/kit';

/** The model's leading preprocessing layers and their stages, and the layers after them. */
export interface PreprocessingSplit {
  leading: { layer: tf.layers.Layer; stage: AugmentStage }[];
  rest: tf.layers.Layer[];
}

/** Splits `layers` (InputLayer left out) after its last leading preprocessing layer. */
export function splitPreprocessing(layers: tf.layers.Layer[]): PreprocessingSplit {
  const leading: PreprocessingSplit['leading'] = [];
  for (const layer of layers) {
    const fused = layerCoreFor(layer.getClassName())?.fused;
    if (!fused || !('augment' in fused)) break;
    leading.push({ layer, stage: fused.augment(layer, layer.getConfig() as TfConfig) });
  }
  return { leading, rest: layers.slice(leading.length) };
}

/** The pass over batches of one image shape. */
export class AugmentPass {
  readonly description: string;
  private readonly codes: number[][];
  private readonly inferenceCodes: number[][];
  private out = new Float32Array(0);

  constructor(
    private readonly lib: NativeAddon,
    private readonly leading: PreprocessingSplit['leading'],
    private readonly shape: [number, number, number],
  ) {
    this.codes = leading.map((l) => l.stage.code);
    this.inferenceCodes = leading.filter((l) => !l.stage.draw).map((l) => l.stage.code);
    this.description = `native augmentation pass (${leading.map((l) => l.layer.getClassName()).join(', ')})`;
  }

  /** True when the pass changes images at inference (a Rescaling layer). */
  get appliesAtInference(): boolean {
    return this.inferenceCodes.length > 0;
  }

  /** The first `n` images of `x` augmented for one training step, in a buffer the pass owns (valid until the next call). */
  training(x: Float32Array, n: number): Float32Array {
    const [h, w] = this.shape;
    const params: number[] = [];
    const drawn = this.leading.map((l) => l.stage.draw?.(n, h, w) ?? []);
    // The addon takes the parameters image by image, each image's ops in order.
    for (let i = 0; i < n; i++) {
      this.leading.forEach((l, k) => {
        const per = drawn[k]!.length / n;
        for (let j = 0; j < per; j++) params.push(drawn[k]![i * per + j]!);
      });
    }
    const size = n * h * w * this.shape[2];
    if (this.out.length < size) this.out = new Float32Array(size);
    this.lib.augment(x, this.out, n, this.shape, this.codes, Float32Array.from(params), true);
    return this.out;
  }

  /** The first `n` images of `x` as inference sees them (Rescaling only), written into `out`. */
  inference(x: Float32Array, n: number, out: Float32Array): void {
    this.lib.augment(x, out, n, this.shape, this.inferenceCodes, new Float32Array(0), false);
  }
}
