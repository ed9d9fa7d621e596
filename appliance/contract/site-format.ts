// How alarms read to people, shared by the notifications, the exports and the UI: the labels in
// both site languages (one source: alarm-labels.ts, re-exported here for the modules that read
// them with the times) and site-local times (OPS-5: stored UTC).
export { ALARM_TYPE_LABELS, alarmTypeLabel, type Labels, type Language } from './alarm-labels.ts';

/** `2026-01-01 08:00:00 UTC+8`: the same shape in both languages, so it reads unambiguously. */
export function formatSiteTime(utcMs: number, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'shortOffset',
  }).formatToParts(utcMs);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  // ICU spells the offset 'GMT+8', and UTC itself 'GMT' or 'GMT+0' depending on its version.
  const offset = part('timeZoneName').replace(/^GMT/, 'UTC').replace(/^UTC[+-]0?0?(:00)?$/, 'UTC');
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')} ${offset}`;
}
