// UI-5 / GB 16808 first alarm (首警): the earliest gas alarm still listed, shown apart and large,
// so the place where the trouble started is not lost under later alarms.
import type { AlarmView, LiveDeviceInfo } from '../../../appliance/contract/live.ts';
import { formatTime, lang, t } from '../i18n/i18n.ts';
import { alarmValueText } from '../lib/alarm-value.ts';
import { alarmTypeText, levelText } from './AlarmList.tsx';

export function FirstAlarm(props: { alarm: AlarmView | null; device: LiveDeviceInfo | undefined; dim: boolean }) {
  const { alarm, device } = props;
  if (!alarm) return null;
  const value = alarmValueText(alarm, lang(), device?.unit ?? alarm.unit);
  const active = alarm.state === 'active';
  return (
    <section class={`first-alarm${active ? ' active' : ' returned'}${props.dim ? ' dim' : ''}`} data-first-alarm={alarm.id} data-sn={alarm.sn ?? ''}>
      <div class="first-label">{t('kiosk.firstAlarm')}</div>
      <div class="first-name">{device?.name || alarm.source}{device?.location ? <span class="first-location"> · {device.location}</span> : null}</div>
      <div class="first-what">
        {levelText(alarm.level) && <span class="alarm-level">{levelText(alarm.level)}</span>}
        {alarmTypeText(alarm.type)}
        {value && <span class="first-value">{value}</span>}
      </div>
      <div class="first-time">{formatTime(alarm.triggered_at)}{active ? '' : ` · ${t('kiosk.isa.returned_unacknowledged')}`}</div>
    </section>
  );
}
