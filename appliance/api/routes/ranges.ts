// Time ranges of data queries (API-1 history and exports), checked before any query runs.
import { AppError } from '../../core/errors.ts';
import { csvDocument, DATA } from '../../core/csv.ts';
import { formatSiteTime } from '../../contract/site-format.ts';
import { parseTime } from '../../contract/api.ts';
import { HISTORY_INTERVALS, RAW_HISTORY_MAX_MS, type HistoryInterval, type HistoryPoint, type LatestReading } from '../../storage/readings.ts';

/** A chart never needs more points than this; ask for a coarser interval (UI-4). */
export const MAX_HISTORY_POINTS = 20_000;

/** A time query parameter as UTC ms (undefined stays undefined); 400 naming the parameter when unreadable. */
export function timeParam(text: string, name: string): number;
export function timeParam(text: string | undefined, name: string): number | undefined;
export function timeParam(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseTime(text);
  if (!Number.isFinite(ms)) throw new AppError('REQUEST_INVALID', { [name]: text }, `${name}: not an ISO 8601 time or epoch ms`);
  return ms;
}

export function timeRange(query: { start: string; end?: string }, now: number, rawOnly = false): { from: number; to: number } {
  const from = timeParam(query.start, 'start');
  const to = timeParam(query.end, 'end') ?? now;
  if (to <= from) throw new AppError('REQUEST_INVALID', { start: query.start, end: query.end }, 'end must be after start');
  if (rawOnly && to - from > RAW_HISTORY_MAX_MS) {
    throw new AppError('REQUEST_INVALID', { max_days: RAW_HISTORY_MAX_MS / 86_400_000 }, 'raw readings are served for at most 7 days per request');
  }
  return { from, to };
}

/** The interval asked for, or one that gives a few thousand points for the range. */
export function historyRange(query: { start: string; end?: string; interval?: string }, now: number) {
  const { from, to } = timeRange(query, now);
  const span = to - from;
  const interval = (query.interval as HistoryInterval | undefined)
    ?? (span <= 6 * 3_600_000 ? '10s' : span <= 3 * 86_400_000 ? '1m' : span <= 21 * 86_400_000 ? '5m' : '1h');
  if (interval === '10s' && span > RAW_HISTORY_MAX_MS) {
    throw new AppError('REQUEST_INVALID', { interval, max_days: 7 }, '10s buckets read raw readings: at most 7 days; use 1m, 5m or 1h');
  }
  if (span / HISTORY_INTERVALS[interval] > MAX_HISTORY_POINTS) {
    throw new AppError('REQUEST_INVALID', { interval, max_points: MAX_HISTORY_POINTS }, `more than ${MAX_HISTORY_POINTS} points: choose a coarser interval`);
  }
  return { from, to, interval };
}

/** The seed's archive columns (§5.3), so an export and an archive read the same way. */
export const READINGS_CSV_COLUMNS = ['time', 'sn', 'v_raw', 'ppm', 'temp', 'humi', 'bat', 'rssi', 'seq'] as const;

/**
 * API-1 raw readings as CSV, in core/csv.ts's DATA dialect like the archive (no BOM, LF), in
 * chunks of about 16 KiB made as the pages of readings are read.
 */
export function* readingsCsv(pages: Iterable<LatestReading[]>): Generator<string> {
  const rows = (function* () {
    for (const page of pages) yield* page;
  })();
  yield* csvDocument(READINGS_CSV_COLUMNS, rows, (r) => [new Date(r.ts).toISOString(), r.sn, r.v_raw, r.ppm, r.temp, r.humi, r.bat, r.rssi, r.seq], { dialect: DATA });
}

/** UI-3 data query: the columns of the CSV of what a chart shows. */
export const HISTORY_CSV_COLUMNS = ['time', 'time_utc', 'sn', 'name', 'unit', 'interval', 'avg', 'min', 'max', 'count'] as const;

export interface HistoryCsvDevice {
  sn: string;
  name: string;
  unit: string;
  points: HistoryPoint[];
}

/**
 * UI-3: the buckets a data-query chart shows, one line per device and bucket (devices in the
 * order asked, each oldest first), for a spreadsheet (core/csv.ts SPREADSHEET: BOM, CRLF, quoting
 * and the formula guard, which a device name typed by a person needs). `time` is the bucket start
 * on the site's 24-hour clock with its offset (OPS-5), `time_utc` the same instant in ISO 8601.
 */
export function* historyCsv(devices: readonly HistoryCsvDevice[], interval: HistoryInterval, timezone: string): Generator<string> {
  const rows = (function* () {
    for (const device of devices) for (const point of device.points) yield { device, point };
  })();
  yield* csvDocument(HISTORY_CSV_COLUMNS, rows, ({ device, point }) => [
    formatSiteTime(point.ts, timezone), new Date(point.ts).toISOString(), device.sn, device.name, device.unit, interval, point.avg, point.min, point.max, point.count,
  ]);
}
