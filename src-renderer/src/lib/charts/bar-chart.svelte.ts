/**
 * chart.js bars as a Svelte 5 attachment (as line-chart.svelte.ts does lines): created when the canvas mounts,
 * updated in place whenever the model it reads changes, destroyed with the canvas.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import type { Attachment } from 'svelte/attachments';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface BarSeries {
  label: string;
  values: number[];
  color: string;
}

export interface BarChartModel {
  labels: string[];
  series: BarSeries[];
  yLabel: string;
}

/** Attach to a `<canvas>`: `{@attach barChart(() => model)}`. */
export function barChart(model: () => BarChartModel): Attachment<HTMLCanvasElement> {
  return (canvas) => {
    const css = getComputedStyle(canvas);
    const muted = css.getPropertyValue('--text-muted').trim() || '#5f6670';
    const grid = css.getPropertyValue('--border').trim() || '#d9dce1';
    const chart = new Chart<'bar', number[], string>(canvas, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        color: muted,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { ticks: { color: muted, autoSkip: false, maxRotation: 60 }, grid: { display: false } },
          y: { beginAtZero: true, title: { display: true, text: '', color: muted }, ticks: { precision: 0, color: muted }, grid: { color: grid } },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    });
    $effect(() => {
      const m = model();
      // Copies: chart.js instruments the arrays it is given, which must not be Svelte state.
      chart.data.labels = [...m.labels];
      chart.data.datasets = m.series.map((s) => ({ label: s.label, data: [...s.values], backgroundColor: s.color, borderColor: s.color }));
      const y = chart.options.scales?.y;
      if (y?.title) y.title.text = m.yLabel;
      chart.update('none');
    });
    return () => chart.destroy();
  };
}
