/**
 * Colours of a confusion-matrix cell: a translucent tint over the page's white, and the text colour (black
 * or white) with the higher contrast on it, so every count reads at WCAG AA (≥ 4.5:1) whatever the shade.
 */

/** sRGB channel (0–255) to linear light. */
function linear(c: number): number {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

export function luminance([r, g, b]: readonly [number, number, number]): number {
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

export function contrast(a: number, b: number): number {
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/** `rgb` at `alpha` over white, as an opaque colour. */
export function overWhite(rgb: readonly [number, number, number], alpha: number): [number, number, number] {
  return rgb.map((c) => Math.round(c * alpha + 255 * (1 - alpha))) as [number, number, number];
}

/** Background and text for a cell tinted `rgb` at `alpha`. */
export function cellColours(rgb: readonly [number, number, number], alpha: number): { background: string; text: '#000' | '#fff'; contrast: number } {
  const bg = overWhite(rgb, alpha);
  const l = luminance(bg);
  const black = contrast(l, 0);
  const white = contrast(l, 1);
  return { background: `rgb(${bg.join(', ')})`, text: black >= white ? '#000' : '#fff', contrast: Math.max(black, white) };
}
