// Issue 15.8 the site overview: each floor plan as a tile in the colour of its worst detector, so a
// glance at the control room (or a phone) says which building or floor needs someone. The colours
// follow the markers (UI-5, GB 16808): red gas alarm or critical alarm, yellow fault / masked /
// unprotected, grey offline or not current, green normal. Pure, so it is unit-tested in Node.
import type { AlarmView } from '../../../appliance/contract/live.ts';

export type PlanState = 'alarm' | 'warning' | 'offline' | 'ok' | 'empty';
const RANK: Record<PlanState, number> = { alarm: 4, warning: 3, offline: 2, ok: 1, empty: 0 };

/** A detector's tile colour from its marker look ('masked' is the look of a masked detector). */
export function stateOfLook(look: string): PlanState {
  switch (look) {
    case 'alarm':
      return 'alarm';
    case 'fault':
    case 'masked':
    case 'unprotected':
      return 'warning';
    case 'ok':
      return 'ok';
    default:
      return 'offline'; // offline, stale, no link: nothing current is known
  }
}

/** The worst of the states (an empty plan is 'empty'). */
export function worstOf(states: Iterable<PlanState>): PlanState {
  let worst: PlanState = 'empty';
  for (const state of states) if (RANK[state] > RANK[worst]) worst = state;
  return worst;
}

export interface PlanSummary {
  state: PlanState;
  devices: number;
  /** how many of them are in each state */
  counts: Record<Exclude<PlanState, 'empty'>, number>;
}

/** Per plan id: its worst state and counts; `critical` raises a plan to red whatever its markers show. */
export function summarizePlans(plans: readonly { id: number }[], devices: Iterable<{ plan: number; state: PlanState }>, critical: Iterable<number> = []): Map<number, PlanSummary> {
  const out = new Map<number, PlanSummary>(plans.map((p) => [p.id, { state: 'empty', devices: 0, counts: { alarm: 0, warning: 0, offline: 0, ok: 0 } }]));
  for (const d of devices) {
    const summary = out.get(d.plan);
    if (!summary || d.state === 'empty') continue;
    summary.devices++;
    summary.counts[d.state]++;
    summary.state = worstOf([summary.state, d.state]);
  }
  for (const id of critical) {
    const summary = out.get(id);
    if (summary) summary.state = 'alarm';
  }
  return out;
}

/** A gas alarm (HIGH, LOW) or any alarm of critical priority brings its plan forward on the kiosk. */
export const bringsForward = (alarm: Pick<AlarmView, 'state' | 'type' | 'priority' | 'sn'>) =>
  alarm.state === 'active' && alarm.sn !== null && (alarm.priority === 'critical' || alarm.type === 'HIGH' || alarm.type === 'LOW');

/**
 * The plan the kiosk must show now: the one with the newest active critical or gas alarm among the
 * placed detectors (it stays while that alarm is active), or null when there is none.
 */
export function forwardPlan(alarms: Iterable<AlarmView>, planOfPlaced: (sn: string) => number | null): number | null {
  let newest: { at: number; plan: number } | null = null;
  for (const alarm of alarms) {
    if (!bringsForward(alarm)) continue;
    const plan = planOfPlaced(alarm.sn!);
    if (plan === null) continue;
    const at = Date.parse(alarm.triggered_at);
    if (!newest || at > newest.at) newest = { at, plan };
  }
  return newest?.plan ?? null;
}
