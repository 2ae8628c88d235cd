/**
 * chart.js wrapped as a Svelte 5 attachment: the chart is created once when the canvas mounts, updated in
 * place (no animation, so a live run does not redraw a tween ten times a second) whenever the model it reads
 * changes, and destroyed when the canvas goes away. Only the chart.js parts used here are registered.
 */
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
  type PointStyle,
} from 'chart.js';
import type { Attachment } from 'svelte/attachments';
import { formatLr, type Marker, type Point } from './series';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);

/** One line on a chart. */
export interface LineSeries {
  label: string;
  points: Point[];
  color: string;
  dashed?: boolean;
  /** 0 hides the point markers (dense per-batch lines); default 3. */
  pointRadius?: number;
  /** x values whose point is drawn as a large star (e.g. the best epoch). */
  stars?: number[];
}

/** Everything a chart shows; the attachment re-reads it whenever it changes. */
export interface LineChartModel {
  series: LineSeries[];
  markers: Marker[];
  yLabel: string;
  yFormat: 'percent' | 'loss' | 'lr';
  logY?: boolean;
  /** The x axis runs to at least this epoch, so a live chart does not rescale every epoch. */
  xMax?: number;
}

/** Colours of the event markers, by kind. */
export const MARKER_COLORS: Record<Marker['kind'], string> = {
  lr_reduced: '#7c3aed',
  early_stop: '#dc2626',
  // Amber dark enough for the star beside text (4.9:1 on white).
  best: '#a16207',
};

const MARKER_SHORT: Record<Marker['kind'], string> = { lr_reduced: 'LR↓', early_stop: 'stop', best: 'best' };

/** Draws dashed vertical lines with a short tag at each marker; the full text is in the legend under the chart. */
function markerPlugin(markers: () => Marker[]): Plugin<'line'> {
  return {
    id: 'workbenchMarkers',
    afterDatasetsDraw(chart) {
      const x = chart.scales.x;
      const { top, bottom, left, right } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.font = '12px system-ui, sans-serif';
      ctx.textAlign = 'center';
      // Markers of the same epoch (an LR reduction and the early stop often coincide) stack their tags.
      // A scratch map for one draw call, not state: nothing reactive reads it.
      // eslint-disable-next-line svelte/prefer-svelte-reactivity
      const tagsAt = new Map<number, number>();
      for (const m of markers()) {
        const px = x.getPixelForValue(m.x);
        if (px < left - 1 || px > right + 1) continue;
        ctx.strokeStyle = MARKER_COLORS[m.kind];
        ctx.fillStyle = MARKER_COLORS[m.kind];
        ctx.setLineDash([4, 4]);
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(px, top);
        ctx.lineTo(px, bottom);
        ctx.stroke();
        // Keep the tag inside the plot area when the marker sits at its edge (the last epoch usually does).
        const half = ctx.measureText(MARKER_SHORT[m.kind]).width / 2 + 2;
        const row = tagsAt.get(m.x) ?? 0;
        tagsAt.set(m.x, row + 1);
        ctx.fillText(MARKER_SHORT[m.kind], Math.min(right - half, Math.max(left + half, px)), top + 10 + row * 12);
      }
      ctx.restore();
    },
  };
}

function formatTick(format: LineChartModel['yFormat'], value: number): string {
  if (format === 'percent') return `${Math.round(value * 1000) / 10} %`;
  // Log axes get a tick at every 1–9 mantissa; label only 1, 2 and 5 so they stay readable.
  if (format === 'lr') return [1, 2, 5].includes(Number(value.toExponential(0).split('e')[0])) && Number(value.toPrecision(1)) === value ? formatLr(value) : '';
  return String(Math.round(value * 1000) / 1000);
}

function toDataset(s: LineSeries): ChartDataset<'line', Point[]> {
  const stars = new Set(s.stars ?? []);
  const radius = s.pointRadius ?? 3;
  // Copies: chart.js instruments the arrays it is given, which must not be Svelte state.
  const data = s.points.map((p) => ({ x: p.x, y: p.y }));
  return {
    label: s.label,
    data,
    borderColor: s.color,
    backgroundColor: s.color,
    borderWidth: 2,
    borderDash: s.dashed ? [6, 4] : [],
    pointRadius: data.map((p) => (stars.has(p.x) ? 8 : radius)),
    pointStyle: data.map((p): PointStyle => (stars.has(p.x) ? 'star' : 'circle')),
    tension: 0,
    // Points on the last epoch sit on the plot's edge: let them (and the best-epoch star) draw whole.
    clip: 10,
  };
}

/** Attach to a `<canvas>`: `{@attach lineChart(() => model)}`. */
export function lineChart(model: () => LineChartModel): Attachment<HTMLCanvasElement> {
  return (canvas) => {
    let markers: Marker[] = [];
    let format: LineChartModel['yFormat'] = 'loss';
    // Axis text and grid follow the app's colour tokens, so the charts read in the dark scheme too.
    const css = getComputedStyle(canvas);
    const muted = css.getPropertyValue('--text-muted').trim() || '#5f6670';
    const grid = css.getPropertyValue('--border').trim() || '#d9dce1';
    const chart = new Chart<'line', Point[]>(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        color: muted,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          x: { type: 'linear', min: 0, title: { display: true, text: 'Epoch', color: muted }, ticks: { precision: 0, color: muted }, grid: { color: grid } },
          y: {
            type: 'linear',
            title: { display: true, text: '', color: muted },
            ticks: { callback: (v) => formatTick(format, Number(v)), color: muted },
            grid: { color: grid },
          },
        },
        layout: { padding: { right: 12, top: 4 } },
        plugins: { legend: { position: 'bottom', labels: { boxHeight: 2 } } },
      },
      plugins: [markerPlugin(() => markers)],
    });
    $effect(() => {
      const m = model();
      markers = m.markers;
      format = m.yFormat;
      chart.data.datasets = m.series.map(toDataset);
      const x = chart.options.scales?.x;
      if (x) x.max = Math.max(1, m.xMax ?? 0, ...m.series.flatMap((s) => s.points.map((p) => Math.ceil(p.x))));
      const y = chart.options.scales?.y;
      if (y) {
        // An empty log axis invents a 1–10 range; stay linear until there is something to show.
        y.type = m.logY && m.series.some((s) => s.points.length > 0) ? 'logarithmic' : 'linear';
        if (y.title) y.title.text = m.yLabel;
      }
      chart.update('none');
    });
    return () => chart.destroy();
  };
}
