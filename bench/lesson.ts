/**
 * The lesson's CNN and real Fashion-MNIST batches for the benchmark and the backend tests.
 * (Built with tf.sequential here until the spec builder and data loader land; then both come from core.)
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';

/** Where Debian's `dataset-fashion-mnist` puts the IDX files. */
export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

/** The first `n` training images (scaled to [0,1], NHWC) and one-hot labels of Fashion-MNIST. */
export function readFashion(n: number, dir = FASHION_DIR): { x: Float32Array; y: Float32Array; labels: Uint8Array } {
  const read = (name: string, offset: number): Buffer => zlib.gunzipSync(fs.readFileSync(path.join(dir, name))).subarray(offset);
  const images = read('train-images-idx3-ubyte.gz', 16);
  const labels = read('train-labels-idx1-ubyte.gz', 8);
  if (images.length < n * 784) throw new Error(`${dir}: only ${images.length / 784} images, ${n} asked`);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = images[i] / 255;
  const y = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) y[i * 10 + labels[i]] = 1;
  return { x, y, labels: Uint8Array.from(labels.subarray(0, n)) };
}

/** The lesson's 468,586-parameter CNN (Keras defaults: BatchNorm momentum 0.99, epsilon 1e-3), compiled as in the lesson. */
export function lessonCnn(seed = 123): tf.Sequential {
  let s = seed;
  const init = () => tf.initializers.glorotUniform({ seed: s++ });
  const block = (m: tf.Sequential, filters: number, first = false) => {
    m.add(tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', kernelInitializer: init(), ...(first ? { inputShape: [28, 28, 1] } : {}) }));
    m.add(tf.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }));
    m.add(tf.layers.activation({ activation: 'relu' }));
  };
  const m = tf.sequential();
  block(m, 32, true);
  block(m, 32);
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.dropout({ rate: 0.25 }));
  block(m, 64);
  block(m, 64);
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.dropout({ rate: 0.3 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init() }));
  m.add(tf.layers.dropout({ rate: 0.4 }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init() }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}
