import type { SpecSummary, SummaryRow } from '../../shared/spec';

/** 468586 → "468,586" (fixed en-US grouping: output must not depend on the machine's locale). */
export function withThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Keras' `readable_memory_size`: float32 bytes in B/KB/MB/GB with 1024 steps and two decimals. */
export function readableMemorySize(params: number): string {
  let size = params * 4;
  for (const unit of ['B', 'KB', 'MB', 'GB', 'TB']) {
    if (size / 1024 < 1) return `${size.toFixed(2)} ${unit}`;
    size /= 1024;
  }
  return `${size.toFixed(2)} PB`;
}

/** `(None, 28, 28, 1)` for a summary row's output shape. */
export function formatShape(shape: SummaryRow['outputShape']): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
}

/** Keras 3's Trainable column: Y/N for layers with weights, "-" for those without. */
function trainableMark(r: SummaryRow): string {
  if (r.params === 0) return '-';
  return r.trainableParams > 0 ? 'Y' : 'N';
}

/**
 * The summary as Keras 3 prints it (the lesson's table): one row per layer with output shape, Param # and
 * Trainable, then the three totals with thousands separators and float32 sizes. Problems, if any, follow the
 * table (an invalid spec's table stops before its first error).
 */
export function formatSummary(summary: SpecSummary, modelName = 'sequential'): string {
  const header = ['Layer (type)', 'Output Shape', 'Param #', 'Trainable'];
  const cells = summary.rows.map((r) => [`${r.name} (${r.className})`, formatShape(r.outputShape), withThousands(r.params), trainableMark(r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const pad = (s: string, i: number) => (i === 2 ? s.padStart(widths[i]) : i === 3 ? s.padStart(Math.ceil((widths[i] + s.length) / 2)).padEnd(widths[i]) : s.padEnd(widths[i]));
  const line = (l: string, fill: string, mid: string, r: string) => l + widths.map((w) => fill.repeat(w + 2)).join(mid) + r;
  const out = [`Model: "${modelName}"`, line('┏', '━', '┳', '┓'), `┃ ${header.map(pad).join(' ┃ ')} ┃`, line('┡', '━', '╇', '┩')];
  cells.forEach((c, k) => {
    out.push(`│ ${c.map(pad).join(' │ ')} │`);
    out.push(k === cells.length - 1 ? line('└', '─', '┴', '┘') : line('├', '─', '┼', '┤'));
  });
  if (cells.length === 0) out.push(line('└', '─', '┴', '┘'));
  out.push(` Total params: ${withThousands(summary.totalParams)} (${readableMemorySize(summary.totalParams)})`);
  out.push(` Trainable params: ${withThousands(summary.trainableParams)} (${readableMemorySize(summary.trainableParams)})`);
  out.push(` Non-trainable params: ${withThousands(summary.nonTrainableParams)} (${readableMemorySize(summary.nonTrainableParams)})`);
  if (summary.issues.length > 0) {
    const errors = summary.issues.filter((i) => i.severity === 'error').length;
    out.push('', `${errors} error(s), ${summary.issues.length - errors} warning(s):`);
    for (const i of summary.issues) out.push(`  ${i.severity === 'error' ? 'error  ' : 'warning'} ${i.message}`);
  }
  return out.join('\n');
}
