/**
 * The core half of a layer definition: how the layer is built in tfjs, written as Keras (Python/R) arguments,
 * translated to ONNX, and encoded for the fused native training step. Its tfjs-free half (fields, shape
 * inference, typed config, caption) is `shared/layers`; both are keyed by the same class name, so the compiler
 * refuses a layer class that lacks either half or any part of one.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ActivationName, LayerClassName } from '../../../shared/spec';
import type { InitializerName } from '../../../shared/layers/kit';
import type { LayerConfigOf } from '../../../shared/layers/index';
import type { Arg } from '../../export/keras-args';
import type { OnnxStep } from '../../export/onnx-graph';
import type { TfActivationIdentifier, TfInitializer } from '../registry';

/** A tfjs layer's config as `getConfig()` returns it (camelCase keys). */
export type TfConfig = Readonly<Record<string, unknown>>;

/** A number from a tfjs config, or the Keras default when the config leaves it out. */
export const num = (v: unknown, dflt: number): number => (typeof v === 'number' ? v : dflt);

/** What `build` needs beyond the typed config: the common arguments and seeded initializers. */
export interface BuildContext {
  /** tfjs' common layer arguments. */
  base: { name: string; trainable: boolean };
  /** The seeded initializer for weight slot `slot` of this layer. */
  init(initializer: InitializerName, slot: number): TfInitializer;
  /** tfjs' identifier for a Keras activation. */
  act(name: ActivationName): TfActivationIdentifier;
  /** A seed for this layer's own random draws (augmentation), mixed from the run seed and the layer's index. */
  seed(slot: number): number;
}

/** How the fused native step encodes a layer, or why it does not cover it (the run log quotes the reason). */
export type FusedEncoding =
  | {
      /** The addon's code list for the layer (see native/trainer.cc); throws `FusedUnsupported` for a setting it lacks. */
      encode(layer: tf.layers.Layer, c: TfConfig, last: boolean): number[];
    }
  | { unsupported: string }
  | {
      /**
       * A preprocessing layer: when it leads the model, the native augmentation pass (native/augment.cc) runs it
       * before the fused step (`draw` gives a random layer's per-image parameters; at inference only layers
       * without `draw` apply); anywhere else the model trains through tfjs layers.
       */
      augment(layer: tf.layers.Layer, c: TfConfig): AugmentStage;
    };

/** One layer of the native augmentation pass: its code list (native/augment.h) and, for a random layer, its draws. */
export interface AugmentStage {
  code: number[];
  /** `n` images' parameters for one training batch of h × w images, from the layer's own seeded generator. */
  draw?: (n: number, h: number, w: number) => number[];
}

/** The core half of layer class K. */
export interface LayerCore<K extends LayerClassName> {
  /** The tfjs layer for a validated config. */
  build(config: LayerConfigOf<K>, ctx: BuildContext): tf.layers.Layer;
  /** Keras constructor arguments, in the order a person would write them, from the trained tfjs layer. */
  kerasArgs(c: TfConfig, layer: tf.layers.Layer): [string, Arg][];
  /** The keras3 (R) function that builds the layer. */
  rFunction: string;
  /** Emits the layer's inference nodes; returns the name of its output tensor. */
  onnx(step: OnnxStep): string;
  fused: FusedEncoding;
}

/** Checks a core definition against `LayerCore` (the compiler names what is missing). */
export const defineCore = <K extends LayerClassName>(core: LayerCore<K>): LayerCore<K> => core;
