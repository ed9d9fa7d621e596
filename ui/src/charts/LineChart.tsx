// Trend charts (UI-2 kiosk trend, UI-3 data query) with chart.js, tree-shaken: only the line
// controller, the linear scales and the filler are registered. The x axis is a linear axis of
// epoch ms with our own tick labels (no date adapter). Points arrive already bucketed by the
// server (UI-4), so a 7-day range is a few thousand points at most; animation is off.
import { Chart, Filler, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import { formatTime } from '../i18n/i18n.ts';
import { lineChartBase, timeAxis, valueAxis } from './line-options.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip);

export interface Series {
  label: string;
  points: { x: number; y: number }[];
  color: string;
  fill?: boolean | string;
  dashed?: boolean;
}

const pad = (n: number) => String(n).padStart(2, '0');
/** HH:mm:ss within a quarter hour, HH:mm within a day, MM-DD HH:mm across days. */
export function tickLabel(ms: number, spanMs: number): string {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (spanMs > 86_400_000) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
  return spanMs <= 15 * 60_000 ? `${time}:${pad(d.getSeconds())}` : time;
}

export function LineChart(props: { series: Series[]; yLabel?: string; limit?: number | null; big?: boolean; class?: string; xMin?: number; xMax?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'line', { x: number; y: number }[]> | null>(null);

  useEffect(() => {
    const xs = props.series.flatMap((s) => (s.points.length ? [s.points[0].x, s.points[s.points.length - 1].x] : []));
    if (props.xMin !== undefined) xs.push(props.xMin);
    if (props.xMax !== undefined) xs.push(props.xMax);
    const span = xs.length ? Math.max(...xs) - Math.min(...xs) : 0;
    const fontSize = props.big ? 18 : 12;
    const datasets = props.series.map((s) => ({
      label: s.label,
      data: s.points,
      borderColor: s.color,
      backgroundColor: `${s.color}33`,
      borderWidth: props.big ? 3 : 2,
      borderDash: s.dashed ? [6, 4] : [],
      fill: s.fill ?? false,
      pointRadius: s.points.length < 80 ? 2 : 0,
      tension: 0,
    }));
    if (props.limit !== null && props.limit !== undefined && xs.length) {
      datasets.push({
        label: 'limit', data: [{ x: Math.min(...xs), y: props.limit }, { x: Math.max(...xs), y: props.limit }], borderColor: '#e5484d',
        backgroundColor: 'transparent', borderWidth: 1, borderDash: [4, 4], fill: false, pointRadius: 0, tension: 0,
      });
    }
    const config: ChartConfiguration<'line', { x: number; y: number }[]> = {
      type: 'line',
      data: { datasets },
      options: {
        ...lineChartBase(),
        scales: {
          x: { ...timeAxis({ maxTicksLimit: 8, callback: (v) => tickLabel(Number(v), span) }, fontSize), min: props.xMin, max: props.xMax },
          y: valueAxis({ display: !!props.yLabel, text: props.yLabel ?? '' }, fontSize),
        },
        plugins: { tooltip: { callbacks: { title: (items) => (items[0] ? formatTime(items[0].parsed.x ?? 0) : '') } } },
      },
    };
    if (!canvas.current) return;
    chart.current?.destroy();
    chart.current = new Chart(canvas.current, config);
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [props.series, props.limit, props.big, props.yLabel, props.xMin, props.xMax]);

  return (
    <div class={`chart ${props.class ?? ''}`}>
      <canvas ref={canvas} />
    </div>
  );
}
