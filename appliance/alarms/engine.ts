// ALM-2 lifecycle: turns conditions into alarm records. One record per active condition of a
// source (device serial or system part) and type; cleared when the condition stops holding;
// acknowledged independently. A condition that comes back within the debounce window re-opens
// its record as a counted repeat (ALM-3). Records are committed before their event is emitted,
// and the active set is rebuilt from SQLite at start, so a restart neither loses nor re-fires.
import type { Bus, DeviceStatusEvent, ReadingEvent } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { DeviceCache } from '../devices/cache.ts';
import type { AlarmEvent, AlarmRecord } from '../contract/alarm.ts';
import type { AlarmRepository } from '../storage/alarms.ts';
import { DEFAULT_RULES, evaluateReading, mayRaise, type AlarmType, type RuleSettings, type SystemAlarmType } from './rules.ts';

const NONE_ACTIVE: ReadonlySet<string> = new Set();

export interface AlarmEngineDeps {
  alarms: AlarmRepository;
  devices: DeviceCache;
  bus: Bus;
  clock: Clock;
  log: Logger;
  rules?: () => RuleSettings;
  /** ALM-3 debounce, ms (default 10 min). */
  debounceMs?: () => number;
}

export const DEFAULT_DEBOUNCE_MS = 10 * 60_000;

interface Change {
  holds: boolean;
  sn: string | null;
  source: string;
  type: AlarmType;
  value: number | null;
  threshold: number | null;
  detail: string | null;
  at: number;
}

/** The worst value seen while active: the highest gas for HIGH, the lowest for LOW and LOW_BAT. */
function worse(type: string, a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  if (type === 'HIGH') return Math.max(a, b);
  if (type === 'LOW' || type === 'LOW_BAT') return Math.min(a, b);
  return b;
}

export function createAlarmEngine(deps: AlarmEngineDeps) {
  const { alarms, devices, bus, clock } = deps;
  const log = deps.log.child({ stage: 'alarms' });
  const rules = deps.rules ?? (() => DEFAULT_RULES);
  const debounceMs = deps.debounceMs ?? (() => DEFAULT_DEBOUNCE_MS);
  const active = new Map<string, AlarmRecord>();
  const activeTypes = new Map<string, Set<string>>();
  const unsubscribe: (() => void)[] = [];
  const keyOf = (source: string, type: string) => `${source}\u0000${type}`;

  function remember(record: AlarmRecord) {
    active.set(keyOf(record.source, record.type), record);
    if (!activeTypes.has(record.source)) activeTypes.set(record.source, new Set());
    activeTypes.get(record.source)!.add(record.type);
  }
  function forget(record: AlarmRecord) {
    active.delete(keyOf(record.source, record.type));
    activeTypes.get(record.source)?.delete(record.type);
  }

  /** Applies changes in one transaction, then tells the bus. */
  function apply(changes: Change[]): AlarmEvent[] {
    const applied: [AlarmEvent, Change][] = alarms.transaction(() => {
      const out: [AlarmEvent, Change][] = [];
      for (const change of changes) {
        const event = applyOne(change);
        if (event) out.push([event, change]);
      }
      return out;
    });
    const committedAt = clock.now();
    for (const [event, change] of applied) {
      bus.emit('alarm', event);
      // One line per alarm change (rare, never per reading); latency_ms is from the reading's
      // arrival to the committed record and its event (issue 3's alarm latency figure).
      const { id, type, source } = event.alarm;
      log.info({ kind: event.kind, id, type, source, latency_ms: committedAt - change.at }, 'alarm');
    }
    return applied.map(([event]) => event);
  }

  function applyOne(change: Change): AlarmEvent | null {
    const current = active.get(keyOf(change.source, change.type));
    if (change.holds) {
      if (current) {
        current.peak = worse(change.type, current.peak, change.value);
        return null;
      }
      const last = alarms.latest(change.source, change.type);
      const withinDebounce = last?.state === 'cleared' && change.at - (last.notified_at ?? last.triggered_at) < debounceMs();
      const record = withinDebounce
        ? alarms.reopen(last!.id, change.value, change.detail, change.at)
        : alarms.insert(change);
      remember(record);
      return { kind: withinDebounce ? 'repeat' : 'raised', alarm: record };
    }
    if (!current) return null;
    const record = alarms.clear(current.id, current.peak, change.at);
    forget(record);
    return { kind: 'cleared', alarm: record };
  }

  function onReadings(readings: ReadingEvent[]) {
    const changes: Change[] = [];
    const settings = rules(); // once per committed batch, not per reading
    for (const reading of readings) {
      const device = devices.get(reading.sn);
      if (!device) continue;
      const now = activeTypes.get(reading.sn) ?? NONE_ACTIVE;
      if (now.size === 0 && !mayRaise(device, reading, settings)) continue; // the common case, at 20k readings/s
      for (const c of evaluateReading(device, reading, now, settings)) {
        if (!c.holds && !now.has(c.type)) continue;
        changes.push({
          holds: c.holds, sn: reading.sn, source: reading.sn, type: c.type, value: c.value, threshold: c.threshold,
          detail: c.detail ?? null, at: reading.receivedAt,
        });
      }
    }
    if (changes.length) safely(() => apply(changes));
  }

  // OFFLINE changes are gathered until the current burst of events is over and applied in one
  // transaction: when a network outage drops 5,000 detectors (or they all come back), that is one
  // durable commit, not 5,000 fsyncs blocking the event loop.
  let statusChanges: Change[] = [];
  let statusFlush: NodeJS.Immediate | null = null;

  function onDeviceStatus(event: DeviceStatusEvent) {
    if (!devices.get(event.sn)) return;
    statusChanges.push({
      holds: event.status === 'offline', sn: event.sn, source: event.sn, type: 'OFFLINE', value: null, threshold: null,
      detail: event.status === 'offline' ? event.reason : null, at: event.ts,
    });
    statusFlush ??= setImmediate(flushStatusChanges);
  }

  function flushStatusChanges() {
    if (statusFlush) clearImmediate(statusFlush);
    statusFlush = null;
    const changes = statusChanges;
    statusChanges = [];
    if (changes.length) safely(() => apply(changes));
  }

  /** Alarm processing must never break ingestion: a failure is logged and the next batch retried. */
  function safely(fn: () => void) {
    try {
      fn();
    } catch (err) {
      log.error({ err }, 'alarm evaluation failed');
    }
  }

  return {
    start() {
      for (const record of alarms.active()) remember(record);
      unsubscribe.push(
        bus.on('readings', onReadings),
        // LIC-4: readings not stored while the license is locked are still evaluated, so alarm states
        // stay true on the kiosk (stored ones arrive through 'readings' above, once).
        bus.on('live_readings', (live) => {
          if (!live.stored) onReadings(live.readings);
        }),
        bus.on('device_status', onDeviceStatus),
      );
    },
    stop() {
      for (const off of unsubscribe.splice(0)) off();
      flushStatusChanges();
    },
    /** Applies the gathered OFFLINE changes now (tests; stop() does it too). */
    flushStatusChanges,
    /** The active alarms, as the kiosk and the health check see them. */
    active: (): AlarmRecord[] => [...active.values()],
    /** System alarms (disk, archive, license, channel) go through the same lifecycle. */
    raiseSystem(type: SystemAlarmType, source: string, detail: string, value: number | null = null): AlarmEvent[] {
      return apply([{ holds: true, sn: null, source, type, value, threshold: null, detail, at: clock.now() }]);
    },
    clearSystem(type: SystemAlarmType, source: string): AlarmEvent[] {
      return apply([{ holds: false, sn: null, source, type, value: null, threshold: null, detail: null, at: clock.now() }]);
    },
    /** ALM-2/ALM-7: acknowledges one or many (independent of clearing); returns what changed. */
    acknowledge(ids: number[], by: string, comment: string): AlarmRecord[] {
      const changed = alarms.acknowledge(ids, by, comment, clock.now());
      for (const record of changed) {
        if (record.state === 'active') remember(record);
        bus.emit('alarm', { kind: 'acknowledged', alarm: record });
      }
      return changed;
    },
  };
}
export type AlarmEngine = ReturnType<typeof createAlarmEngine>;
