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

/** Keras 3's "Connected to" cell: each input as `name[0][0]`, one per line; "-" for the input layer. */
function connectedCell(r: SummaryRow): string[] {
  const ins = r.connectedTo ?? [];
  if (ins.length === 0) return ['-'];
  return ins.map((n, i) => `${n}[0][0]${i < ins.length - 1 ? ',' : ''}`);
}

/**
 * The summary as Keras 3 prints it (the lesson's table): one row per layer with output shape, Param # and
 * Trainable — and, for a functional model, Keras' "Connected to" column (a merge's inputs one per line) — then the
 * three totals with thousands separators and float32 sizes. Problems, if any, follow the table (an invalid spec's
 * table stops before its first error).
 */
export function formatSummary(summary: SpecSummary, modelName = 'sequential'): string {
  const graph = summary.rows.some((r) => r.connectedTo !== undefined);
  const header = ['Layer (type)', 'Output Shape', 'Param #', ...(graph ? ['Connected to'] : []), 'Trainable'];
  const paramCol = 2;
  const trainCol = header.length - 1;
  // Each cell is a list of lines: only "Connected to" spans several.
  const cells = summary.rows.map((r) => [[`${r.name} (${r.className})`], [formatShape(r.outputShape)], [withThousands(r.params)], ...(graph ? [connectedCell(r)] : []), [trainableMark(r)]]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.flatMap((c) => c[i]!.map((l) => l.length))));
  const pad = (s: string, i: number) => (i === paramCol ? s.padStart(widths[i]!) : i === trainCol ? s.padStart(Math.ceil((widths[i]! + s.length) / 2)).padEnd(widths[i]!) : s.padEnd(widths[i]!));
  const line = (l: string, fill: string, mid: string, r: string) => l + widths.map((w) => fill.repeat(w + 2)).join(mid) + r;
  const out = [`Model: "${modelName}"`, line('┏', '━', '┳', '┓'), `┃ ${header.map(pad).join(' ┃ ')} ┃`, line('┡', '━', '╇', '┩')];
  cells.forEach((c, k) => {
    const height = Math.max(...c.map((lines) => lines.length));
    for (let j = 0; j < height; j++) out.push(`│ ${c.map((lines, i) => pad(lines[j] ?? '', i)).join(' │ ')} │`);
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
