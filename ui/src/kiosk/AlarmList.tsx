// UI-2: the active alarms, unacknowledged first; an acknowledged one says who took it and why.
import { useEffect, useRef } from 'preact/hooks';
import type { AlarmView, LiveDeviceInfo } from '../../../appliance/contract/live.ts';
import { formatTime, lang, t, type TextKey } from '../i18n/i18n.ts';
import { alarmValueText } from '../lib/alarm-value.ts';

export function alarmTypeText(type: string): string {
  const key = `alarm.type.${type}` as TextKey;
  const text = t(key);
  return text === key ? type : text;
}

const SCROLL_EVERY_MS = 4000;

/** UI-2 "a scrolling list": nobody scrolls a kiosk, so alarms below the fold come into view by themselves. */
function useAutoScroll() {
  const list = useRef<HTMLUListElement>(null);
  useEffect(() => {
    const timer = window.setInterval(() => {
      const el = list.current;
      if (!el || el.scrollHeight <= el.clientHeight + 2) return;
      const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - 2;
      el.scrollTo({ top: atEnd ? 0 : el.scrollTop + el.clientHeight * 0.8, behavior: 'smooth' });
    }, SCROLL_EVERY_MS);
    return () => window.clearInterval(timer);
  }, []);
  return list;
}

export function AlarmList(props: { alarms: AlarmView[]; devices: Map<string, LiveDeviceInfo>; dim: boolean }) {
  const list = useAutoScroll();
  return (
    <section class={`kiosk-alarms${props.dim ? ' dim' : ''}`}>
      <h2>{t('kiosk.activeAlarms')} <span class="badge">{props.alarms.length}</span></h2>
      {props.alarms.length === 0 && <p class="empty">{t('kiosk.noAlarms')}</p>}
      <ul ref={list}>
        {props.alarms.map((a) => {
          const device = a.sn ? props.devices.get(a.sn) : undefined;
          const acked = a.ack_at !== null;
          const value = alarmValueText(a, lang(), device?.unit);
          return (
            <li key={a.id} class={`alarm-item${acked ? ' acked' : ''}`} data-alarm-id={a.id} data-acked={acked ? 'yes' : 'no'}>
              <div class="alarm-head">
                <span class="alarm-source">{device?.name || a.source}</span>
                <span class="alarm-type">{alarmTypeText(a.type)}</span>
              </div>
              <div class="alarm-meta">
                <span>{formatTime(a.triggered_at)}</span>
                {value && <span class="alarm-value">{value}</span>}
                {a.sn && device?.name && <span class="alarm-sn">{a.sn}</span>}
              </div>
              {acked && (
                <div class="alarm-ack">✓ {t('kiosk.ackedBy', { user: a.ack_by ?? '' })}{a.ack_comment ? ` — ${a.ack_comment}` : ''}</div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
