// The alarm list rules every screen shares (ALM-10, ALM-11): which records are listed, their
// order, the first alarm (首警) and the totals by state. The UI's twin of byPriority/isListed in
// appliance/contract/alarm.ts (ui/ imports only types from contract/). Pure: unit-tested in Node
// (test/ui/units.test.ts).
import type { AlarmIsaState, AlarmPriority } from '../../../appliance/contract/alarm.ts';
import type { AlarmView } from '../../../appliance/contract/live.ts';

/** ALM-10: most urgent first. */
export const PRIORITIES: readonly AlarmPriority[] = ['critical', 'high', 'medium', 'low'];

/** 0 for critical … 3 for low; an unknown priority sorts after all of them. */
export function priorityRank(priority: string): number {
  const rank = PRIORITIES.indexOf(priority as AlarmPriority);
  return rank < 0 ? PRIORITIES.length : rank;
}

/** The gas alarms (ALM-9): the ones that latch, colour a marker red and count as the first alarm. */
export const GAS_TYPES: ReadonlySet<string> = new Set(['HIGH', 'LOW']);
export const isGas = (alarm: Pick<AlarmView, 'type'>): boolean => GAS_TYPES.has(alarm.type);

/**
 * ALM-11 (ISA-18.2): a record stays on the list until it is back to `normal` — an active one
 * (acknowledged or not) and a gas alarm that cleared but is not acknowledged yet (it latches).
 */
export const isListed = (alarm: Pick<AlarmView, 'isa_state'>): boolean => alarm.isa_state !== 'normal';

/** ALM-11: the ISA-18.2 states, from the most pressing to normal (contract ALARM_ISA_STATES). */
export const ISA_STATES: readonly AlarmIsaState[] = ['active_unacknowledged', 'active_acknowledged', 'returned_unacknowledged', 'normal'];

const time = (iso: string): number => {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : 0;
};

/** ALM-10, for every list: priority, then the latest transition (updated_at) newest first, then the newer record. */
export function byPriority(a: Pick<AlarmView, 'priority' | 'updated_at' | 'id'>, b: Pick<AlarmView, 'priority' | 'updated_at' | 'id'>): number {
  return priorityRank(a.priority) - priorityRank(b.priority) || time(b.updated_at) - time(a.updated_at) || b.id - a.id;
}

/**
 * GB 16808 first alarm (首警): the earliest gas alarm still on the list — by when it was raised,
 * whatever its priority now. Faults, offline detectors and the rest are not "alarms" in the
 * standard's sense (a fault is never shown as a gas alarm), so they are never the first alarm.
 */
export function firstAlarm(list: readonly AlarmView[]): AlarmView | null {
  let first: AlarmView | null = null;
  for (const alarm of list) {
    if (!isGas(alarm) || !isListed(alarm)) continue;
    if (!first || time(alarm.triggered_at) < time(first.triggered_at) || (time(alarm.triggered_at) === time(first.triggered_at) && alarm.id < first.id)) first = alarm;
  }
  return first;
}

/** GB 16808 totals, one bucket per record so they add up to the list's length. */
export interface AlarmTotals {
  /** gas alarms whose condition holds (acknowledged or not) */
  alarm: number;
  /** gas alarms that cleared and wait for an acknowledgement (ALM-11 latching) */
  returned: number;
  fault: number;
  offline: number;
  /** low battery and the system alarms */
  other: number;
}

export function alarmTotals(list: readonly AlarmView[]): AlarmTotals {
  const totals: AlarmTotals = { alarm: 0, returned: 0, fault: 0, offline: 0, other: 0 };
  for (const a of list) {
    if (!isListed(a)) continue;
    if (a.isa_state === 'returned_unacknowledged') totals.returned++;
    else if (isGas(a)) totals.alarm++;
    else if (a.type === 'FAULT') totals.fault++;
    else if (a.type === 'OFFLINE') totals.offline++;
    else totals.other++;
  }
  return totals;
}
