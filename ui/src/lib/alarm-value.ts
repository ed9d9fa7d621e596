// An alarm's value, peak and threshold in its own terms (ALM-1): a concentration in the device's
// unit for HIGH and LOW, `battery 9 %` for LOW_BAT, the DEV-4 error code with its text for a
// FAULT (or the clamped concentration of an over-range one), free MB for the disk, nothing for
// OFFLINE and the other system alarms. Which of these an alarm is comes from the server's own
// alarmValueKind() (appliance/contract/alarm-value.ts, a pure module the UI may import); the
// words come from the UI's dictionaries. Pure — texts picked by language, not from i18n state — so
// it is unit-tested in Node (test/ui/units.test.ts).
import { alarmValueKind } from '../../../appliance/contract/alarm-value.ts';
import type { AlarmView } from '../../../appliance/contract/live.ts';
import { en, type Texts } from '../i18n/en.ts';
import type { Lang } from '../i18n/i18n.ts';
import { zh } from '../i18n/zh.ts';

export type AlarmValueSubject = Pick<AlarmView, 'type' | 'source' | 'detail' | 'value' | 'peak' | 'threshold'>;

export { alarmValueKind };

function texts(lang: Lang) {
  const table: Texts = lang === 'zh-CN' ? zh : en;
  return (key: keyof Texts, vars: Record<string, string>) => table[key].replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? '');
}

function num(value: number, lang: Lang): string {
  return value.toLocaleString(lang === 'zh-CN' ? 'zh-CN' : 'en-GB', { maximumFractionDigits: 1 });
}

function quantity(value: number, lang: Lang, unit: string): string {
  return unit ? `${num(value, lang)} ${unit}` : num(value, lang);
}

/**
 * What an alarm reached, as one line: `peak 1,500 ppm` / `峰值 1,500 ppm`, `battery 9 %` /
 * `电量 9 %`, `err 50: calibration lost` / `故障码 50：校准数据丢失`, `50,000 ppm (over range)`,
 * `free 812 MB`; '' when the alarm has no value (OFFLINE, ARCHIVE, LICENSE, CHANNEL).
 * `unit` is the device's gas unit.
 */
export function alarmValueText(alarm: AlarmValueSubject, lang: Lang, unit = ''): string {
  const text = texts(lang);
  const kind = alarmValueKind(alarm);
  // The worst value for the levels (a HIGH's highest, a battery's lowest); the latest for the rest.
  const worst = alarm.peak ?? alarm.value;
  const latest = alarm.value ?? alarm.peak;
  switch (kind) {
    case 'gas':
      if (alarm.type === 'FAULT') return latest === null ? '' : text('alarmValue.overRange', { value: quantity(latest, lang, unit) });
      return worst === null ? '' : text('alarmValue.peak', { value: quantity(worst, lang, unit) });
    case 'battery':
      return worst === null ? '' : text('alarmValue.battery', { value: num(worst, lang) });
    case 'error_code': {
      if (latest === null) return '';
      const code = String(latest);
      const known = `deviceError.${code}` in en;
      return known
        ? text('alarmValue.errorCodeText', { code, text: text(`deviceError.${code}` as keyof Texts, {}) })
        : text('alarmValue.errorCode', { code });
    }
    case 'free_mb':
      return latest === null ? '' : text('alarmValue.freeMb', { value: num(latest, lang) });
    case 'deleted_rows':
      return latest === null ? '' : text('alarmValue.deletedRows', { value: num(latest, lang) });
    case 'none':
      return '';
    case 'plain':
      return worst === null ? '' : num(worst, lang);
  }
}

/** The limit it crossed: `1,000 ppm`, `20 %`; '' when there is none or it means nothing. */
export function alarmLimitText(alarm: AlarmValueSubject, lang: Lang, unit = ''): string {
  if (alarm.threshold === null) return '';
  switch (alarmValueKind(alarm)) {
    case 'gas':
      return quantity(alarm.threshold, lang, unit);
    case 'battery':
      return `${num(alarm.threshold, lang)} %`;
    case 'free_mb':
      return `${num(alarm.threshold, lang)} MB`;
    case 'plain':
      return num(alarm.threshold, lang);
    default:
      return '';
  }
}
