/**
 * Pure helpers of the Inside view's canvases: normalising maps to colours, and the embedding map's scaling,
 * hit-testing and rectangle selection (a uniform grid, so hovering over ~10,000 points stays instant).
 */
import { heatColor } from '$shared/heatmap';

/** RGBA bytes of `count` values (every `stride`-th from `offset`) coloured by `heatColor` between their min and max. */
export function mapToRgba(values: ArrayLike<number>, offset = 0, stride = 1, count = values.length): Uint8ClampedArray {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = values[offset + i * stride]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min || 1;
  const out = new Uint8ClampedArray(count * 4);
  for (let i = 0; i < count; i++) {
    const [r, g, b] = heatColor((values[offset + i * stride]! - min) / span);
    out.set([r, g, b, 255], i * 4);
  }
  return out;
}

/** Maps data coordinates to a canvas of `width` × `height` with a margin, keeping the aspect ratio. */
export interface Scale {
  toX(x: number): number;
  toY(y: number): number;
}

export function fitScale(xs: number[], ys: number[], width: number, height: number, margin = 8): Scale {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  xs.forEach((x, i) => {
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, ys[i]!);
    maxY = Math.max(maxY, ys[i]!);
  });
  const k = Math.min((width - 2 * margin) / (maxX - minX || 1), (height - 2 * margin) / (maxY - minY || 1));
  const ox = (width - k * (maxX - minX)) / 2;
  const oy = (height - k * (maxY - minY)) / 2;
  return { toX: (x) => ox + (x - minX) * k, toY: (y) => height - (oy + (y - minY) * k) };
}

/** A uniform grid over canvas points for nearest-point lookups. */
export class PointGrid {
  private readonly cells = new Map<number, number[]>();
  constructor(
    private readonly px: number[],
    private readonly py: number[],
    private readonly cell = 12,
  ) {
    px.forEach((x, i) => {
      const key = this.key(Math.floor(x / cell), Math.floor(py[i]! / cell));
      const list = this.cells.get(key);
      if (list) list.push(i);
      else this.cells.set(key, [i]);
    });
  }

  private key(cx: number, cy: number): number {
    return cx * 100_003 + cy;
  }

  /** The point nearest (x, y) within `radius` canvas pixels (≤ the cell size), or -1. */
  nearest(x: number, y: number, radius = 6): number {
    const cx = Math.floor(x / this.cell);
    const cy = Math.floor(y / this.cell);
    let best = -1;
    let bestD = radius * radius;
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const i of this.cells.get(this.key(cx + dx, cy + dy)) ?? []) {
          const d = (this.px[i]! - x) ** 2 + (this.py[i]! - y) ** 2;
          if (d <= bestD) {
            bestD = d;
            best = i;
          }
        }
      }
    }
    return best;
  }

  /** Points inside the rectangle spanned by two corners. */
  within(x0: number, y0: number, x1: number, y1: number): number[] {
    const [ax, bx] = x0 < x1 ? [x0, x1] : [x1, x0];
    const [ay, by] = y0 < y1 ? [y0, y1] : [y1, y0];
    const out: number[] = [];
    this.px.forEach((x, i) => {
      const y = this.py[i]!;
      if (x >= ax && x <= bx && y >= ay && y <= by) out.push(i);
    });
    return out;
  }
}

/** Ten distinguishable class colours (Tableau 10), cycling beyond ten classes. */
export const CLASS_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
export const classColour = (k: number): string => CLASS_COLOURS[k % CLASS_COLOURS.length]!;
