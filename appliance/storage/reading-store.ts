// The write side of readings: batch insert (one transaction per group commit, ING-6) and the
// 1-minute / 1-hour roll-ups (STO-3). Runs on the writer thread's own connection; synchronous.
import type { AlarmEvent, DeviceConditionType, SystemAlarmType } from '../contract/alarm.ts';
import type { Db } from './db.ts';
import * as R from './reading-row.ts';
import { createDeviceRepository } from './devices.ts';
import { createPendingRepository } from './pending.ts';
import { createUplinkLog } from './uplink-log.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** STO-4: rows one deletion transaction removes at most (some 100 kB of WAL): see deleteRange. */
export const DELETE_CHUNK_ROWS = 2000;
/** Readings may arrive a little late; a minute is final this long after it ends. */
export const ROLLUP_GRACE_MS = 60_000;

export interface RollupResult {
  minuteWatermark: number;
  hourWatermark: number;
  minuteBuckets: number;
  hourBuckets: number;
  /** false: more is due; call again. */
  caughtUp: boolean;
}

/** Readings rolled up per call: 10 minutes of 1,000 devices at 10 s is 60k rows, ~0.1 s. */
export const DEFAULT_ROLLUP_SPAN_MS = 10 * MINUTE;

/** Small state changes that ride along in the next group commit instead of taking the write lock
 *  on the main thread (where waiting for it would stall the event loop). */
export type WriterUpdate =
  | { op: 'status'; sn: string; status: 'online' | 'offline'; lastSeen: number | null; reason: string; at: number }
  | { op: 'pending'; sn: string; ts: number; messages: number; payload: string | null; remote: string | null }
  /** A system condition (disk, archive, license, channel) holds or stopped holding (ALM-1). */
  | { op: 'system'; type: SystemAlarmType; source: string; holds: boolean; detail: string | null; value: number | null; at: number }
  /** A condition of one device that no reading decides (issue 15: calibration due, exposure): the record is the device's. */
  | { op: 'device'; type: DeviceConditionType; sn: string; holds: boolean; detail: string | null; value: number | null; at: number };

/** `inserted[i]` of a batch: stored, a duplicate already stored (ING-4), or refused (not stored, not acknowledged). */
export const STORED = 1;
export const DUPLICATE = 0;
export const REFUSED = 2;

/**
 * What a batch commits besides its rows, in the same transaction (ALM-8: the alarm lifecycle,
 * wired by writer-core.ts). `stored` may throw an error carrying `readingIndex` to refuse that
 * one reading: the batch is then written again without it.
 */
export interface BatchConsequences {
  begin(): void;
  stored(rows: Float64Array, offset: number, index: number): void;
  /** A reading refused REFUSE_LIMIT times in a row is stored anyway, its consequences said to have failed. */
  storedUnjudged(rows: Float64Array, offset: number, reason: string): void;
  /** After the store applied an update; `known`: a status update found its device. */
  update(update: WriterUpdate, known: boolean): void;
  committed(): AlarmEvent[];
  discard(): void;
}

export interface BatchResult {
  inserted: Uint8Array;
  events: AlarmEvent[];
  /** Readings refused in this batch, with why (logged and counted by the main thread). */
  refusals: { snId: number; reason: string; storedAnyway: boolean }[];
}

/** How often a device's reading may be refused before it is stored with a FAULT instead (ALM-8). */
export const REFUSE_LIMIT = 3;

const NO_CONSEQUENCES: BatchConsequences = {
  begin() {}, stored() {}, storedUnjudged() {}, update() {}, committed: () => [], discard() {},
};

function refusedIndex(err: unknown): number | null {
  const index = (err as { readingIndex?: unknown } | null)?.readingIndex;
  return typeof index === 'number' ? index : null;
}

export function createReadingStore(db: Db, consequences: BatchConsequences = NO_CONSEQUENCES) {
  const devices = createDeviceRepository(db);
  const pending = createPendingRepository(db);
  const uplinkLog = createUplinkLog(db); // issue 17: the batch's keys for the cloud targets, same transaction
  const insert = db.prepare(
    'INSERT OR IGNORE INTO readings (sn_id, ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
  );
  const getWatermark = db.prepare<[string], { watermark: number }>('SELECT watermark FROM rollup_state WHERE name = ?');
  const setWatermark = db.prepare<[string, number]>(
    'INSERT INTO rollup_state (name, watermark) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET watermark = excluded.watermark',
  );
  const minuteRange = db.prepare<[number, number]>(`
    INSERT OR REPLACE INTO readings_1m (sn_id, ts, n, ppm_min, ppm_max, ppm_sum)
    SELECT sn_id, ts / 60000 * 60000, count(*), min(ppm), max(ppm), sum(ppm) FROM readings
    WHERE sn_id IN (SELECT id FROM serials) AND ts >= ? AND ts < ? GROUP BY sn_id, ts / 60000`);
  const minuteOne = db.prepare<[number, number, number]>(`
    INSERT OR REPLACE INTO readings_1m (sn_id, ts, n, ppm_min, ppm_max, ppm_sum)
    SELECT sn_id, ts / 60000 * 60000, count(*), min(ppm), max(ppm), sum(ppm) FROM readings
    WHERE sn_id = ? AND ts >= ? AND ts < ? GROUP BY sn_id`);
  const hourRange = db.prepare<[number, number]>(`
    INSERT OR REPLACE INTO readings_1h (sn_id, ts, n, ppm_min, ppm_max, ppm_sum)
    SELECT sn_id, ts / 3600000 * 3600000, sum(n), min(ppm_min), max(ppm_max), sum(ppm_sum) FROM readings_1m
    WHERE sn_id IN (SELECT id FROM serials) AND ts >= ? AND ts < ? GROUP BY sn_id, ts / 3600000`);
  const hourOne = db.prepare<[number, number, number]>(`
    INSERT OR REPLACE INTO readings_1h (sn_id, ts, n, ppm_min, ppm_max, ppm_sum)
    SELECT sn_id, ts / 3600000 * 3600000, sum(n), min(ppm_min), max(ppm_max), sum(ppm_sum) FROM readings_1m
    WHERE sn_id = ? AND ts >= ? AND ts < ? GROUP BY sn_id`);

  // Minute buckets that received readings after they were rolled up (migration 002).
  const markLate = db.prepare<[number, number]>('INSERT OR IGNORE INTO rollup_dirty (sn_id, ts) VALUES (?, ?)');
  const lateMinutes = db.prepare<[], { sn_id: number; ts: number }>('SELECT sn_id, ts FROM rollup_dirty');
  const clearLate = db.prepare('DELETE FROM rollup_dirty');
  let minuteWatermark = getWatermark.get('1m')?.watermark ?? 0;

  const upsertLatest = db.prepare(`
    INSERT INTO latest_readings (sn_id, ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT (sn_id) DO UPDATE SET ts = excluded.ts, v_raw = excluded.v_raw, ppm = excluded.ppm,
      temp = excluded.temp, humi = excluded.humi, bat = excluded.bat, rssi = excluded.rssi, seq = excluded.seq,
      err = excluded.err, flags = excluded.flags, recv_delta = excluded.recv_delta
    WHERE excluded.ts >= latest_readings.ts`);
  /** The newest row of each device within the batch being written: sn_id → [ts, ...values, recv_delta]. */
  const newestInBatch = new Map<number, (number | null)[]>();

  const storedSeq = db.prepare<[number, number], { seq: number }>('SELECT seq FROM readings WHERE sn_id = ? AND ts = ?');

  /**
   * Inserts one packed row; returns 0 for a duplicate. A key already taken by a *different*
   * reading (same device and millisecond, e.g. a server-time key of a skewed clock meeting a
   * device-time key) moves this reading to the next free millisecond: acknowledged readings are
   * never dropped as duplicates unless they are one (same key and seq, ING-4).
   */
  function insertRow(rows: Float64Array, o: number): number {
    const snId = rows[o + R.F_SN_ID];
    const seq = rows[o + R.F_SEQ];
    const skewed = (rows[o + R.F_FLAGS] & R.FLAG_CLOCK_SKEW) !== 0;
    const humi = rows[o + R.F_HUMI];
    const values = [
      R.toScaled(rows[o + R.F_V_RAW]),
      R.toScaled(rows[o + R.F_PPM]),
      R.toScaled(rows[o + R.F_TEMP]),
      Number.isNaN(humi) ? null : R.toScaled(humi),
      Math.round(rows[o + R.F_BAT]),
      Math.round(rows[o + R.F_RSSI]),
      seq,
      rows[o + R.F_ERR],
      rows[o + R.F_FLAGS],
    ];
    const received = rows[o + R.F_RECEIVED];
    for (let ts = rows[o + R.F_TS], attempt = 0; attempt < 1000; ts++, attempt++) {
      if (insert.run(snId, ts, ...values, received - ts).changes) {
        if (ts < minuteWatermark) markLate.run(snId, ts - (ts % MINUTE));
        uplinkLog.stored(snId, ts, received);
        const newest = newestInBatch.get(snId);
        if (!newest || (newest[0] as number) <= ts) newestInBatch.set(snId, [ts, ...values, received - ts]);
        return 1;
      }
      if (!skewed && storedSeq.get(snId, ts)?.seq === seq) return 0;
    }
    throw new Error(`no free reading time for device ${snId} near ${rows[o + R.F_TS]}`);
  }

  /** How often each refused reading (sn_id:ts) was refused; forgotten once it is stored. */
  const refusalsOf = new Map<string, number>();
  const MAX_TRACKED_REFUSALS = 10_000;
  const readingKey = (rows: Float64Array, index: number) => `${rows[index * R.ROW_FIELDS + R.F_SN_ID]}:${rows[index * R.ROW_FIELDS + R.F_TS]}`;

  const insertBatch = db.transaction(
    (rows: Float64Array, count: number, inserted: Uint8Array, updates: WriterUpdate[], refused: Set<number>, unjudged: Map<number, string>) => {
      newestInBatch.clear(); // nothing of a rolled-back batch may reach latest_readings
      consequences.begin();
      uplinkLog.begin();
      for (const update of updates) {
        let known = true;
        if (update.op === 'status') {
          known = devices.setStatus(update.sn, update.status, update.lastSeen);
          if (known) uplinkLog.deviceStatus(update.sn, update.status, update.at);
        }
        else if (update.op === 'pending') pending.record(update);
        consequences.update(update, known);
      }
      for (let i = 0; i < count; i++) {
        const o = i * R.ROW_FIELDS;
        if (refused.has(i)) {
          inserted[i] = REFUSED;
          continue;
        }
        inserted[i] = insertRow(rows, o);
        if (inserted[i] !== STORED) continue;
        const reason = unjudged.get(i);
        if (reason === undefined) consequences.stored(rows, o, i);
        else consequences.storedUnjudged(rows, o, reason);
      }
      for (const [snId, row] of newestInBatch) upsertLatest.run(snId, ...row);
      uplinkLog.end();
    },
  );

  /**
   * ING-6 + ALM-8: the batch's rows and their consequences in one IMMEDIATE transaction. A reading
   * whose consequences cannot be worked out is refused (not stored, not acknowledged: the detector
   * resends it) and the rest written again without it; refused REFUSE_LIMIT times in a row, it is
   * stored with a FAULT saying so, so that one bad reading never blocks its device for good. Any
   * other failure (disk full, I/O) fails the whole batch: nothing is acknowledged.
   */
  function writeBatch(rows: Float64Array, count: number, updates: WriterUpdate[]): BatchResult {
    const inserted = new Uint8Array(count);
    const refused = new Set<number>();
    const unjudged = new Map<number, string>();
    const refusals: BatchResult['refusals'] = [];
    for (;;) {
      try {
        insertBatch.immediate(rows, count, inserted, updates, refused, unjudged);
      } catch (err) {
        consequences.discard();
        const index = refusedIndex(err);
        if (index === null || refused.has(index) || unjudged.has(index)) throw err;
        const snId = rows[index * R.ROW_FIELDS + R.F_SN_ID];
        const key = readingKey(rows, index);
        const times = (refusalsOf.get(key) ?? 0) + 1;
        if (refusalsOf.size >= MAX_TRACKED_REFUSALS) refusalsOf.clear();
        refusalsOf.set(key, times);
        const reason = (err as Error).message;
        if (times >= REFUSE_LIMIT) unjudged.set(index, reason);
        else refused.add(index);
        refusals.push({ snId, reason, storedAnyway: times >= REFUSE_LIMIT });
        continue;
      }
      const events = consequences.committed();
      for (const index of unjudged.keys()) refusalsOf.delete(readingKey(rows, index));
      if (refusalsOf.size) forgetStored(rows, count, inserted);
      return { inserted, events, refusals };
    }
  }

  /** A refused reading that is finally stored (its evaluation worked on a resend) is forgotten. */
  function forgetStored(rows: Float64Array, count: number, inserted: Uint8Array) {
    for (let i = 0; i < count; i++) if (inserted[i] === STORED) refusalsOf.delete(readingKey(rows, i));
  }

  /** Where a roll-up with no watermark yet starts: the oldest row, found with one seek per serial. */
  const oldestIn = (table: 'readings' | 'readings_1m') =>
    db.prepare<[], { ts: number | null }>(
      `SELECT min((SELECT min(ts) FROM ${table} WHERE sn_id = s.id)) AS ts FROM serials s`,
    );
  const oldestReading = oldestIn('readings');
  const oldestMinute = oldestIn('readings_1m');

  function rollupMinutes(target: number, maxSpanMs: number): { buckets: number; lateHours: Set<string> } {
    const lateHours = new Set<string>();
    let buckets = 0;
    let from = minuteWatermark || (oldestReading.get()?.ts ?? target);
    from -= from % MINUTE;
    const upTo = Math.min(target, from + maxSpanMs);
    if (upTo > from) buckets += minuteRange.run(from, upTo).changes;
    for (const { sn_id: snId, ts: start } of lateMinutes.all()) {
      buckets += minuteOne.run(snId, start, start + MINUTE).changes;
      lateHours.add(`${snId}:${start - (start % HOUR)}`);
    }
    clearLate.run();
    if (upTo > minuteWatermark) {
      minuteWatermark = upTo;
      setWatermark.run('1m', upTo);
    }
    return { buckets, lateHours };
  }

  function rollupHours(lateHours: Set<string>, maxSpanMs: number): { buckets: number; watermark: number } {
    const target = minuteWatermark - (minuteWatermark % HOUR);
    const current = getWatermark.get('1h')?.watermark ?? 0;
    let buckets = 0;
    for (const key of lateHours) {
      const [snId, start] = key.split(':').map(Number);
      if (start < current) buckets += hourOne.run(snId, start, start + HOUR).changes;
    }
    let from = current || (oldestMinute.get()?.ts ?? target);
    from -= from % HOUR;
    const upTo = Math.min(target, from + Math.max(HOUR, maxSpanMs * 60));
    if (upTo > current && upTo > from) {
      buckets += hourRange.run(from, upTo).changes;
      setWatermark.run('1h', upTo);
    }
    return { buckets, watermark: Math.max(upTo, current) };
  }

  const deleteRange = db.prepare<[number, number, number, number]>(
    'DELETE FROM readings WHERE sn_id = ? AND ts >= ? AND ts < ? AND ts + recv_delta < ?',
  );
  /** Where a deletion's chunk ends: the time of the reading DELETE_CHUNK_ROWS on (none: the range's end). */
  const chunkEnd = db.prepare<[number, number, number], number>(
    `SELECT ts FROM readings WHERE sn_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT 1 OFFSET ${DELETE_CHUNK_ROWS}`,
  ).pluck();

  const pruneMinutes = db.prepare<[number, number]>('DELETE FROM readings_1m WHERE sn_id = ? AND ts < ?');
  const pruneHours = db.prepare<[number, number]>('DELETE FROM readings_1h WHERE sn_id = ? AND ts < ?');

  return {
    /** STO-3 roll-up retention: one device's buckets older than `before`, one short transaction. */
    pruneRollup(table: 'readings_1m' | 'readings_1h', snId: number, before: number): number {
      const statement = table === 'readings_1m' ? pruneMinutes : pruneHours;
      return db.transaction(() => statement.run(snId, before).changes).immediate();
    },
    /** OPS-2 nightly maintenance on the writer's connection: planner statistics, then a WAL reset. */
    maintenance(): { optimized: boolean; checkpoint: unknown } {
      db.pragma('optimize');
      const checkpoint = db.pragma('wal_checkpoint(TRUNCATE)');
      return { optimized: true, checkpoint: (checkpoint as unknown[])[0] ?? null };
    },
    /**
     * ARC-2 / STO-4: deletes one device's rows in [from, to) received before `receivedBefore` — the
     * exact set an archive export took — in transactions of DELETE_CHUNK_ROWS rows at most, with
     * `between()` (the writer's WAL bound) after each. As one transaction, a device's day or the
     * disk guard's prune wrote more than 1 MB of WAL at once, unlooked-at: on the 20 MB test disk
     * the WAL reached 3.1 MB, past its whole reserve, while the guard was freeing space.
     */
    deleteRange(snId: number, from: number, to: number, receivedBefore: number, between: () => void = () => {}): number {
      let deleted = 0;
      for (let start = from; start < to;) {
        // The key (sn_id, ts) is unique, so the chunk's end lies past its start: each round progresses.
        const end = chunkEnd.get(snId, start, to) ?? to;
        deleted += db.transaction(() => deleteRange.run(snId, start, end, receivedBefore).changes).immediate();
        start = end;
        between();
      }
      return deleted;
    },
    /** Inserts a batch and its consequences in one transaction; `inserted[i]`: STORED, DUPLICATE or REFUSED. */
    writeBatch: (rows: Float64Array, count: number, updates: WriterUpdate[] = []): BatchResult => writeBatch(rows, count, updates),
    /** Small alarm writes (acknowledgements) between batches, in their own IMMEDIATE transaction. */
    transact(apply: () => void): AlarmEvent[] {
      try {
        db.transaction(() => {
          consequences.begin();
          apply();
        }).immediate();
      } catch (err) {
        consequences.discard();
        throw err;
      }
      return consequences.committed();
    },
    /**
     * Rolls up the minutes that ended at least ROLLUP_GRACE_MS before `now`, then the hours — at
     * most `maxSpanMs` of readings per call, so a backlog (first start on a full store, days
     * offline) never holds the write lock long; call again until `caughtUp`.
     */
    rollupStep(now: number, maxSpanMs = DEFAULT_ROLLUP_SPAN_MS): RollupResult {
      const target = now - ROLLUP_GRACE_MS - ((now - ROLLUP_GRACE_MS) % MINUTE);
      return db.transaction(() => {
        const minutes = rollupMinutes(target, maxSpanMs);
        const hours = rollupHours(minutes.lateHours, maxSpanMs);
        return {
          minuteWatermark,
          hourWatermark: hours.watermark,
          minuteBuckets: minutes.buckets,
          hourBuckets: hours.buckets,
          caughtUp: minuteWatermark >= target && hours.watermark >= target - (target % HOUR),
        };
      }).immediate();
    },
    /** All roll-ups due at `now`, in bounded steps (for callers that own the connection alone). */
    rollup(now: number): RollupResult {
      for (;;) {
        const result = this.rollupStep(now);
        if (result.caughtUp) return result;
      }
    },
  };
}
export type ReadingStore = ReturnType<typeof createReadingStore>;
