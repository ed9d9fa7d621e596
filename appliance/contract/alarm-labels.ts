// Issue 14.10: how alarms are named to people, in both site languages, in one place. The UI's
// dictionaries (ui/src/i18n/alarm-texts.ts), the notifications (notify/message.ts), the CSV exports
// (api/alarm-queries.ts) and so the API's downloads all read these tables, so a
// gas alarm is called the same on the kiosk, in the e-mail and in the spreadsheet.
//
// Pure data and lookups with type-only imports: the UI bundle imports it as a value (no TypeBox,
// no Node). Chinese terms follow the standards the plants work to:
// - GB/T 50493-2019: a rising gas alarm has two levels, 一级报警 (first) and 二级报警 (second);
// - GB 16808 (可燃气体报警控制器): a fault alarm (故障) is kept apart from a gas alarm, the
//   controller's silence is 消音 and its manual reset 复位;
// - ISA-18.2 / IEC 62682 for the states of an alarm for people (unacknowledged, acknowledged,
//   returned to normal and not yet acknowledged) and for the priorities.
import type { AlarmIsaState, AlarmPriority, AlarmRecord } from './alarm.ts';

export type Language = 'zh-CN' | 'en';
export type Labels = Record<Language, string>;
export const LANGUAGES: readonly Language[] = ['zh-CN', 'en'];

/**
 * ALM-1: the device alarm types, then the system ones. HIGH is the rising gas alarm (its level
 * names it more precisely, see alarmLabel); LOW the falling one (低报: e.g. oxygen deficiency).
 */
export const ALARM_TYPE_LABELS = {
  HIGH: { 'zh-CN': '浓度高报', en: 'High gas concentration' },
  LOW: { 'zh-CN': '浓度低报', en: 'Low gas concentration' },
  OFFLINE: { 'zh-CN': '设备离线', en: 'Device offline' },
  LOW_BAT: { 'zh-CN': '电池电量低', en: 'Low battery' },
  FAULT: { 'zh-CN': '设备故障', en: 'Device fault' },
  DISK: { 'zh-CN': '磁盘空间不足', en: 'Disk space low' },
  ARCHIVE: { 'zh-CN': '数据归档失败', en: 'Archive failed' },
  LICENSE: { 'zh-CN': '授权即将失效', en: 'License grace ending' },
  CHANNEL: { 'zh-CN': '通知渠道故障', en: 'Notification channel failing' },
  // Issue 17.7: a cloud target's oldest unacknowledged record is older than its lag threshold.
  SYNC: { 'zh-CN': '云端同步滞后', en: 'Cloud sync lagging' },
  // Issue 15.2 (JJG 693-2011 周期检定): jobs raise these for a detector, no reading does.
  CAL_DUE: { 'zh-CN': '校准即将到期', en: 'Calibration due soon' },
  CAL_OVERDUE: { 'zh-CN': '校准已过期', en: 'Calibration overdue' },
  BUMP_DUE: { 'zh-CN': '气体测试已过期', en: 'Bump test overdue' },
  // Issue 15.3 (GBZ 2.1-2019): a job's rolling averages over PC-STEL (15 min) / PC-TWA (8 h).
  EXPOSURE_STEL: { 'zh-CN': '短时间接触浓度超限 (PC-STEL)', en: 'Short-term exposure over PC-STEL' },
  EXPOSURE_TWA: { 'zh-CN': '时间加权平均浓度超限 (PC-TWA)', en: 'Time-weighted exposure over PC-TWA' },
} as const satisfies Record<string, Labels>;
export type AlarmType = keyof typeof ALARM_TYPE_LABELS;
export const ALARM_TYPES = Object.keys(ALARM_TYPE_LABELS) as AlarmType[];

/** ALM-9 (GB/T 50493-2019): the levels of a rising gas alarm. */
export const ALARM_LEVEL_LABELS = {
  1: { 'zh-CN': '一级', en: 'Level 1' },
  2: { 'zh-CN': '二级', en: 'Level 2' },
} as const satisfies Record<number, Labels>;
export type AlarmLevel = keyof typeof ALARM_LEVEL_LABELS;
export const ALARM_LEVELS = [1, 2] as const satisfies readonly AlarmLevel[];

/** A gas alarm at its level, as GB/T 50493-2019 names it: 一级报警 / 二级报警. */
export const GAS_LEVEL_ALARM_LABELS = {
  1: { 'zh-CN': '一级报警', en: 'Gas alarm level 1' },
  2: { 'zh-CN': '二级报警', en: 'Gas alarm level 2' },
} as const satisfies Record<AlarmLevel, Labels>;

/** ALM-10: most urgent first (lower case in English: they are read inside sentences too). */
export const ALARM_PRIORITY_LABELS = {
  critical: { 'zh-CN': '紧急', en: 'critical' },
  high: { 'zh-CN': '高', en: 'high' },
  medium: { 'zh-CN': '中', en: 'medium' },
  low: { 'zh-CN': '低', en: 'low' },
} as const satisfies Record<AlarmPriority, Labels>;

/** ALM-11 (ISA-18.2): the state of an alarm for people; gas alarms latch until acknowledged. */
export const ALARM_ISA_STATE_LABELS = {
  active_unacknowledged: { 'zh-CN': '报警中 · 未确认', en: 'active, unacknowledged' },
  active_acknowledged: { 'zh-CN': '报警中 · 已确认', en: 'active, acknowledged' },
  returned_unacknowledged: { 'zh-CN': '已恢复正常 · 未确认', en: 'returned to normal, unacknowledged' },
  normal: { 'zh-CN': '正常', en: 'normal' },
} as const satisfies Record<AlarmIsaState, Labels>;

/** Whether the record's condition holds (ALM-2). */
export const ALARM_RECORD_STATE_LABELS = {
  active: { 'zh-CN': '报警中', en: 'active' },
  cleared: { 'zh-CN': '已恢复', en: 'cleared' },
} as const satisfies Record<AlarmRecord['state'], Labels>;

/** ALM-12: the events of an episode's journal (GB 16808 消音 and 复位 among them). */
export const JOURNAL_EVENT_LABELS = {
  raised: { 'zh-CN': '报警', en: 'Raised' },
  repeat: { 'zh-CN': '防抖时间内再次报警', en: 'Came back within the debounce' },
  level: { 'zh-CN': '级别变化', en: 'Level changed' },
  peak: { 'zh-CN': '新峰值', en: 'New peak' },
  cleared: { 'zh-CN': '条件消除', en: 'Condition cleared' },
  acknowledged: { 'zh-CN': '确认', en: 'Acknowledged' },
  notification: { 'zh-CN': '通知', en: 'Notification' },
  silenced: { 'zh-CN': '消音', en: 'Sound silenced' },
  escalated: { 'zh-CN': '升级通知', en: 'Escalated' },
  reset: { 'zh-CN': '复位', en: 'Reset' },
  // Issue 15.1 (屏蔽, ISA-18.2 shelving) and 15.5 (GB 16808 联动 control outputs).
  masked: { 'zh-CN': '已屏蔽', en: 'Masked' },
  unmasked: { 'zh-CN': '解除屏蔽', en: 'Unmasked' },
  linkage: { 'zh-CN': '联动', en: 'Linkage action' },
} as const satisfies Record<string, Labels>;

/** Issue 15.1: the state of a masked detector (屏蔽) on lists, markers and the device page. */
export const MASKED_STATE_LABEL = { 'zh-CN': '已屏蔽', en: 'MASKED' } as const satisfies Labels;
export type JournalEventKind = keyof typeof JOURNAL_EVENT_LABELS;

// (hasOwnProperty, not Object.hasOwn: the kiosk's browsers include Safari 15.0.)
const lookup = (table: Record<string, Labels>, key: string | number, language: Language): string | undefined =>
  Object.prototype.hasOwnProperty.call(table, key) ? table[key][language] : undefined;

/** The type's label; an unknown type reads as its code (never an empty cell). */
export const alarmTypeLabel = (type: string, language: Language): string => lookup(ALARM_TYPE_LABELS, type, language) ?? type;

/** 一级 / level 1; '' without a level (only HIGH records have one). */
export const alarmLevelLabel = (level: number | null | undefined, language: Language): string =>
  (level === null || level === undefined ? undefined : lookup(ALARM_LEVEL_LABELS, level, language)) ?? '';

/** 紧急 / critical …; an unknown priority reads as it is. */
export const alarmPriorityLabel = (priority: string, language: Language): string => lookup(ALARM_PRIORITY_LABELS, priority, language) ?? priority;

export const alarmIsaStateLabel = (state: string, language: Language): string => lookup(ALARM_ISA_STATE_LABELS, state, language) ?? state;

export const alarmRecordStateLabel = (state: string, language: Language): string => lookup(ALARM_RECORD_STATE_LABELS, state, language) ?? state;

export const journalEventLabel = (kind: string, language: Language): string => lookup(JOURNAL_EVENT_LABELS, kind, language) ?? kind;

/**
 * The alarm as people name it, with its level where it has one: a HIGH record at level 2 is
 * 二级报警 / "Gas alarm level 2"; every other record is its type's label.
 */
export function alarmLabel(type: string, level: number | null | undefined, language: Language): string {
  if (type === 'HIGH' && level !== null && level !== undefined) {
    const gas = lookup(GAS_LEVEL_ALARM_LABELS, level, language);
    if (gas) return gas;
  }
  return alarmTypeLabel(type, language);
}
