// What an alarm's value, threshold and peak mean depends on its type (ALM-1): a gas
// concentration in the device's unit for HIGH and LOW, a battery % for LOW_BAT, the DEV-4 error
// code for FAULT — or, for an over-range clamp, the clamped concentration — free MB for the disk,
// nothing for OFFLINE and the other system alarms. One pure reading of that for the
// notifications, the CSV export, the CLI and the UI (ui/src/lib/alarm-value.ts imports
// alarmValueKind as a pure module), so no alarm is shown as "9 ppm" of battery.
import { DEVICE_ERROR_CODES } from './device-payload.ts';
import type { Labels, Language } from './site-format.ts';

export type AlarmValueKind = 'gas' | 'battery' | 'error_code' | 'free_mb' | 'deleted_rows' | 'none' | 'plain';

/** What of an alarm record decides how its numbers read. */
export interface AlarmValueSubject {
  type: string;
  /** The device serial or the system part (disk, disk:pruned, channel:email …). */
  source: string;
  detail: string | null;
}

/** How alarms/rules.ts begins the FAULT detail of an over-range clamp (ING-2), whose value is the clamped concentration. */
const OVER_RANGE_DETAIL = 'over range';
/** archive/disk-guard.ts PRUNE_ALARM_SOURCE: a DISK alarm whose value counts deleted readings. */
const DISK_PRUNED_SOURCE = 'disk:pruned';

export function alarmValueKind({ type, source, detail }: AlarmValueSubject): AlarmValueKind {
  switch (type) {
    case 'HIGH':
    case 'LOW':
    case 'EXPOSURE_STEL': // issue 15.3: the window's average, in the device's unit
    case 'EXPOSURE_TWA':
      return 'gas';
    case 'LOW_BAT':
      return 'battery';
    case 'FAULT':
      return detail?.startsWith(OVER_RANGE_DETAIL) ? 'gas' : 'error_code';
    case 'DISK':
      return source === DISK_PRUNED_SOURCE ? 'deleted_rows' : 'free_mb';
    case 'OFFLINE':
    case 'ARCHIVE':
    case 'LICENSE':
    case 'CHANNEL':
    case 'SYNC':
      return 'none';
    default:
      return 'plain';
  }
}

/** DEV-4 error codes in both site languages (English as the device protocol names them). */
const ERROR_TEXTS_ZH: Record<number, string> = {
  0: '正常',
  1: '传感器读取失败',
  2: '传感器数据异常',
  3: '温度传感器故障',
  10: '电池电量低（<20%）',
  11: '电池电量严重不足（<10%）',
  20: '信号弱',
  21: 'SIM 卡故障',
  30: '存储已满',
  40: '看门狗重启',
  50: '校准数据丢失',
};

export function deviceErrorText(code: number, language: Language): string | undefined {
  return language === 'zh-CN' ? ERROR_TEXTS_ZH[code] : DEVICE_ERROR_CODES[code];
}

const TEXTS = {
  overRange: { 'zh-CN': '{value}（超量程）', en: '{value} (over range)' },
  battery: { 'zh-CN': '电量 {value} %', en: 'battery {value} %' },
  errorCode: { 'zh-CN': '故障码 {code}', en: 'err {code}' },
  errorCodeText: { 'zh-CN': '故障码 {code}：{text}', en: 'err {code}: {text}' },
  freeMb: { 'zh-CN': '剩余 {value} MB', en: 'free {value} MB' },
  deletedRows: { 'zh-CN': '已删除 {value} 条读数', en: '{value} readings deleted' },
} satisfies Record<string, Labels>;

const UNIT_WORDS = {
  error_code: { 'zh-CN': '故障码', en: 'error code' },
  deleted_rows: { 'zh-CN': '条读数', en: 'readings' },
} satisfies Partial<Record<AlarmValueKind, Labels>>;

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? '');
}

/** At most two decimals, no grouping: what a plant engineer types back into a setting. */
export function formatValue(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 100) / 100) : String(value);
}

export interface AlarmValueOptions {
  language: Language;
  /** The device's gas unit (ppm, % LEL, mg/m³ …); '' when unknown or for a system alarm. */
  unit: string;
}

function withUnit(value: number, unit: string): string {
  return unit ? `${formatValue(value)} ${unit}` : formatValue(value);
}

/**
 * An alarm's value (or peak) in its own terms: `3516.1 ppm`, `battery 9 %` / `电量 9 %`,
 * `err 50: calibration lost` / `故障码 50：校准数据丢失`, `free 812 MB`; '' for null and for the
 * types that carry no value (OFFLINE, ARCHIVE, LICENSE, CHANNEL).
 */
export function alarmValueText(alarm: AlarmValueSubject, value: number | null, { language, unit }: AlarmValueOptions): string {
  if (value === null) return '';
  const kind = alarmValueKind(alarm);
  const n = formatValue(value);
  switch (kind) {
    case 'gas':
      return alarm.type === 'FAULT' ? fill(TEXTS.overRange[language], { value: withUnit(value, unit) }) : withUnit(value, unit);
    case 'battery':
      return fill(TEXTS.battery[language], { value: n });
    case 'error_code': {
      const text = deviceErrorText(value, language);
      return fill(text ? TEXTS.errorCodeText[language] : TEXTS.errorCode[language], { code: n, text: text ?? '' });
    }
    case 'free_mb':
      return fill(TEXTS.freeMb[language], { value: n });
    case 'deleted_rows':
      return fill(TEXTS.deletedRows[language], { value: n });
    case 'none':
      return '';
    case 'plain':
      return n;
  }
}

/** An alarm's threshold in its own terms: `1000 ppm`, `20 %`, `500 MB`; '' for null or none. */
export function alarmLimitText(alarm: AlarmValueSubject, limit: number | null, options: AlarmValueOptions): string {
  if (limit === null) return '';
  const unit = alarmValueUnit(alarm, options);
  const kind = alarmValueKind(alarm);
  if (kind === 'none' || kind === 'error_code' || kind === 'deleted_rows') return '';
  return unit ? `${formatValue(limit)} ${unit}` : formatValue(limit);
}

/**
 * The unit of an alarm's value, threshold and peak as plain numbers (the CSV's unit column):
 * the device's unit for gas, `%` for battery, `MB` for free disk, a word for error codes and
 * deleted readings, '' when the numbers mean nothing.
 */
export function alarmValueUnit(alarm: AlarmValueSubject, { language, unit }: AlarmValueOptions): string {
  const kind = alarmValueKind(alarm);
  switch (kind) {
    case 'gas':
      return unit;
    case 'battery':
      return '%';
    case 'free_mb':
      return 'MB';
    case 'error_code':
    case 'deleted_rows':
      return UNIT_WORDS[kind][language];
    default:
      return '';
  }
}
