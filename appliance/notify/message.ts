// ALM-5: one rendering of an alarm for every channel — a title (e-mail subject, card header),
// plain text (e-mail body, SMS-like channels) and markdown (DingTalk, WeCom, Feishu) — in the
// site language, with times in the site timezone (OPS-5: stored UTC, shown local).

import { alarmLimitText, alarmValueText, formatValue, type AlarmValueOptions, type AlarmValueSubject } from '../contract/alarm-value.ts';
import { ALARM_TYPE_LABELS, alarmTypeLabel, formatSiteTime, type Labels, type Language } from '../contract/site-format.ts';
import { alarmLabel, alarmPriorityLabel } from '../contract/alarm-labels.ts';

export { ALARM_TYPE_LABELS, alarmTypeLabel, formatSiteTime, formatValue, type Language };

/** What a channel is asked to deliver about one alarm event. */
export interface AlarmNotice {
  alarmId: number;
  event: 'raised' | 'cleared' | 'test';
  /** HIGH LOW OFFLINE LOW_BAT FAULT | DISK ARCHIVE LICENSE CHANNEL (others are shown as they are). */
  type: string;
  /** null for a system alarm. */
  sn: string | null;
  deviceName: string;
  location: string;
  /** In the alarm type's own terms (contract/alarm-value.ts): gas in `unit`, battery %, error code, free MB. */
  value: number | null;
  limit: number | null;
  /** The device's gas unit; used only for gas values. */
  unit: string;
  /** UTC ms. */
  at: number;
  detail?: string;
  /** The system part of a system alarm (disk, disk:pruned …); without it, the name of a device-less notice. */
  source?: string;
  /** ALM-9: the gas alarm's level (1 一级, 2 二级) when the notice was made. */
  level?: number | null;
  /** ALM-10: critical high medium low; the title says it first. */
  priority?: string;
  /** The device's gas, e.g. CH4 (the voice message says it). */
  gas?: string;
  /** ALM-13: the escalation step (1, 2) of a notice to the escalation recipients; absent otherwise. */
  escalation?: number;
  /** Issue 15.4: an OFFLINE storm's grouped notice (or its returns', event 'cleared') lists every detector it covers, the first first. */
  group?: OfflineDetector[];
}

/** Issue 15.4: one detector of a grouped OFFLINE notice. */
export interface OfflineDetector {
  sn: string;
  deviceName: string;
  location: string;
  /** UTC ms, when its OFFLINE alarm was raised (cleared, in a grouped notice of returns). */
  at: number;
}

/** The type as people read it, with the gas level where there is one: "二级报警", "Gas alarm level 2" (contract/alarm-labels.ts). */
function typeText(alarm: AlarmNotice, language: Language): string {
  return alarmLabel(alarm.type, alarm.level, language);
}

/** ALM-10: "[紧急] " / "[critical] " before the alarm in a title; '' for a notice without a priority. */
function priorityTag(alarm: AlarmNotice, language: Language): string {
  return alarm.priority ? `[${alarmPriorityLabel(alarm.priority, language)}] ` : '';
}


export interface RenderOptions {
  language: Language;
  /** IANA name, e.g. 'Asia/Shanghai'. */
  timezone: string;
}

export interface RenderedMessage {
  title: string;
  text: string;
  markdown: string;
  /** The same facts one by one, formatted and localized (SMS template variables). */
  facts: AlarmFacts;
}

/** Each fact as shown; '' when the alarm has none (a system alarm has no location). */
export interface AlarmFacts {
  device: string;
  sn: string;
  location: string;
  type: string;
  state: string;
  value: string;
  limit: string;
  time: string;
  /** The device's gas ('' for a system alarm). */
  gas: string;
  /** The alarm with its gas level as people say it, e.g. 二级报警 (the same as `type`). */
  level: string;
  /** ALM-13: "ESCALATION step 1" / "报警升级 第1级"; '' for an ordinary notice. */
  escalation: string;
}


const UNACKNOWLEDGED: Labels = { 'zh-CN': '无人确认', en: 'not acknowledged' };

const EVENT_TAGS: Record<AlarmNotice['event'], Labels> = {
  raised: { 'zh-CN': '报警', en: 'ALARM' },
  cleared: { 'zh-CN': '恢复', en: 'CLEARED' },
  test: { 'zh-CN': '测试', en: 'TEST' },
};

const STATES: Record<AlarmNotice['event'], Labels> = {
  raised: { 'zh-CN': '报警中', en: 'raised' },
  cleared: { 'zh-CN': '已恢复', en: 'cleared' },
  test: { 'zh-CN': '测试消息，无需处理', en: 'test message, no action needed' },
};

const FIELDS = {
  device: { 'zh-CN': '设备', en: 'Device' },
  location: { 'zh-CN': '位置', en: 'Location' },
  type: { 'zh-CN': '类型', en: 'Type' },
  state: { 'zh-CN': '状态', en: 'State' },
  value: { 'zh-CN': '数值', en: 'Value' },
  limit: { 'zh-CN': '阈值', en: 'Limit' },
  time: { 'zh-CN': '时间', en: 'Time' },
  detail: { 'zh-CN': '详情', en: 'Detail' },
} satisfies Record<string, Labels>;

const SYSTEM = { 'zh-CN': '系统', en: 'System' };

/** ALM-13: what an escalation says it is, before the alarm: "ESCALATION step 1" / "报警升级 第1级". */
export function escalationText(step: number | undefined, language: Language): string {
  if (!step) return '';
  return language === 'zh-CN' ? `报警升级 第${step}级` : `ESCALATION step ${step}`;
}

export function renderAlarmMessage(alarm: AlarmNotice, options: RenderOptions): RenderedMessage {
  const { language } = options;
  if (alarm.group?.length) return renderStormMessage(alarm, alarm.group, options);
  const facts = alarmFacts(alarm, options);
  const rows = messageRows(alarm, facts, language);
  const title = messageTitle(alarm, language);
  const separator = language === 'zh-CN' ? '：' : ': ';
  const text = [title, ...rows.map(([label, value]) => `${label}${separator}${value}`)].join('\n');
  // DingTalk renders a single newline as a space: one blank line between rows.
  const markdown = [`### ${title}`, ...rows.map(([label, value]) => `**${label}**${separator}${oneLine(value)}`)].join('\n\n');
  return { title, text, markdown, facts };
}

export function messageTitle(alarm: AlarmNotice, language: Language): string {
  const tag = alarm.escalation && alarm.event === 'raised' ? escalationText(alarm.escalation, language) : EVENT_TAGS[alarm.event][language];
  const bracketed = language === 'zh-CN' ? `【${tag}】` : `[${tag}] `;
  if (alarm.event === 'test') {
    return language === 'zh-CN' ? `${bracketed}MCS Edge 通知渠道测试` : `${bracketed}MCS Edge notification channel test`;
  }
  return `${bracketed}${priorityTag(alarm, language)}${typeText(alarm, language)} - ${deviceText(alarm, language)}`;
}

export function alarmFacts(alarm: AlarmNotice, { language, timezone }: RenderOptions): AlarmFacts {
  const valueOptions: AlarmValueOptions = { language, unit: alarm.unit };
  return {
    device: alarm.deviceName || alarm.sn || SYSTEM[language],
    sn: alarm.sn ?? '',
    location: alarm.location,
    type: typeText(alarm, language),
    state: STATES[alarm.event][language],
    value: alarmValueText(subjectOf(alarm), alarm.value, valueOptions),
    limit: alarmLimitText(subjectOf(alarm), alarm.limit, valueOptions),
    time: formatSiteTime(alarm.at, timezone),
    gas: alarm.gas ?? '',
    level: typeText(alarm, language),
    escalation: escalationText(alarm.escalation, language),
  };
}

/** The labelled rows of a message, in display order; rows without a value are left out. */
function messageRows(alarm: AlarmNotice, facts: AlarmFacts, language: Language): [string, string][] {
  const rows: [string, string][] = [
    [FIELDS.device[language], deviceText(alarm, language)],
    [FIELDS.location[language], facts.location],
    [FIELDS.type[language], `${facts.type} (${alarm.type})`],
    [FIELDS.state[language], alarm.escalation ? `${facts.state}, ${UNACKNOWLEDGED[language]}` : facts.state],
    [FIELDS.value[language], facts.value],
    [FIELDS.limit[language], facts.limit],
    [FIELDS.time[language], facts.time],
    [FIELDS.detail[language], saysMoreThanValue(alarm) ? (alarm.detail ?? '') : ''],
  ];
  return rows.filter((row) => row[1] !== '');
}

function deviceText(alarm: AlarmNotice, language: Language): string {
  const name = alarm.deviceName || alarm.sn || SYSTEM[language];
  return alarm.sn && alarm.sn !== name ? `${name} (${alarm.sn})` : name;
}

/** A fault's detail, e.g. "err 50: calibration lost", is what its value row already says (in the site language). */
function saysMoreThanValue(alarm: AlarmNotice): boolean {
  return alarm.detail !== alarmValueText(subjectOf(alarm), alarm.value, { language: 'en', unit: alarm.unit });
}

/** What decides how the notice's numbers read; a system notice's name is its source (notifier.ts). */
function subjectOf(alarm: AlarmNotice): AlarmValueSubject {
  return { type: alarm.type, source: alarm.source ?? alarm.sn ?? alarm.deviceName, detail: alarm.detail ?? null };
}

/**
 * Names and details come from users: one row stays one line. (No backslash escapes: DingTalk's
 * and WeCom's markdown subsets would show them literally, e.g. a location like `1#车间`.)
 */
function oneLine(value: string): string {
  return value.replace(/\s*[\r\n]+\s*/g, ' ');
}

// ---- issue 15.4: an OFFLINE storm as one notice ------------------------------------------------

/** Aliyun caps a template variable at 35 characters (channels/sms.ts): each storm fact fits in it. */
export const SMS_FACT_CHARS = 35;
/** Robots' markdown has small caps (WeCom 4096 bytes): the list there stops after this many. */
export const STORM_MARKDOWN_LIST = 20;

const STORM = {
  count: { 'zh-CN': '数量', en: 'Count' },
  list: { 'zh-CN': '设备清单', en: 'Detectors' },
  detail: {
    'zh-CN': '离线风暴：同时离线的设备合并为一条通知，每台设备仍有各自的报警记录。',
    en: 'Offline storm: the detectors that went offline together, in one notice; each keeps its own alarm record.',
  },
  back: {
    'zh-CN': '离线风暴恢复：同时恢复在线的设备合并为一条通知，每台设备仍有各自的报警记录。',
    en: 'Offline storm over: the detectors that came back online together, in one notice; each keeps its own alarm record.',
  },
} satisfies Record<string, Labels>;

const detectorsText = (n: number, language: Language) => (language === 'zh-CN' ? `${n}台设备` : `${n} detector${n === 1 ? '' : 's'}`);
const moreText = (n: number, language: Language) => (language === 'zh-CN' ? `……另有${n}台` : `… and ${n} more`);

/**
 * `prefix` then as many `items` as fit in `max` characters, with "…" when some were left out: the
 * count in the prefix survives any cut, so an SMS still says how many.
 */
export function countedList(prefix: string, items: readonly string[], separator: string, max = SMS_FACT_CHARS): string {
  let text = prefix;
  for (let i = 0; i < items.length; i++) {
    const next = `${i ? separator : ''}${items[i]}`;
    const more = i < items.length - 1 ? '…' : '';
    if ((text + next + more).length <= max) {
      text += next;
      continue;
    }
    if (i === 0) return `${text}${next.slice(0, Math.max(0, max - text.length - 1))}…`;
    return `${text}…`;
  }
  return text;
}

function renderStormMessage(alarm: AlarmNotice, group: OfflineDetector[], { language, timezone }: RenderOptions): RenderedMessage {
  const separator = language === 'zh-CN' ? '：' : ': ';
  const comma = language === 'zh-CN' ? '、' : ', ';
  const n = group.length;
  const type = typeText(alarm, language);
  const first = Math.min(...group.map((d) => d.at));
  const last = Math.max(...group.map((d) => d.at));
  const time = first === last ? formatSiteTime(first, timezone) : `${formatSiteTime(first, timezone)} – ${formatSiteTime(last, timezone)}`;
  const event = alarm.event === 'cleared' ? 'cleared' : 'raised'; // a storm of returns is grouped too
  const title = `${language === 'zh-CN' ? `【${EVENT_TAGS[event][language]}】` : `[${EVENT_TAGS[event][language]}] `}${priorityTag(alarm, language)}${type} - ${detectorsText(n, language)}`;
  const rows: [string, string][] = [
    [FIELDS.type[language], `${type} (${alarm.type})`],
    [FIELDS.state[language], STATES[event][language]],
    [STORM.count[language], detectorsText(n, language)],
    [FIELDS.time[language], time],
    [FIELDS.detail[language], (event === 'cleared' ? STORM.back : STORM.detail)[language]],
  ];
  const line = (d: OfflineDetector) => {
    const name = d.deviceName && d.deviceName !== d.sn ? `${oneLine(d.deviceName)} (${d.sn})` : d.sn;
    return d.location ? `${name}${comma}${oneLine(d.location)}` : name;
  };
  const text = [title, ...rows.map(([label, value]) => `${label}${separator}${value}`), `${STORM.list[language]}${separator}`, ...group.map((d) => `- ${line(d)}`)].join('\n');
  const shown = group.slice(0, STORM_MARKDOWN_LIST).map((d) => `- ${line(d)}`);
  if (n > STORM_MARKDOWN_LIST) shown.push(moreText(n - STORM_MARKDOWN_LIST, language));
  const markdown = [
    `### ${title}`,
    ...rows.map(([label, value]) => `**${label}**${separator}${value}`),
    `**${STORM.list[language]}**${separator}`,
    shown.join('\n'),
  ].join('\n\n');
  const locations = [...new Set(group.map((d) => d.location).filter(Boolean))];
  const facts: AlarmFacts = {
    device: countedList(language === 'zh-CN' ? `${n}台：` : `${n} detectors: `, group.map((d) => d.deviceName || d.sn), comma),
    sn: countedList(`${n}: `, group.map((d) => d.sn), comma),
    location: countedList('', locations, comma),
    type,
    state: STATES[event][language],
    value: '',
    limit: '',
    time: formatSiteTime(first, timezone),
    gas: '',
    level: type,
    escalation: '',
  };
  return { title, text, markdown, facts };
}
