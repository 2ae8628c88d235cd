/** Keras `GlobalAveragePooling2D` and `GlobalMaxPooling2D`: one value per channel. */
import { defineLayer, keepdimsField, spatialInput } from './kit';

export type GlobalPooling2DConfig = Record<string, never>;

const globalPooling = <K extends 'GlobalAveragePooling2D' | 'GlobalMaxPooling2D'>(className: K, namePrefix: string, summary: string) =>
  defineLayer({
    className,
    role: 'maps',
    namePrefix,
    palette: 'Pooling',
    summary,
    fields: [keepdimsField],
    infer(ctx, input) {
      if (ctx.config.keepdims === true) ctx.error('keepdims', true, 'keepdims: true is not supported (tfjs global pooling has no keepdims); add no option and reshape later');
      const [, , c] = spatialInput(ctx, input);
      return { output: [c], params: 0, nonTrainable: 0 };
    },
    resolve: (): GlobalPooling2DConfig => ({}),
    caption: () => '',
  });

export const globalAveragePooling2d = globalPooling('GlobalAveragePooling2D', 'global_average_pooling2d', 'Averages each channel over the whole image: one value per channel.');
export const globalMaxPooling2d = globalPooling('GlobalMaxPooling2D', 'global_max_pooling2d', 'Keeps the largest value of each channel: one value per channel.');
