// What the two trend charts (LineChart: the UI-2 kiosk trend; QueryChart: the UI-3 data query)
// set the same way, so they look and behave alike: the chart.js base options and the colours of
// their axes on the dark panels. Each chart keeps its own parts (tick labels, zoom, limit lines,
// tooltips). The helpers return fresh objects: chart.js keeps the options it is given
// and QueryChart edits its own afterwards (the y title, the x range).
import type { ChartOptions, ScaleOptions } from 'chart.js';

type LinearAxis = ScaleOptions<'linear'>;
type LinearTicks = NonNullable<LinearAxis['ticks']>;

/** Tick labels and axis titles: a light grey that reads on the dark panels. */
const AXIS_TEXT = '#9aa4b2';
/** Grid lines: white at 8 % opacity, so they stay behind the data. */
const GRID_LINE = '#ffffff14';

/**
 * The options both line charts start from. No animation: a redraw shows the new data at once.
 * The chart fills the box the page gives it. The points arrive as {x, y} already bucketed and
 * sorted by the server (UI-4), so chart.js neither parses nor sorts them. Hovering picks the points
 * nearest in time, on every line at once.
 */
export function lineChartBase() {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    normalized: true,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
  } satisfies ChartOptions<'line'>;
}

/** Tick labels in the axis grey, at `fontSize` px or chart.js's default (12 px) without one. */
function tickStyle(fontSize?: number): LinearTicks {
  return fontSize === undefined ? { color: AXIS_TEXT } : { color: AXIS_TEXT, font: { size: fontSize } };
}

/** The time axis (x): linear in epoch ms; the chart gives its own tick labels and spacing in `ticks`. */
export function timeAxis(ticks: LinearTicks, fontSize?: number): LinearAxis {
  return { type: 'linear', ticks: { ...tickStyle(fontSize), ...ticks }, grid: { color: GRID_LINE } };
}

/** The value axis (y): from zero up (a gas concentration), titled with the unit when `title.display`. */
export function valueAxis(title: { display: boolean; text: string }, fontSize?: number): LinearAxis {
  return { type: 'linear', beginAtZero: true, title: { ...title, color: AXIS_TEXT }, ticks: tickStyle(fontSize), grid: { color: GRID_LINE } };
}
