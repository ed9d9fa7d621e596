// The writer thread's work, on its one connection (writer-worker.ts runs it; tests run it alone):
// the reading store, and the alarm lifecycle with its notification policy as the consequences
// committed with each batch (ALM-8), and the reconciliation at start. This is where the flow's
// stages meet in one transaction, so it composes them: the reading store (storage), the alarm
// lifecycle (alarms) and the notification policy (notify).
import { createAlarmLifecycle, EvaluationError, type StoredReading } from '../alarms/lifecycle.ts';
import { linkageOrders } from '../alarms/linkage.ts';
import type { AlarmCommitSettings, AlarmEvent } from '../contract/alarm.ts';
import type { OpenMask } from '../contract/masking.ts';
import { channelsFor } from '../notify/policy.ts';
import { createAlarmWriteRepository } from './alarms.ts';
import type { Db } from './db.ts';
import { createMaskRepository } from './masks.ts';
import { createReadingStore, type BatchConsequences, type WriterUpdate } from './reading-store.ts';
import * as R from './reading-row.ts';

export interface WriterCoreOptions {
  /** The alarm settings to start with (reconciliation); later ones come with batches. */
  alarmSettings: AlarmCommitSettings;
  /** Test hook: the evaluation of this device's readings throws `times` times. */
  failEvaluation?: { sn: string; times: number };
}

/** The writer's work on its connection: readings and their alarm consequences, synchronously. */
export function createWriterCore(db: Db, options: WriterCoreOptions) {
  let settings: AlarmCommitSettings = options.alarmSettings;
  const injected = options.failEvaluation ? { ...options.failEvaluation } : null;
  // Issue 15.1: the open masks, as committed (the map changes only after the transaction that made it).
  const maskRepo = createMaskRepository(db);
  const masks = new Map<string, OpenMask>(maskRepo.open().map((mask) => [mask.sn, mask]));
  const lifecycle = createAlarmLifecycle({
    masks: {
      maskOf: (source, at) => {
        const mask = masks.get(source);
        return mask && at < mask.until ? mask : undefined;
      },
      owedNotification: maskRepo.owedNotification,
      raisedUnderMask: maskRepo.raisedUnderMask, // issue 15.1: a masked detector's linkage
    },
    repo: createAlarmWriteRepository(db),
    settings: () => settings,
    channelsFor: (event) => channelsFor(event, settings.notify),
    linkageFor: (event, levelOf) => linkageOrders(event, settings.linkage, levelOf), // issue 15.5
    beforeEvaluate: injected
      ? (sn) => {
          if (sn === injected.sn && injected.times > 0) {
            injected.times--;
            throw new Error('injected evaluation failure (test hook)');
          }
        }
      : undefined,
  });

  // Readings are keyed by sn_id; the rules speak of serials.
  const serialOf = db.prepare<[number], string>('SELECT sn FROM serials WHERE id = ?').pluck();
  const serials = new Map<number, string>();
  function snOf(snId: number): string {
    let sn = serials.get(snId);
    if (sn === undefined) {
      sn = serialOf.get(snId) ?? `#${snId}`;
      serials.set(snId, sn);
    }
    return sn;
  }

  // One object reused for every reading: the hot path allocates nothing (lifecycle.reading only
  // reads it during the call).
  const scratch: StoredReading = { sn: '', ts: 0, at: 0, ppm: 0, bat: 0, err: 0, overrange: false, limits: { high_limit: null, high2_limit: null, low_limit: null } };
  function storedReading(rows: Float64Array, o: number): StoredReading {
    scratch.sn = snOf(rows[o + R.F_SN_ID]);
    scratch.ts = rows[o + R.F_TS];
    scratch.at = rows[o + R.F_RECEIVED];
    scratch.ppm = rows[o + R.F_PPM];
    scratch.bat = rows[o + R.F_BAT];
    scratch.err = rows[o + R.F_ERR];
    scratch.overrange = (rows[o + R.F_FLAGS] & R.FLAG_OVERRANGE) !== 0;
    scratch.limits.high_limit = R.limitOrNull(rows[o + R.F_HIGH]);
    scratch.limits.low_limit = R.limitOrNull(rows[o + R.F_LOW]);
    scratch.limits.high2_limit = R.limitOrNull(rows[o + R.F_HIGH2]);
    return scratch;
  }

  const alarmConsequences: BatchConsequences = {
    begin: () => lifecycle.begin(),
    stored: (rows, o, index) => lifecycle.reading(storedReading(rows, o), index),
    storedUnjudged: (rows, o, reason) => lifecycle.unevaluated(snOf(rows[o + R.F_SN_ID]), reason, rows[o + R.F_RECEIVED]),
    update(update, known) {
      if (update.op === 'status' && known) lifecycle.presence(update.sn, update.status, update.reason, update.at);
      else if (update.op === 'system') lifecycle.system(update.type, update.source, update.holds, update.detail, update.value, update.at);
      else if (update.op === 'device') lifecycle.device(update.type, update.sn, update.holds, update.detail, update.value, update.at);
    },
    committed: () => lifecycle.committed(),
    discard: () => lifecycle.discard(),
  };
  const store = createReadingStore(db, alarmConsequences);

  /**
   * ALM-8 reconciliation at start: every device's latest stored reading is judged against the active
   * alarms, so a reading committed without its alarm (a database from before ALM-8, or any future
   * bug) is alarmed now. A device whose reading cannot be judged gets the FAULT that says so.
   */
  function reconcile(): { events: AlarmEvent[]; failures: string[] } {
    const latest = db.prepare<[], { sn: string; ts: number; recv_delta: number; ppm: number; bat: number; err: number; flags: number; high_limit: number | null; high2_limit: number | null; low_limit: number | null }>(`
      SELECT d.sn, l.ts, l.recv_delta, l.ppm, l.bat, l.err, l.flags, d.high_limit, d.high2_limit, d.low_limit
      FROM devices d JOIN latest_readings l ON l.sn_id = d.sn_id WHERE d.enabled = 1`).all();
    const failures: string[] = [];
    const events = store.transact(() => {
      for (const row of latest) {
        const reading: StoredReading = {
          sn: row.sn, ts: row.ts, at: row.ts + row.recv_delta, ppm: R.fromScaled(row.ppm), bat: row.bat, err: row.err,
          overrange: (row.flags & R.FLAG_OVERRANGE) !== 0, limits: { high_limit: row.high_limit, high2_limit: row.high2_limit, low_limit: row.low_limit },
        };
        try {
          lifecycle.reading(reading, -1);
        } catch (err) {
          if (!(err instanceof EvaluationError)) throw err;
          failures.push(err.message);
          lifecycle.unevaluated(row.sn, err.message, reading.at);
        }
      }
    });
    return { events, failures };
  }

  return {
    store,
    /** ALM-8 reconciliation at start. */
    reconcile,
    /** Alarm settings sent with a batch (they changed on the main thread). */
    useSettings(next: AlarmCommitSettings) {
      settings = next;
    },
    writeBatch: (rows: Float64Array, count: number, updates: WriterUpdate[]) => {
      const { inserted, events, refusals } = store.writeBatch(rows, count, updates);
      return { inserted, events, refused: refusals.map(({ snId, reason, storedAnyway }) => ({ sn: snOf(snId), reason, storedAnyway })) };
    },
    /**
     * Issue 15.1: masks these detectors until `until` (a detector already masked gets the new
     * mask in place of the old), journaled on their active alarms; the masks and the events.
     */
    mask(sns: string[], reason: string, by: string, at: number, until: number): { masks: OpenMask[]; events: AlarmEvent[] } {
      const made: OpenMask[] = [];
      const events = store.transact(() => {
        made.length = 0;
        for (const sn of sns) {
          const old = masks.get(sn);
          if (old) maskRepo.end(old.id, at, by, 'replaced');
          const mask = maskRepo.insert(sn, reason, by, at, until);
          made.push(mask);
          lifecycle.masked(mask, at);
        }
      });
      for (const mask of made) masks.set(mask.sn, mask);
      return { masks: made, events };
    },
    /**
     * Issue 15.1: ends masks — these detectors' (by hand), or with `sns` null every mask whose
     * `until` is at or before `at` (expired) — and queues what they held back from alarms still
     * active, in one transaction. The masks ended and the events.
     */
    unmask(sns: string[] | null, by: string, at: number): { ended: OpenMask[]; events: AlarmEvent[] } {
      const ending = sns === null
        ? [...masks.values()].filter((mask) => mask.until <= at)
        : sns.flatMap((sn) => masks.get(sn) ?? []);
      const why = sns === null ? 'expired' : 'unmasked';
      if (!ending.length) return { ended: [], events: [] };
      const events = store.transact(() => {
        for (const mask of ending) {
          maskRepo.end(mask.id, at, by, why);
          lifecycle.unmasked(mask.sn, by, why, at);
        }
      });
      for (const mask of ending) if (masks.get(mask.sn)?.id === mask.id) masks.delete(mask.sn);
      return { ended: ending, events };
    },
    /** GB 16808 消音: the journal entries of a silence in their own transaction; how many. */
    silence(ids: number[], by: string, at: number): number {
      let count = 0;
      store.transact(() => (count = lifecycle.silence(ids, by, at)));
      return count;
    },
    /** ALM-2/ALM-7 acknowledgement in its own transaction; the events of what changed. */
    acknowledge: (ids: number[], by: string, comment: string, at: number): AlarmEvent[] =>
      store.transact(() => lifecycle.acknowledge(ids, by, comment, at)),
  };
}
export type WriterCore = ReturnType<typeof createWriterCore>;
