// ALM-3/ALM-4: whether an alarm event is sent to people or only recorded. Pure: it runs on the
// writer thread, inside the transaction that commits the alarm (ALM-8), to decide its outbox rows.
import type { AlarmEvent, AlarmEventKind } from '../contract/alarm.ts';

export interface NotifyPolicy {
  /** ISO weekdays 1 (Monday) … 7 (Sunday) on which notifications are sent. */
  days: number[];
  /** Local time window, "HH:MM" (end exclusive; an end before the start spans midnight). */
  start: string;
  end: string;
  /** Types sent whatever the schedule says (gas safety: HIGH by default). */
  always_notify: string[];
  /** Send a message when an alarm clears, too. */
  notify_cleared: boolean;
}

export const DEFAULT_POLICY: NotifyPolicy = {
  days: [1, 2, 3, 4, 5, 6, 7],
  start: '00:00',
  end: '24:00',
  always_notify: ['HIGH'],
  notify_cleared: true,
};

export type NotifyDecision = 'notify' | 'log_only' | 'none';

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

/** The weekday (1-7) and minute of the day of `at` in `timezone`. */
export function localTime(at: number, timezone: string): { weekday: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(get('weekday')) + 1;
  return { weekday, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

export function inSchedule(policy: NotifyPolicy, at: number, timezone: string): boolean {
  const { weekday, minute } = localTime(at, timezone);
  const start = minutesOf(policy.start);
  const end = minutesOf(policy.end);
  if (start <= end) return policy.days.includes(weekday) && minute >= start && minute < end;
  // Over midnight: the part after midnight belongs to the previous day's window.
  if (minute >= start) return policy.days.includes(weekday);
  const previousDay = weekday === 1 ? 7 : weekday - 1;
  return minute < end && policy.days.includes(previousDay);
}

/**
 * A raised alarm is sent inside the schedule (or always, for the always-notify types) and
 * otherwise only recorded (LOG_ONLY); a repeat within the debounce window is never sent (ALM-3,
 * the engine counts it); a clearing follows the raise; acknowledgements are not sent.
 */
export function decide(kind: AlarmEventKind, type: string, at: number, policy: NotifyPolicy, timezone: string): NotifyDecision {
  if (kind === 'repeat' || kind === 'acknowledged' || kind === 'peak') return 'none';
  if (kind === 'cleared' && !policy.notify_cleared) return 'none';
  if (policy.always_notify.includes(type)) return 'notify';
  return inSchedule(policy, at, timezone) ? 'notify' : 'log_only';
}

/** What the outbox needs to decide an alarm event's notifications (ALM-4, ALM-5). */
export interface NotifySettings {
  policy: NotifyPolicy;
  /** The channels switched on, in a fixed order. */
  channels: string[];
  /** The site timezone of the schedule. */
  timezone: string;
}

/**
 * The channels an alarm event is sent to: none for repeats, peaks and acknowledgements; a clearing
 * only of an alarm people were told about, and only once (the clearings of suppressed repeats of a
 * flapping reading stay quiet like the repeats themselves, ALM-3); LOG_ONLY outside the schedule.
 */
export function channelsFor({ kind, alarm }: AlarmEvent, settings: NotifySettings): string[] {
  if (!settings.channels.length) return [];
  if (kind === 'cleared' && (alarm.notified_at === null || alarm.repeat_count > 0)) return [];
  // ALM-9: rising to the second level is news (notified again); falling back to the first is not.
  if (kind === 'level' && alarm.level !== 2) return [];
  const at = kind === 'cleared' ? (alarm.cleared_at ?? alarm.updated_at) : alarm.triggered_at;
  if (decide(kind, alarm.type, at, settings.policy, settings.timezone) !== 'notify') return [];
  // ALM-13: a phone call only for a critical alarm being raised (or rising to it), never for a clearing.
  return kind === 'cleared' || alarm.priority !== 'critical' ? settings.channels.filter(callsNobody) : settings.channels;
}

const callsNobody = (channel: string) => !CALLING_CHANNELS.has(channel);
/** ALM-13: channels that ring someone's phone: critical alarms and escalation steps only. */
export const CALLING_CHANNELS: ReadonlySet<string> = new Set(['voice']);

/**
 * ALM-13: whether an escalation step is sent now or only journaled: inside the schedule, or any time
 * for the always-notify types (gas) — as the alarm itself was (ALM-4).
 */
export function escalationSent(type: string, at: number, policy: NotifyPolicy, timezone: string): boolean {
  return decide('raised', type, at, policy, timezone) === 'notify';
}

/** Issue 15.4: the storm settings the grouping needs (contract/alarm.ts OfflineStormSchema). */
export interface OfflineStorm {
  enabled: boolean;
  /** More than this many OFFLINE alarms of one channel raised (or cleared) within the window is a storm. */
  threshold: number;
  window_s: number;
  hold_s: number;
}

/**
 * Issue 15.4: whether an OFFLINE alarm raised (or cleared) at `at` is part of a storm: some window
 * of `window_s` that holds it holds more than `threshold` of the OFFLINE alarms raised (cleared) at
 * `times` (ascending, `at` among them).
 */
export function inOfflineStorm(at: number, times: readonly number[], storm: OfflineStorm): boolean {
  if (!storm.enabled) return false;
  const windowMs = storm.window_s * 1000;
  // The fullest window holding `at` can be taken to start at one of the times up to `at`.
  let end = 0;
  for (let start = 0; start < times.length && times[start] <= at; start++) {
    if (at - times[start] > windowMs) continue;
    while (end < times.length && times[end] - times[start] <= windowMs) end++;
    if (end - start > storm.threshold) return true;
  }
  return false;
}

/**
 * Issue 15.4: the outbox rows a storm groups — an OFFLINE alarm's own notice when it is raised and,
 * when the detectors come back, its 'cleared' notice (not an escalation step). Raised and cleared
 * rows are grouped separately: a storm of returns is judged on the clearing times alone.
 */
export type StormEvent = 'raised' | 'cleared';
export function stormEventOf(row: { event: string; escalation_step: number | null }, alarmType: string | null): StormEvent | null {
  if (alarmType !== 'OFFLINE' || row.escalation_step !== null) return null;
  return row.event === 'raised' || row.event === 'cleared' ? row.event : null;
}

export interface StormCandidate {
  id: number;
  created_at: number;
  status: 'pending' | 'sent' | 'failed';
}

/**
 * Issue 15.4: how a due OFFLINE notice goes out: alone, or — in a storm — together with every
 * notice of the same channel still pending around it (`neighbours`: the OFFLINE rows of its channel
 * and of its event — all 'raised', or all 'cleared' for a storm of returns — created within the
 * window before or after it, sent ones included, so a storm that goes on keeps being grouped). At
 * most `maxGroup` rows, the oldest first; a group of one is sent alone.
 */
export function planOfflineDelivery(
  row: StormCandidate,
  neighbours: readonly StormCandidate[],
  storm: OfflineStorm,
  maxGroup = 1000,
): { group: false } | { group: true; ids: number[] } {
  const sorted = [...neighbours].sort((a, b) => a.created_at - b.created_at || a.id - b.id);
  if (!inOfflineStorm(row.created_at, sorted.map((n) => n.created_at), storm)) return { group: false };
  const others = sorted.filter((n) => n.status === 'pending' && n.id !== row.id).slice(0, maxGroup - 1);
  return others.length ? { group: true, ids: [row.id, ...others.map((n) => n.id)] } : { group: false };
}
