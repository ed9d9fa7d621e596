// ALM-7: alarm statistics by type and by site day, and the CSV exports of alarm records and of
// their journals (ALM-12).
// OPS-5: times are stored as UTC ms; the site timezone decides day boundaries and what is shown.
// Both stream the records (repo.iterate / any iterable) so memory stays flat for any range.
import type { AlarmRecord } from '../contract/alarm.ts';
import { alarmValueUnit } from '../contract/alarm-value.ts';
import {
  alarmLevelLabel, alarmPriorityLabel, alarmRecordStateLabel, alarmTypeLabel, journalEventLabel, type Language,
} from '../contract/alarm-labels.ts';
import { formatSiteTime } from '../contract/site-format.ts';
import { csvDocument } from '../core/csv.ts';
import type { AlarmRepository, JournalEntry } from '../storage/alarms.ts';

export interface AlarmStatsQuery {
  /** UTC ms, inclusive (triggered_at >= from). */
  from: number;
  /** UTC ms, exclusive (triggered_at < to). */
  to: number;
  /** IANA name, e.g. 'Asia/Shanghai'. */
  timezone: string;
}

export interface AlarmDayStats {
  /** The calendar day in the site timezone, YYYY-MM-DD. */
  day: string;
  count: number;
  /** Every type of `byType` is present, 0 when the day had none (stacked charts need no holes). */
  byType: Record<string, number>;
}

export interface AlarmStats {
  /** Types seen in the range, most frequent first (ties by name). */
  byType: { type: string; count: number }[];
  /** Every site day the range touches, ascending, including days without alarms. */
  byDay: AlarmDayStats[];
  /** Records triggered in the range. */
  total: number;
  /** Of those, still active. */
  active: number;
  /** Of those, not acknowledged (active or cleared). */
  unacknowledged: number;
}

type StatsSource = Pick<AlarmRepository, 'iterate'>;

export function alarmStats(repo: StatsSource, { from, to, timezone }: AlarmStatsQuery): AlarmStats {
  const stats: AlarmStats = { byType: [], byDay: [], total: 0, active: 0, unacknowledged: 0 };
  if (!(to > from)) return stats;
  const dayOf = siteDayFormatter(timezone);
  const typeCounts = new Map<string, number>();
  const days = new Map<string, Map<string, number>>();
  for (const alarm of repo.iterate({ from, to })) {
    stats.total++;
    if (alarm.state === 'active') stats.active++;
    if (alarm.ack_at === null) stats.unacknowledged++;
    typeCounts.set(alarm.type, (typeCounts.get(alarm.type) ?? 0) + 1);
    const day = dayOf(alarm.triggered_at);
    let perType = days.get(day);
    if (!perType) days.set(day, (perType = new Map()));
    perType.set(alarm.type, (perType.get(alarm.type) ?? 0) + 1);
  }
  stats.byType = [...typeCounts]
    .map(([type, count]) => ({ type, count }))
    .sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  // A DST fall-back at local midnight can give an instant in range a day outside the
  // [first, last] span of the range's ends, so the span also covers every day seen.
  const seen = [...days.keys()].sort();
  const first = minOf(dayOf(from), seen[0]);
  const last = maxOf(dayOf(to - 1), seen.at(-1));
  for (const day of calendarDays(first, last)) {
    const perType = days.get(day);
    const byType: Record<string, number> = {};
    for (const { type } of stats.byType) byType[type] = perType?.get(type) ?? 0;
    stats.byDay.push({ day, count: perType ? sum(perType.values()) : 0, byType });
  }
  return stats;
}

/** A function giving the site calendar day (YYYY-MM-DD) of a UTC instant; builds the formatter once. */
export function siteDayFormatter(timezone: string): (utcMs: number) => string {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (utcMs) => {
    const parts = format.formatToParts(utcMs);
    const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
    return `${part('year')}-${part('month')}-${part('day')}`;
  };
}

/** YYYY-MM-DD from first to last inclusive; the calendar itself has no timezone. */
function* calendarDays(first: string, last: string): Generator<string> {
  const [y, m, d] = first.split('-').map(Number);
  for (let i = 0; ; i++) {
    const day = new Date(Date.UTC(y, m - 1, d + i)).toISOString().slice(0, 10);
    if (day > last) return;
    yield day;
  }
}

const minOf = (a: string, b: string | undefined) => (b !== undefined && b < a ? b : a);
const maxOf = (a: string, b: string | undefined) => (b !== undefined && b > a ? b : a);
function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

// ---- CSV export ------------------------------------------------------------------------------

export interface AlarmsCsvOptions {
  language: Language;
  /** IANA name; triggered / cleared / acknowledged times are shown in it. */
  timezone: string;
  /** Approximate characters per yielded chunk (default 16 KiB). */
  chunkSize?: number;
  /** A device's gas unit (ppm, % LEL …) for the unit column of concentration values. */
  unitOf?: (sn: string) => string | undefined;
}

const CSV_HEADER: Record<Language, string[]> = {
  'zh-CN': ['编号', '设备序列号', '类型', '状态', '数值', '阈值', '峰值', '详情', '触发时间', '恢复时间', '重复次数', '确认人', '确认时间', '备注', '单位', '级别', '优先级'],
  en: ['ID', 'Device SN', 'Type', 'State', 'Value', 'Threshold', 'Peak', 'Detail', 'Triggered', 'Cleared', 'Repeats', 'Acknowledged by', 'Acknowledged at', 'Comment', 'Unit', 'Level', 'Priority'],
};

/**
 * ALM-7: the CSV of alarm records, in chunks, for a spreadsheet (core/csv.ts: BOM, CRLF, quoting,
 * formulas defused). Feed it `repo.iterate(filter)`; `Readable.from()` turns it into a stream.
 */
export function alarmsCsv(records: Iterable<AlarmRecord>, options: AlarmsCsvOptions): Generator<string> {
  return csvDocument(CSV_HEADER[options.language], records, (record) => csvRow(record, options), { chunkSize: options.chunkSize });
}

/**
 * One record as the fields of its CSV line, in header order; null → ''. Value, threshold and peak
 * stay plain numbers (a spreadsheet sums them); the unit column says what they are in, by type:
 * the device's gas unit, % battery, MB free, an error code, or nothing (OFFLINE, system alarms).
 * Columns added later (unit; level and priority, ALM-9/ALM-10) go last so the ones before keep
 * their places for existing sheets and scripts. Labels: contract/alarm-labels.ts.
 */
export function csvRow(r: AlarmRecord, { language, timezone, unitOf }: Pick<AlarmsCsvOptions, 'language' | 'timezone' | 'unitOf'>): string[] {
  const time = (ms: number | null) => (ms === null ? '' : formatSiteTime(ms, timezone));
  const num = (n: number | null) => (n === null ? '' : String(n));
  return [
    String(r.id),
    r.sn ?? r.source, // a system alarm's part, e.g. disk or channel:email
    alarmTypeLabel(r.type, language),
    alarmRecordStateLabel(r.state, language),
    num(r.value),
    num(r.threshold),
    num(r.peak),
    r.detail ?? '',
    time(r.triggered_at),
    time(r.cleared_at),
    String(r.repeat_count),
    r.ack_by ?? '',
    time(r.ack_at),
    r.ack_comment ?? '',
    r.value === null && r.threshold === null && r.peak === null ? '' : alarmValueUnit(r, { language, unit: (r.sn && unitOf?.(r.sn)) || '' }),
    alarmLevelLabel(r.level, language),
    alarmPriorityLabel(r.priority, language),
  ];
}

// ---- the journal as CSV (ALM-12) --------------------------------------------------------------

/** One journal event with the record it belongs to. */
export interface JournalCsvRow {
  alarm: AlarmRecord;
  entry: Pick<JournalEntry, 'at' | 'kind' | 'level' | 'value' | 'actor' | 'detail'>;
}

/** What a spreadsheet reader knows a detector by; none for a system alarm or a deleted device. */
export interface DeviceFacts {
  name: string;
  location: string;
  unit: string;
}

export interface JournalCsvOptions extends Pick<AlarmsCsvOptions, 'language' | 'timezone' | 'chunkSize'> {
  deviceOf?: (sn: string) => DeviceFacts | undefined;
}

const JOURNAL_CSV_HEADER: Record<Language, string[]> = {
  'zh-CN': ['报警编号', '设备序列号', '设备名称', '位置', '类型', '优先级', '时间', '事件', '级别', '数值', '单位', '操作人/渠道', '详情'],
  en: ['Alarm ID', 'Device SN', 'Device name', 'Location', 'Type', 'Priority', 'Time', 'Event', 'Level', 'Value', 'Unit', 'By / channel', 'Detail'],
};

/** Each record's events, oldest first, record by record (the records in the order given). */
export function* journalRows(records: Iterable<AlarmRecord>, journalOf: (alarmId: number) => Iterable<JournalCsvRow['entry']>): Generator<JournalCsvRow> {
  for (const alarm of records) for (const entry of journalOf(alarm.id)) yield { alarm, entry };
}

/**
 * ALM-12: the journal as a spreadsheet, one line per event with the alarm's device (serial, name,
 * location), type and priority; the level is the event's own (a level change says which level it
 * went to), times in the site timezone, labels from contract/alarm-labels.ts. The priority is the
 * record's as it is now (the journal does not keep one per event).
 */
export function journalCsv(rows: Iterable<JournalCsvRow>, options: JournalCsvOptions): Generator<string> {
  const { language, timezone, deviceOf } = options;
  return csvDocument(JOURNAL_CSV_HEADER[language], rows, ({ alarm, entry }) => {
    const device = alarm.sn ? deviceOf?.(alarm.sn) : undefined;
    return [
      alarm.id,
      alarm.sn ?? alarm.source,
      device?.name ?? '',
      device?.location ?? '',
      alarmTypeLabel(alarm.type, language),
      alarmPriorityLabel(alarm.priority, language),
      formatSiteTime(entry.at, timezone),
      journalEventLabel(entry.kind, language),
      alarmLevelLabel(entry.level, language),
      entry.value,
      entry.value === null ? '' : alarmValueUnit(alarm, { language, unit: device?.unit ?? '' }),
      entry.actor,
      entry.detail,
    ];
  }, { chunkSize: options.chunkSize });
}
