// UI-4 / STO-5: which server-side bucket interval a data-query chart asks for, from the span it
// shows. A few hundred points per device whatever the zoom: 1 h at 10 s is 360 points, 6 h at
// 1 min 360, 2 days at 5 min 576, 7 days at 1 h 168 (30 days 720). The server does the
// bucketing; the browser never receives raw rows of a long range. '10s' is the finest the server
// offers (it reads raw readings, allowed up to 7 days), so it is also what "raw" means here.

export type QueryInterval = '10s' | '1m' | '5m' | '1h';

export const INTERVAL_MS: Record<QueryInterval, number> = { '10s': 10_000, '1m': 60_000, '5m': 300_000, '1h': 3_600_000 };

const HOUR = 3_600_000;
/** The widest span each interval serves, finest first; beyond the last, '1h'. */
export const INTERVAL_SPANS: readonly { interval: QueryInterval; maxSpanMs: number }[] = [
  { interval: '10s', maxSpanMs: HOUR },
  { interval: '1m', maxSpanMs: 6 * HOUR },
  { interval: '5m', maxSpanMs: 48 * HOUR },
];

/** The interval for a visible span in ms (≤ 1 h → 10s, ≤ 6 h → 1m, ≤ 2 d → 5m, else 1h). */
export function intervalForSpan(spanMs: number): QueryInterval {
  if (!Number.isFinite(spanMs) || spanMs < 0) throw new RangeError(`not a time span: ${spanMs}`);
  return INTERVAL_SPANS.find((s) => spanMs <= s.maxSpanMs)?.interval ?? '1h';
}

/** The narrowest span the chart zooms to: a minute (six 10 s buckets). */
export const MIN_VIEW_MS = 60_000;

/**
 * A view [from, to] kept sane: at least MIN_VIEW_MS wide (widened about its centre) and never
 * reaching past `now` (shifted back), so a zoom or pan asks the server only for what can exist.
 */
export function clampView(view: { from: number; to: number }, now: number): { from: number; to: number } {
  let { from, to } = view;
  if (to - from < MIN_VIEW_MS) {
    const mid = (from + to) / 2;
    from = mid - MIN_VIEW_MS / 2;
    to = mid + MIN_VIEW_MS / 2;
  }
  if (to > now) {
    from -= to - now;
    to = now;
  }
  return { from: Math.round(from), to: Math.round(to) };
}
