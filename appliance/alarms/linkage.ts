// Issue 15.5: the linkage decision (GB 16808-2025 alarm control outputs). Pure: it runs on the
// writer thread inside the transaction that commits the alarm change (ALM-8), so the action's
// outbox row commits with the alarm that caused it — a PUBACK means the relay command is queued
// too, and a power cut cannot lose it. Delivery (with retries) is notify/linkage.ts.
//
// A rule holds while enough detectors of its zone have an active HIGH alarm at its level or
// above: one, or two with the two-signal confirmation. An action is taken when a change of one
// detector's alarm makes a rule start holding ('fire'), and when it stops holding ('release', if
// the rule asks for it). Only changes of the level count (raised, repeat, level, cleared), never
// a peak or an acknowledgement, so a rule fires once per episode of its zone.
//
// Masked detectors (issue 15.1; GB 16808 屏蔽 blocks the outputs of the masked point, where
// ISA-18.2 shelving alone would only hold back the annunciation): the lifecycle gives `levelOf`
// no level for a detector whose standing episode was raised under a mask still in force, and
// such an episode's own events start nothing — a bump test neither trips a fan or a valve nor
// confirms another detector's alarm. A mask never switches an output off: an episode already
// counting when the mask began keeps counting until it ends (its end releases as usual). When the
// mask ends (by hand or expired) an episode still standing counts from then on, as if raised at
// that moment, and a rule it completes fires then.
import type { AlarmEvent } from '../contract/alarm.ts';
import { linkageChannel, type LinkageOrderEvent, type LinkageRule } from '../contract/linkage.ts';

/** An action to queue: the outbox row's channel (`linkage:<rule id>`) and event. */
export interface LinkageOrder {
  rule: string;
  channel: string;
  event: LinkageOrderEvent;
}

/** The level of a detector's active HIGH alarm now (this transaction's changes included), or null. */
export type LevelOf = (sn: string) => number | null;

/** The HIGH level of the alarm's detector before and after this event; null when the event changes no level. */
export function levelChangeOf({ kind, alarm }: AlarmEvent): { before: number | null; after: number | null } | null {
  if (alarm.type !== 'HIGH' || alarm.sn === null) return null;
  switch (kind) {
    case 'raised':
    case 'repeat':
      return { before: null, after: alarm.level ?? 1 };
    // ALM-9: HIGH has two levels, so a level change comes from the other one.
    case 'level':
      return { before: alarm.level === 2 ? 1 : 2, after: alarm.level ?? 1 };
    case 'cleared':
      return { before: alarm.level ?? 1, after: null };
    default:
      return null;
  }
}

/** Whether a rule holds with these levels: enough detectors of its zone at its level or above. */
export function ruleHolds(rule: LinkageRule, levelOf: LevelOf): boolean {
  const needed = rule.confirm ? 2 : 1;
  let reached = 0;
  for (const sn of rule.detectors) {
    const level = levelOf(sn);
    if (level !== null && level >= rule.level && ++reached >= needed) return true;
  }
  return false;
}

/**
 * The actions an alarm event starts: for each enabled rule whose zone holds the event's detector,
 * 'fire' when the rule starts holding with this change, 'release' when it stops (and asks for it).
 * `levelOf` gives the levels after the change; the detector's own level before it comes from the event.
 */
export function linkageOrders(event: AlarmEvent, rules: readonly LinkageRule[] | undefined, levelOf: LevelOf): LinkageOrder[] {
  if (!rules?.length) return [];
  const change = levelChangeOf(event);
  const sn = event.alarm.sn;
  if (!change || sn === null || change.before === change.after) return [];
  const after: LevelOf = (each) => (each === sn ? change.after : levelOf(each));
  const before: LevelOf = (each) => (each === sn ? change.before : levelOf(each));
  const orders: LinkageOrder[] = [];
  for (const rule of rules) {
    if (!rule.enabled || !rule.detectors.includes(sn)) continue;
    const held = ruleHolds(rule, before);
    const holds = ruleHolds(rule, after);
    if (!held && holds) orders.push({ rule: rule.id, channel: linkageChannel(rule.id), event: 'fire' });
    else if (held && !holds && rule.release) orders.push({ rule: rule.id, channel: linkageChannel(rule.id), event: 'release' });
  }
  return orders;
}
