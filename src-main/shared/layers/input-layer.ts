/** Keras `InputLayer`: the image shape the model takes (its shape is read by the validator from the raw config). */
import { defineLayer } from './kit';

export interface InputLayerConfig {
  /** [height, width, channels], without the batch dimension. */
  shape: number[];
}

export const inputLayer = defineLayer({
  className: 'InputLayer',
  role: 'hidden',
  namePrefix: 'input_layer',
  palette: 'Input',
  summary: 'The image shape the model takes: [height, width, channels].',
  fields: [
    { name: 'shape', kind: 'shape', label: 'Shape', help: 'Input shape without the batch dimension: [height, width, channels].', required: true, default: null, suggested: [28, 28, 1], min: 1 },
  ],
  // The validator reads shape / batch_shape / batch_input_shape itself (it needs the raw config).
  infer: () => ({ output: null, params: 0, nonTrainable: 0 }),
  resolve: (read): InputLayerConfig => ({ shape: read.ints('shape') }),
  caption: (c) => (Array.isArray(c.shape) ? `(${c.shape.join(', ')})` : ''),
});
