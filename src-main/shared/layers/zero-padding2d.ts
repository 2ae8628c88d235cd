/** Keras `ZeroPadding2D`: rows and columns of zeros around the image. */
import { add, defineLayer, spatialInput, type Dim, type Pair } from './kit';

export interface ZeroPadding2DConfig {
  /** [[top, bottom], [left, right]] as Keras' get_config writes it. */
  padding: [Pair, Pair];
}

export const zeroPadding2d = defineLayer({
  className: 'ZeroPadding2D',
  role: 'maps',
  namePrefix: 'zero_padding2d',
  palette: 'Convolution',
  summary: 'Adds rows and columns of zeros around the image.',
  fields: [
    { name: 'padding', kind: 'padding2d', label: 'Padding', help: 'Zeros added: n, [rows, cols] or [[top, bottom], [left, right]].', required: false, default: 1, min: 0 },
  ],
  infer(ctx, input) {
    const [h, w, c] = spatialInput(ctx, input);
    const p = ctx.config.padding ?? 1;
    let t: Dim = null,
      b: Dim = null,
      l: Dim = null,
      r: Dim = null;
    if (!ctx.bad.has('padding')) {
      if (typeof p === 'number') [t, b, l, r] = [p, p, p, p];
      else if (Array.isArray(p) && typeof p[0] === 'number') [t, b, l, r] = [p[0], p[0], p[1] as number, p[1] as number];
      else if (Array.isArray(p)) [[t, b], [l, r]] = p as [[number, number], [number, number]];
    }
    return { output: [add(h, t, b), add(w, l, r), c], params: 0, nonTrainable: 0 };
  },
  resolve: (r): ZeroPadding2DConfig => ({ padding: r.padding2d('padding') }),
  caption: (c) => `pad ${JSON.stringify(c.padding ?? 1)}`,
});
