// How alarms read to people, shared by the notifications, the exports and (later) the UI:
// the alarm type labels in both site languages and site-local times (OPS-5: stored UTC).
export type Language = 'zh-CN' | 'en';
export type Labels = Record<Language, string>;

// ALM-1: device alarm types, then the system ones.
export const ALARM_TYPE_LABELS: Record<string, Labels> = {
  HIGH: { 'zh-CN': '浓度高报', en: 'High gas concentration' },
  LOW: { 'zh-CN': '浓度低报', en: 'Low gas concentration' },
  OFFLINE: { 'zh-CN': '设备离线', en: 'Device offline' },
  LOW_BAT: { 'zh-CN': '电池电量低', en: 'Low battery' },
  FAULT: { 'zh-CN': '设备故障', en: 'Device fault' },
  DISK: { 'zh-CN': '磁盘空间不足', en: 'Disk space low' },
  ARCHIVE: { 'zh-CN': '数据归档失败', en: 'Archive failed' },
  LICENSE: { 'zh-CN': '授权即将失效', en: 'License grace ending' },
  CHANNEL: { 'zh-CN': '通知渠道故障', en: 'Notification channel failing' },
};

export function alarmTypeLabel(type: string, language: Language): string {
  return ALARM_TYPE_LABELS[type]?.[language] ?? type;
}

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
