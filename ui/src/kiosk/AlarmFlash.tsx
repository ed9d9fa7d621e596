// UI-5: a new critical alarm (gas level 2, oxygen deficiency…) flashes the whole screen in the
// alarm colour for a few seconds, with what and where in letters readable at 3 m. It lets taps
// through (SILENCE stays usable underneath) and goes by itself.
import type { AlarmView, LiveDeviceInfo } from '../../../appliance/contract/live.ts';
import { lang, t } from '../i18n/i18n.ts';
import { alarmValueText } from '../lib/alarm-value.ts';
import { alarmTypeText } from './AlarmList.tsx';

export const FLASH_MS = 6000;

export function AlarmFlash(props: { alarm: AlarmView; device: LiveDeviceInfo | undefined }) {
  const { alarm, device } = props;
  const value = alarmValueText(alarm, lang(), device?.unit ?? alarm.unit);
  return (
    <div class="alarm-flash" role="alert" data-flash={alarm.id}>
      <div class="flash-box">
        <div class="flash-title">{t(alarm.level === 2 ? 'kiosk.flash.level2' : 'kiosk.flash.critical')}</div>
        <div class="flash-name">{device?.name || alarm.source}{device?.location ? ` · ${device.location}` : ''}</div>
        <div class="flash-what">{alarmTypeText(alarm.type)}{value ? ` — ${value}` : ''}</div>
      </div>
    </div>
  );
}
