// UI-3 data query chart: several devices on one time axis, zoom and pan (chartjs-plugin-zoom:
// drag a span to zoom to it, shift-drag or a finger to pan, the wheel or a pinch to zoom), the
// alarm episodes of the shown devices as shaded spans behind the lines, each device's setpoints
// as dashed lines in its colour, and a time axis on the site's 24-hour clock (OPS-5). The chart
// is made once and updated in place, so a zoom keeps its place while the page fetches the
// buckets for the new span (the server buckets, UI-4); the page owns the view.
import { Chart, Filler, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration, type Plugin } from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';
import { useEffect, useRef } from 'preact/hooks';
import { formatNumber, formatTime } from '../i18n/i18n.ts';
import { MIN_VIEW_MS } from '../lib/zoom-interval.ts';
import { lineChartBase, timeAxis, valueAxis } from './line-options.ts';
import { siteClock, tickStep, tickText, timeTicks, type SiteClock } from './time-axis.ts';

// No legend: the page names each device beside its colour (the chips and the summary table).
Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip, zoomPlugin);

export interface DeviceSeries {
  sn: string;
  label: string;
  color: string;
  points: { x: number; y: number }[];
}

export type SetpointKind = 'high_limit' | 'high2_limit' | 'low_limit';

export interface Setpoint {
  sn: string;
  kind: SetpointKind;
  value: number;
  color: string;
  label: string;
}

/** An alarm episode of a shown device: triggered → cleared (or now while active). */
export interface AlarmSpan {
  id: number;
  sn: string;
  type: string;
  level: number | null;
  from: number;
  to: number;
  active: boolean;
}

export interface View {
  from: number;
  to: number;
}

/** What the chart holds and last drew, for people reading the DOM and for the browser tests. */
export interface QueryChartState {
  x: View;
  /** The plot area in CSS pixels of the canvas (where a drag selects a span). */
  area: { left: number; right: number; top: number; bottom: number };
  series: { sn: string; label: string; points: number }[];
  setpoints: { sn: string; kind: SetpointKind; value: number; dashed: boolean }[];
  spans: { id: number; sn: string; type: string; from: number; to: number; left: number; right: number }[];
}

/** Level-2 gas alarms red, level 1 orange, the rest (offline, fault, battery) grey. */
export const spanColor = (span: AlarmSpan) => (span.level === 2 ? '#e5484d' : span.level === 1 ? '#f0883e' : '#8b949e');

/** The dash of each setpoint: high2 long, high short, low dotted. */
const DASH: Record<SetpointKind, number[]> = { high2_limit: [10, 4], high_limit: [5, 4], low_limit: [2, 4] };

interface SpansOptions {
  spans: AlarmSpan[];
  colorOf: (sn: string) => string;
  drawn: QueryChartState['spans'];
}

/**
 * Paints the alarm spans under the lines: a tint for the episode and a stripe in the device's
 * colour on top. The spans live in `source`, not in the chart's options: chart.js resolves option
 * objects through proxies with fallbacks, which is wrong for plain data (a span's from/to).
 */
function alarmSpansPlugin(source: SpansOptions): Plugin<'line'> {
  return {
    id: 'alarmSpans',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea: area } = chart;
      const x = chart.scales.x;
      source.drawn.length = 0;
      ctx.save();
      for (const span of source.spans) {
        if (span.to < x.min || span.from > x.max) continue;
        const left = Math.max(area.left, x.getPixelForValue(Math.max(span.from, x.min)));
        const right = Math.min(area.right, x.getPixelForValue(Math.min(span.to, x.max)));
        const width = Math.max(2, right - left); // a short episode on a long span still shows
        const start = Math.min(left, area.right - width);
        ctx.fillStyle = `${spanColor(span)}33`;
        ctx.fillRect(start, area.top, width, area.bottom - area.top);
        ctx.fillStyle = source.colorOf(span.sn);
        ctx.fillRect(start, area.top, width, 4);
        source.drawn.push({ id: span.id, sn: span.sn, type: span.type, from: span.from, to: span.to, left: Math.floor(start), right: Math.floor(start + width) });
      }
      ctx.restore();
    },
  };
}

type LineData = { x: number; y: number }[];

function datasetsOf(series: DeviceSeries[], setpoints: Setpoint[], view: View) {
  return [
    ...series.map((s) => ({
      label: s.label, sn: s.sn, role: 'series', data: s.points, borderColor: s.color, backgroundColor: `${s.color}33`,
      borderWidth: 2, borderDash: [] as number[], fill: false, pointRadius: s.points.length < 80 ? 2 : 0, tension: 0,
    })),
    // A setpoint spans the whole view, drawn as a two-point line so it pans and zooms with the data.
    ...setpoints.map((p) => ({
      label: p.label, sn: p.sn, role: p.kind, data: [{ x: view.from, y: p.value }, { x: view.to, y: p.value }], borderColor: p.color, backgroundColor: 'transparent',
      borderWidth: p.kind === 'high2_limit' ? 2 : 1, borderDash: DASH[p.kind], fill: false, pointRadius: 0, tension: 0,
    })),
  ];
}

export function QueryChart(props: {
  series: DeviceSeries[];
  setpoints: Setpoint[];
  spans: AlarmSpan[];
  view: View;
  timezone: string | null;
  yLabel: string;
  /** The span a zoom or pan ended on. */
  onView: (view: View) => void;
  class?: string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'line', LineData> | null>(null);
  const clock = useRef<SiteClock>(siteClock(props.timezone));
  const spans = useRef<SpansOptions>({ spans: [], colorOf: () => '#8b949e', drawn: [] });
  const onView = useRef(props.onView);
  onView.current = props.onView;

  useEffect(() => {
    if (!canvas.current) return;
    const ended = ({ chart: c }: { chart: Chart }) => onView.current({ from: Math.round(c.scales.x.min), to: Math.round(c.scales.x.max) });
    const config: ChartConfiguration<'line', LineData> = {
      type: 'line',
      data: { datasets: [] },
      options: {
        ...lineChartBase(),
        scales: {
          x: {
            ...timeAxis({
              maxRotation: 0, autoSkip: false,
              callback: function (value) {
                const span = this.max - this.min;
                return tickText(Number(value), span, tickStep(span), clock.current);
              },
            }),
            afterBuildTicks: (scale) => {
              scale.ticks = timeTicks(scale.min, scale.max, clock.current).map((value) => ({ value }));
            },
          },
          // The title is the unit, set with the data below; its line is kept even while empty.
          y: valueAxis({ display: true, text: '' }),
        },
        plugins: {
          tooltip: {
            filter: (item) => (item.dataset as { role?: string }).role === 'series',
            callbacks: {
              title: (items) => (items[0] ? formatTime(items[0].parsed.x ?? 0) : ''),
              label: (item) => `${item.dataset.label}: ${formatNumber(item.parsed.y, 2)}`,
            },
          },
          zoom: {
            limits: { x: { minRange: MIN_VIEW_MS } },
            zoom: { mode: 'x', drag: { enabled: true, backgroundColor: '#58a6ff33', borderColor: '#58a6ff', borderWidth: 1 }, wheel: { enabled: true }, pinch: { enabled: true }, onZoomComplete: ended },
            pan: { enabled: true, mode: 'x', modifierKey: 'shift', onPanComplete: ended },
          },
        },
      },
      plugins: [alarmSpansPlugin(spans.current)],
    };
    const made = new Chart(canvas.current, config);
    chart.current = made;
    // A test hook and a debugging aid: what is plotted and which alarm spans were painted where.
    (canvas.current as HTMLCanvasElement & { queryChart?: () => QueryChartState }).queryChart = () => ({
      x: { from: made.scales.x.min, to: made.scales.x.max },
      area: { left: made.chartArea.left, right: made.chartArea.right, top: made.chartArea.top, bottom: made.chartArea.bottom },
      series: made.data.datasets.filter((d) => (d as { role?: string }).role === 'series').map((d) => ({ sn: (d as { sn?: string }).sn!, label: d.label ?? '', points: d.data.length })),
      setpoints: made.data.datasets.filter((d) => (d as { role?: string }).role !== 'series').map((d) => ({
        sn: (d as { sn?: string }).sn!, kind: (d as { role?: string }).role as SetpointKind, value: d.data[0]?.y ?? NaN, dashed: ((d as { borderDash?: number[] }).borderDash ?? []).length > 0,
      })),
      spans: [...spans.current.drawn],
    });
    return () => {
      made.destroy();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const made = chart.current;
    if (!made) return;
    clock.current = siteClock(props.timezone);
    const colors = new Map(props.series.map((s) => [s.sn, s.color]));
    spans.current.spans = props.spans;
    spans.current.colorOf = (sn) => colors.get(sn) ?? '#8b949e';
    made.data.datasets = datasetsOf(props.series, props.setpoints, props.view);
    const x = made.options.scales!.x!;
    x.min = props.view.from;
    x.max = props.view.to;
    const y = made.options.scales!.y as { title: { text: string } };
    y.title.text = props.yLabel;
    made.update('none');
  }, [props.series, props.setpoints, props.spans, props.view.from, props.view.to, props.timezone, props.yLabel]);

  return (
    <div class={`chart ${props.class ?? ''}`}>
      <canvas ref={canvas} data-chart="query" />
    </div>
  );
}
