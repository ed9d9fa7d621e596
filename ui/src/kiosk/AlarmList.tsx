// UI-2 / UI-5: the listed alarms (ALM-11: active, and gas alarms that cleared but wait for an
// acknowledgement) in priority order (ALM-10), with the totals by state above them (GB 16808
// asks for the total count). Gas alarms red, faults yellow, offline grey; an acknowledged one
// says who took it and why.
import { useEffect, useRef } from 'preact/hooks';
import type { AlarmView, LiveDeviceInfo } from '../../../appliance/contract/live.ts';
import { formatTime, lang, t, type TextKey } from '../i18n/i18n.ts';
import { alarmTotals, isGas } from '../lib/alarm-order.ts';
import { alarmValueText } from '../lib/alarm-value.ts';

export function alarmTypeText(type: string): string {
  const key = `alarm.type.${type}` as TextKey;
  const text = t(key);
  return text === key ? type : text;
}

/** 一级 / 二级 for a gas alarm with a level; '' otherwise. */
export function levelText(level: number | null | undefined): string {
  return level === 1 || level === 2 ? t(`kiosk.level.${level}`) : '';
}

/** critical / high / medium / low in the current language ('' for a priority the UI does not know). */
export function priorityText(priority: string | undefined): string {
  const key = `kiosk.priority.${priority}` as TextKey;
  const text = t(key);
  return text === key ? '' : text;
}

/** The colour family of a list entry: gas red, fault yellow, offline grey, the rest neutral. */
export function alarmTone(alarm: Pick<AlarmView, 'type'>): 'gas' | 'fault' | 'offline' | 'other' {
  if (isGas(alarm)) return 'gas';
  return alarm.type === 'FAULT' ? 'fault' : alarm.type === 'OFFLINE' ? 'offline' : 'other';
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

function Totals(props: { alarms: AlarmView[] }) {
  const totals = alarmTotals(props.alarms);
  const cell = (name: keyof typeof totals, hot: boolean) => (
    <div class={`total total-${name}${hot && totals[name] > 0 ? ' hot' : ''}`} data-total={name}>
      <span class="total-value">{totals[name]}</span>
      <span class="total-label">{t(`kiosk.total.${name}`)}</span>
    </div>
  );
  return (
    <div class="kiosk-totals">
      {cell('alarm', true)}
      {cell('returned', true)}
      {cell('fault', true)}
      {cell('offline', true)}
      {totals.other > 0 && cell('other', false)}
    </div>
  );
}

export function AlarmList(props: { alarms: AlarmView[]; devices: Map<string, LiveDeviceInfo>; dim: boolean; firstId: number | null }) {
  const list = useAutoScroll();
  return (
    <section class={`kiosk-alarms${props.dim ? ' dim' : ''}`}>
      <h2>{t('kiosk.alarmList')} <span class="badge" data-alarm-count={props.alarms.length}>{props.alarms.length}</span></h2>
      <Totals alarms={props.alarms} />
      {props.alarms.length === 0 && <p class="empty">{t('kiosk.noAlarms')}</p>}
      <ul ref={list}>
        {props.alarms.map((a) => {
          const device = a.sn ? props.devices.get(a.sn) : undefined;
          const acked = a.ack_at !== null;
          const returned = a.isa_state === 'returned_unacknowledged';
          const value = alarmValueText(a, lang(), device?.unit ?? a.unit);
          const level = levelText(a.level);
          // Issue 15.1: an alarm of a masked detector is recorded, not notified: shown as masked, with the time left.
          const maskLeft = a.masked ? Math.max(1, Math.ceil((Date.parse(a.masked.until) - Date.now()) / 60_000)) : null;
          return (
            <li
              key={a.id}
              class={`alarm-item tone-${alarmTone(a)} prio-${a.priority}${acked ? ' acked' : ''}${returned ? ' returned' : ''}${a.id === props.firstId ? ' first' : ''}${a.masked ? ' masked' : ''}`}
              data-masked={a.masked ? 'yes' : undefined}
              data-alarm-id={a.id} data-acked={acked ? 'yes' : 'no'} data-type={a.type} data-level={a.level ?? ''} data-priority={a.priority} data-isa={a.isa_state}
            >
              <div class="alarm-head">
                <span class="alarm-source">{device?.name || a.source}</span>
                <span class="alarm-type">
                  {level && <span class="alarm-level">{level}</span>}
                  {alarmTypeText(a.type)}
                </span>
              </div>
              <div class="alarm-meta">
                {priorityText(a.priority) && <span class={`alarm-priority prio-${a.priority}`}>{priorityText(a.priority)}</span>}
                <span>{formatTime(a.triggered_at)}</span>
                {value && <span class="alarm-value">{value}</span>}
                {device?.location && <span class="alarm-location">{device.location}</span>}
                {a.sn && device?.name && <span class="alarm-sn">{a.sn}</span>}
              </div>
              {maskLeft !== null && <div class="alarm-masked">{t('kiosk.alarmMasked', { n: maskLeft })}</div>}
              {returned && <div class="alarm-returned">↺ {t('kiosk.isa.returned_unacknowledged')}</div>}
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
