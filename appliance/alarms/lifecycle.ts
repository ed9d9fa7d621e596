// ALM-2, ALM-3, ALM-8: the alarm lifecycle, run where readings are committed — on the writer
// thread, inside the group commit's transaction. A reading, the alarm transitions it causes (raise,
// repeat, peak, clear) and their notification outbox rows commit together, so a PUBACK means the
// reading *and* its alarm consequences are durable. Readings of a batch are judged in order, each
// against the state the one before left. What a transaction changes is staged and reaches the
// in-memory state only once it committed (`committed()`); a rolled-back transaction leaves memory
// as the database is (`discard()`). The rules themselves stay pure (rules.ts, notify/policy.ts).
import { priorityOf, type AlarmCommitSettings, type AlarmEvent, type AlarmEventKind, type AlarmRecord, type DeviceConditionType, type SystemAlarmType } from '../contract/alarm.ts';
import type { OpenMask } from '../contract/masking.ts';
import type { AlarmWriteRepository } from '../storage/alarms.ts';
import { evaluateReading, mayRaise, type AlarmType, type LimitsOf, type ReadingFacts } from './rules.ts';

/** What the lifecycle reads of the commit settings: rules (ALM-1), debounce (ALM-3), priorities (ALM-10). */
export type AlarmLifecycleSettings = Pick<AlarmCommitSettings, 'rules' | 'debounceMs' | 'priorities'>;

/** One stored reading as the rules see it. */
export interface StoredReading extends ReadingFacts {
  sn: string;
  /** Reading time (ordering), UTC ms. */
  ts: number;
  /** Server receive time: when its alarm happened, UTC ms. */
  at: number;
  limits: LimitsOf;
}

/** A reading's evaluation threw (a bug, or the test hook): the reading is not acknowledged. */
export class EvaluationError extends Error {
  constructor(
    readonly sn: string,
    readonly readingIndex: number,
    cause: unknown,
  ) {
    super(`alarm evaluation of ${sn} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export interface AlarmLifecycleDeps {
  repo: AlarmWriteRepository;
  settings: () => AlarmLifecycleSettings;
  /** ALM-4/ALM-5: the channels an event is sent to (notify/policy.ts), decided in the transaction. */
  channelsFor: (event: AlarmEvent) => readonly string[];
  /** Test hook: runs before each evaluation and may throw (an injected evaluation failure). */
  beforeEvaluate?: (sn: string) => void;
  /** Issue 15.5: the linkage actions an event starts (alarms/linkage.ts), given the HIGH levels now. */
  linkageFor?: (event: AlarmEvent, levelOf: (sn: string) => number | null) => readonly { channel: string; event: string }[];
  /**
   * Issue 15.1 (ISA-18.2 shelving): the mask of a source at a time — judged against its `until`,
   * so a mask past its time holds nothing back even before it is ended — and the notification a
   * mask held back from an alarm (storage/masks.ts).
   */
  masks?: {
    maskOf(source: string, at: number): OpenMask | undefined;
    owedNotification(alarmId: number): AlarmEventKind | null;
    /** The alarm's episode was raised under a mask not ended since (it does not count for linkage). */
    raisedUnderMask(alarmId: number): boolean;
  };
}

interface ActiveEntry {
  id: number;
  source: string;
  type: string;
  level: number | null;
  peak: number | null;
}

interface Change {
  holds: boolean;
  sn: string | null;
  source: string;
  type: AlarmType | DeviceConditionType;
  value: number | null;
  threshold: number | null;
  level: number | null;
  detail: string | null;
  at: number;
}

const NONE: ReadonlySet<string> = new Set();
const keyOf = (source: string, type: string) => `${source}\u0000${type}`;

/**
 * The worst value seen: the highest gas for HIGH, the lowest gas, battery or free space for LOW,
 * LOW_BAT and DISK. Types without a direction (FAULT codes, OFFLINE, …) keep their first value.
 */
export function worse(type: string, a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  if (type === 'HIGH') return Math.max(a, b);
  if (type === 'LOW' || type === 'LOW_BAT' || type === 'DISK') return Math.min(a, b);
  return a;
}

export function createAlarmLifecycle(deps: AlarmLifecycleDeps) {
  const { repo } = deps;
  // Committed state: what the database holds.
  const active = new Map<string, ActiveEntry>();
  const typesBySource = new Map<string, Set<string>>();
  const newestTs = new Map<string, number>();
  // This transaction's changes (null: no longer active).
  const staged = new Map<string, ActiveEntry | null>();
  const stagedSources = new Set<string>();
  const stagedNewest = new Map<string, number>();
  let events: AlarmEvent[] = [];
  let settings = deps.settings();

  for (const record of repo.active()) commitEntry(keyOf(record.source, record.type), entryOf(record));

  function entryOf(record: AlarmRecord): ActiveEntry {
    return { id: record.id, source: record.source, type: record.type, level: record.level, peak: record.peak };
  }

  function commitEntry(key: string, entry: ActiveEntry | null, previous = active.get(key)) {
    const source = entry?.source ?? previous?.source;
    const type = entry?.type ?? previous?.type;
    if (source === undefined || type === undefined) return;
    if (entry) {
      active.set(key, entry);
      if (!typesBySource.has(source)) typesBySource.set(source, new Set());
      typesBySource.get(source)!.add(type);
    } else {
      active.delete(key);
      const types = typesBySource.get(source);
      types?.delete(type);
      if (types?.size === 0) typesBySource.delete(source);
    }
  }

  const lookup = (key: string): ActiveEntry | undefined => (staged.has(key) ? (staged.get(key) ?? undefined) : active.get(key));

  /** The types active for a source now, this transaction's changes included. */
  function typesOf(source: string): ReadonlySet<string> {
    const committed = typesBySource.get(source) ?? NONE;
    if (!stagedSources.has(source)) return committed;
    const types = new Set(committed);
    for (const [key, entry] of staged) {
      const [ofSource, type] = key.split('\u0000');
      if (ofSource !== source) continue;
      if (entry) types.add(type);
      else types.delete(type);
    }
    return types;
  }

  function stage(key: string, source: string, entry: ActiveEntry | null) {
    staged.set(key, entry);
    stagedSources.add(source);
  }

  /** The event, its journal entry and its outbox rows, in the transaction of the change (ALM-8, ALM-12). */
  function emit(kind: AlarmEventKind, record: AlarmRecord, at: number, journalValue: number | null = record.value) {
    let alarm = record;
    repo.journal({ alarmId: alarm.id, at, kind, level: alarm.level, value: journalValue });
    // Issue 15.5: linkage actions (alarms/linkage.ts) commit with the change that starts them.
    // Issue 15.1 + GB 16808 屏蔽: an episode raised under a mask (a bump test) starts no control
    // output and counts toward no zone (linkage.ts, "Masked detectors").
    const mask = deps.masks?.maskOf(alarm.source, at);
    const counts = !mask || (kind !== 'raised' && kind !== 'repeat' && !deps.masks!.raisedUnderMask(alarm.id));
    if (counts) queueLinkage({ kind, alarm }, at, null);
    // Issue 15.1: a masked detector's alarms are recorded and journaled as masked, not notified;
    // what was held back is found again in the journal when the mask ends (unmasked()).
    if (mask) {
      if (kind !== 'peak') {
        repo.journal({ alarmId: alarm.id, at, kind: 'masked', level: alarm.level, actor: mask.masked_by, detail: `${kind}: not notified, masked until ${new Date(mask.until).toISOString()} (${mask.reason})` });
      }
      events.push({ kind, alarm });
      return;
    }
    const channels = deps.channelsFor({ kind, alarm });
    if (channels.length) {
      repo.enqueueNotifications(alarm.id, kind, channels, at);
      for (const channel of channels) repo.journal({ alarmId: alarm.id, at, kind: 'notification', actor: channel, detail: `${kind}: queued` });
      if (kind === 'raised' || kind === 'level') alarm = repo.markNotified(alarm.id, at);
    }
    events.push({ kind, alarm });
  }

  /**
   * Issue 15.5: the HIGH level a detector counts with toward its linkage zones now (this
   * transaction's changes included): none while a mask is in force over an episode raised under it.
   */
  function linkageLevelOf(sn: string, at: number): number | null {
    const entry = lookup(keyOf(sn, 'HIGH'));
    if (!entry) return null;
    return deps.masks?.maskOf(sn, at) && deps.masks.raisedUnderMask(entry.id) ? null : entry.level;
  }

  /** Queues and journals the linkage actions an event starts (ALM-8: in the transaction of the change). */
  function queueLinkage(event: AlarmEvent, at: number, note: string | null) {
    for (const order of deps.linkageFor?.(event, (sn) => linkageLevelOf(sn, at)) ?? []) {
      repo.enqueueNotifications(event.alarm.id, order.event, [order.channel], at);
      repo.journal({ alarmId: event.alarm.id, at, kind: 'linkage', actor: order.channel, detail: `${order.event}: queued${note ? ` (${note})` : ''}` });
    }
  }

  const priority = (type: string, level: number | null) => priorityOf(settings.priorities, type, level);

  function apply(change: Change) {
    const key = keyOf(change.source, change.type);
    const current = lookup(key);
    if (change.holds) {
      if (current) {
        let entry = current;
        // ALM-9: one episode whose level rises (and notifies again) and falls back.
        if (change.level !== current.level) {
          const record = repo.level(current.id, { level: change.level, threshold: change.threshold, priority: priority(change.type, change.level) }, change.at);
          entry = { ...entry, level: change.level };
          stage(key, change.source, entry);
          emit('level', record, change.at, change.value);
        }
        // ALM-8: the peak is the true extreme of the episode, stored as it grows.
        const peak = worse(change.type, entry.peak, change.value);
        if (peak === entry.peak || change.value === null) return;
        stage(key, change.source, { ...entry, peak });
        emit('peak', repo.peak(current.id, peak, change.at), change.at, peak);
        return;
      }
      const last = repo.latest(change.source, change.type);
      const repeat = last?.state === 'cleared' && change.at - (last.notified_at ?? last.triggered_at) < settings.debounceMs;
      const record = repeat
        ? repo.reopen(last!.id, {
          value: change.value, peak: worse(change.type, last!.peak, change.value), detail: change.detail,
          level: change.level, priority: priority(change.type, change.level), threshold: change.threshold,
        }, change.at)
        : repo.insert({ ...change, priority: priority(change.type, change.level) });
      stage(key, change.source, entryOf(record));
      emit(repeat ? 'repeat' : 'raised', record, change.at);
      return;
    }
    if (!current) return;
    stage(key, change.source, null);
    emit('cleared', repo.clear(current.id, change.at), change.at, change.value);
  }

  function begin() {
    staged.clear();
    stagedSources.clear();
    stagedNewest.clear();
    events = [];
    settings = deps.settings();
  }

  return {
    /** A transaction starts: whatever an earlier, failed attempt staged is gone. */
    begin,
    /** The transaction committed: memory follows the database; returns its events in order. */
    committed(): AlarmEvent[] {
      for (const [key, entry] of staged) commitEntry(key, entry);
      for (const [sn, ts] of stagedNewest) newestTs.set(sn, ts);
      const done = events;
      begin();
      return done;
    },
    /** The transaction rolled back: nothing of it stays in memory. */
    discard: begin,

    /**
     * ALM-1/ALM-2 for one stored reading. A reading older than one already judged for its device
     * (a late resend) may raise or worsen an alarm, never clear one a newer reading holds. The
     * reading is only read during the call (the writer passes one reused object).
     */
    reading(reading: StoredReading, index: number) {
      const types = typesOf(reading.sn);
      // The common case, tens of thousands of times a second: nothing active and nothing to raise.
      if (types.size === 0 && !deps.beforeEvaluate && !mayRaise(reading.limits, reading, settings.rules)) return;
      // Only a device with an alarm needs its newest judged time: a late reading may clear nothing.
      const newest = stagedNewest.get(reading.sn) ?? newestTs.get(reading.sn) ?? -Infinity;
      const late = reading.ts < newest;
      if (!late) stagedNewest.set(reading.sn, reading.ts);
      let conditions;
      try {
        deps.beforeEvaluate?.(reading.sn);
        conditions = evaluateReading(reading.limits, reading, types, settings.rules, lookup(keyOf(reading.sn, 'HIGH'))?.level ?? null);
      } catch (err) {
        throw new EvaluationError(reading.sn, index, err);
      }
      for (const c of conditions) {
        if (!c.holds && (late || !types.has(c.type))) continue;
        apply({
          holds: c.holds, sn: reading.sn, source: reading.sn, type: c.type, value: c.value, threshold: c.threshold,
          level: c.level ?? null, detail: c.detail ?? null, at: reading.at,
        });
      }
    },
    /**
     * A reading whose evaluation kept failing (ALM-8: it must not block its device forever): it is
     * stored, and a FAULT alarm says that its alarm rules could not be applied.
     */
    unevaluated(sn: string, reason: string, at: number) {
      apply({ holds: true, sn, source: sn, type: 'FAULT', value: null, threshold: null, level: null, detail: `alarm rules could not be applied: ${reason}`, at });
    },
    /** ING-7: OFFLINE from presence (Last Will, disconnect, timeout); cleared when the device is back. */
    presence(sn: string, status: 'online' | 'offline', reason: string, at: number) {
      const offline = status === 'offline';
      apply({ holds: offline, sn, source: sn, type: 'OFFLINE', value: null, threshold: null, level: null, detail: offline ? reason : null, at });
    },
    /** DISK, ARCHIVE, LICENSE, CHANNEL: system conditions through the same lifecycle (ALM-1). */
    system(type: SystemAlarmType, source: string, holds: boolean, detail: string | null, value: number | null, at: number) {
      apply({ holds, sn: null, source, type, value, threshold: null, level: null, detail, at });
    },
    /** CAL_DUE, CAL_OVERDUE, BUMP_DUE, EXPOSURE_*: a device's condition decided by a job, not a reading (issue 15). */
    device(type: DeviceConditionType, sn: string, holds: boolean, detail: string | null, value: number | null, at: number) {
      apply({ holds, sn, source: sn, type, value, threshold: null, level: null, detail, at });
    },
    /** ALM-2/ALM-7: acknowledgement, independent of clearing; records already acknowledged are left. */
    acknowledge(ids: readonly number[], by: string, comment: string, at: number) {
      for (const id of ids) {
        const record = repo.acknowledge(id, by, comment, at);
        if (!record) continue;
        repo.journal({ alarmId: id, at, kind: 'acknowledged', level: record.level, actor: by, detail: comment || null });
        events.push({ kind: 'acknowledged', alarm: record });
      }
    },
    /** Issue 15.1: a mask began: journaled on each alarm its detector has active (ALM-12). */
    masked(mask: OpenMask, at: number) {
      for (const type of typesOf(mask.sn)) {
        const entry = lookup(keyOf(mask.sn, type));
        if (!entry) continue;
        repo.journal({ alarmId: entry.id, at, kind: 'masked', level: entry.level, actor: mask.masked_by, detail: `masked until ${new Date(mask.until).toISOString()} (${mask.reason})` });
      }
    },
    /**
     * Issue 15.1: a mask ended (by hand or expired). Each alarm of the detector still active is
     * journaled, and the notification the mask held back is queued now, in this transaction, as
     * if it were raised at this moment (ALM-8: its outbox rows commit with the unmasking).
     */
    unmasked(sn: string, by: string, why: string, at: number) {
      for (const type of typesOf(sn)) {
        const entry = lookup(keyOf(sn, type));
        if (!entry) continue;
        const uncounted = type === 'HIGH' && (deps.masks?.raisedUnderMask(entry.id) ?? false);
        repo.journal({ alarmId: entry.id, at, kind: 'unmasked', level: entry.level, actor: by, detail: why });
        let alarm = repo.latest(sn, type);
        // Issue 15.5: an episode raised under the mask counts toward its zones from now on, as if
        // raised now: a rule it completes fires (GB 16808: the outputs follow once the point is back).
        if (uncounted && alarm?.id === entry.id) queueLinkage({ kind: 'raised', alarm }, at, `mask ${why}`);
        const owed = deps.masks?.owedNotification(entry.id) ?? null;
        if (!owed || !alarm || alarm.id !== entry.id) continue;
        // Never notified at all (a level that rose and fell under the mask included): it is raised now.
        const kind: AlarmEventKind = alarm.notified_at === null && owed !== 'repeat' ? 'raised' : owed;
        const channels = deps.channelsFor({ kind, alarm });
        if (!channels.length) continue;
        repo.enqueueNotifications(alarm.id, kind, channels, at);
        for (const channel of channels) repo.journal({ alarmId: alarm.id, at, kind: 'notification', actor: channel, detail: `${kind}: queued (mask ${why})` });
        if (kind === 'raised' || kind === 'level') alarm = repo.markNotified(alarm.id, at);
        events.push({ kind, alarm });
      }
    },
    /** GB 16808 消音: a kiosk silenced the sound of these alarms; recorded in their journals (ALM-12). */
    silence(ids: readonly number[], by: string, at: number): number {
      for (const id of ids) repo.journal({ alarmId: id, at, kind: 'silenced', actor: by });
      return ids.length;
    },
  };
}
export type AlarmLifecycle = ReturnType<typeof createAlarmLifecycle>;
