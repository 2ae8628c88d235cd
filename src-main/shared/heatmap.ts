/**
 * The one colour scale for class maps and feature maps, shared by the CLI's overlay PNGs and the renderer's
 * canvases so both show the same picture: dark blue (0) → cyan → yellow → red (1), a "turbo"-like ramp that
 * reads well over a grey image.
 */

const STOPS: [number, [number, number, number]][] = [
  [0, [48, 18, 59]],
  [0.25, [40, 130, 250]],
  [0.5, [40, 230, 160]],
  [0.75, [250, 200, 40]],
  [1, [200, 30, 10]],
];

/** The colour of t in [0, 1] (clamped) as [r, g, b] bytes. */
export function heatColor(t: number): [number, number, number] {
  const v = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  for (let i = 1; i < STOPS.length; i++) {
    const [t1, c1] = STOPS[i]!;
    if (v <= t1) {
      const [t0, c0] = STOPS[i - 1]!;
      const f = (v - t0) / (t1 - t0);
      return [0, 1, 2].map((k) => Math.round(c0[k]! + (c1[k]! - c0[k]!) * f)) as [number, number, number];
    }
  }
  return STOPS[STOPS.length - 1]![1];
}

/** Largest value of a map (1 for an all-zero map, so dividing by it is safe). */
export function mapMax(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > m) m = values[i]!;
  return m > 0 ? m : 1;
}

/**
 * RGBA bytes of a class map over a grayscale image (both height × width, image in [0, 1]): the image in grey,
 * the map normalised to its maximum and blended in with opacity growing with the map's value, so cold
 * regions still show the picture.
 */
export function overlayRgba(gray: ArrayLike<number>, map: ArrayLike<number>, opacity = 0.6): Uint8ClampedArray {
  const n = gray.length;
  const out = new Uint8ClampedArray(n * 4);
  const max = mapMax(map);
  for (let p = 0; p < n; p++) {
    const g = Math.min(1, Math.max(0, gray[p]!)) * 255;
    const t = map[p]! / max;
    const [r, gg, b] = heatColor(t);
    const a = opacity * Math.sqrt(Math.max(0, t));
    out[p * 4] = g * (1 - a) + r * a;
    out[p * 4 + 1] = g * (1 - a) + gg * a;
    out[p * 4 + 2] = g * (1 - a) + b * a;
    out[p * 4 + 3] = 255;
  }
  return out;
}
