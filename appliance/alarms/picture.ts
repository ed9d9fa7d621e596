// ALM-8 on the main thread: the picture of the active alarms that the kiosk, the live state, the
// API and the health check read. It changes only from committed results — the events the writer
// thread returns after its transaction (group-commit.ts) — and is loaded from SQLite at start, so
// memory never runs ahead of the database. The bus then tells the hub (WebSocket) and the notifier.
import type { Bus } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { byPriority, isListed, type AlarmEvent, type AlarmRecord } from '../contract/alarm.ts';

export interface AlarmPictureDeps {
  bus: Bus;
  clock: Clock;
  log: Logger;
  /** The listed records as stored: active, and latched gas alarms not yet acknowledged (ALM-11). */
  loadListed: () => AlarmRecord[];
}

export function createAlarmPicture(deps: AlarmPictureDeps) {
  const { bus, clock } = deps;
  const log = deps.log.child({ stage: 'alarms' });
  const listed = new Map<number, AlarmRecord>();
  let loaded = false;
  let early: AlarmEvent[] = [];

  function follow({ alarm }: AlarmEvent) {
    if (isListed(alarm)) listed.set(alarm.id, alarm);
    else listed.delete(alarm.id);
  }

  return {
    /** Loads the active records (once the writer reconciled them with the latest readings). */
    load() {
      listed.clear();
      for (const record of deps.loadListed()) listed.set(record.id, record);
      loaded = true;
      const pending = early;
      early = [];
      this.committed(pending);
    },
    /** The events of one committed transaction, in order: memory follows, then the bus is told. */
    committed(events: AlarmEvent[]) {
      if (!loaded) {
        early.push(...events); // the reconciliation's events arrive before load(); told after it
        return;
      }
      for (const event of events) follow(event);
      const committedAt = clock.now();
      for (const event of events) {
        const { id, type, source, triggered_at: triggeredAt, updated_at: updatedAt } = event.alarm;
        // One line per alarm change (never per reading): latency from the reading's arrival to its
        // committed record and event (ALM-8 figure of the bench's alarm probe).
        if (event.kind !== 'peak') log.info({ kind: event.kind, id, type, source, latency_ms: committedAt - (event.kind === 'raised' ? triggeredAt : updatedAt) }, 'alarm');
        try {
          bus.emit('alarm', event);
        } catch (err) {
          // The record is committed and the picture holds it; a listener's bug must not hold back PUBACKs.
          log.error({ err, id, kind: event.kind }, 'an alarm listener failed');
        }
      }
    },
    /** The active alarms (markers, health, counts). */
    active: (): AlarmRecord[] => [...listed.values()].filter((alarm) => alarm.state === 'active'),
    /** ALM-10/ALM-11: what the alarm lists show — active and latched-unacknowledged — by priority. */
    listed: (): AlarmRecord[] => [...listed.values()].sort(byPriority),
  };
}
export type AlarmPicture = ReturnType<typeof createAlarmPicture>;
