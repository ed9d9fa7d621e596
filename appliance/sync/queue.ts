// Issue 17 (SYNC-1..3, SYNC-6): the read side of the uplink's durable queue. Everything a target
// still has to receive is found from the committed tables and the target's cursors: the alarm
// journal (alarm lane), uplink_device_events (device lane) and the batch log (telemetry, live and
// backfill) — nothing is copied to be sent. Frames are built here as records of the documented
// payload (contract/uplink.ts); the sender (sync/sender.ts) decides which lane goes next.
// Reads run on the main connection in bounded frames, so a day of backlog never holds the event loop.
import type { Db } from '../storage/db.ts';
import { decodeKeys, type ReadingKey } from '../storage/uplink-log.ts';
import * as R from '../storage/reading-row.ts';
import type { AggregateRecord, AlarmRecord, DeviceRecord, GapRecord, ReadingRecord, UplinkRecord } from '../contract/uplink.ts';

const MINUTE = 60_000;

export interface UplinkCursor {
  target: string;
  journal_id: number;
  device_event_id: number;
  batch_id: number;
  live_from: number | null;
  live_batch_id: number | null;
  minute_ts: number | null;
  created_at: number;
  updated_at: number;
}

export interface BatchRow {
  id: number;
  at: number;
  n: number;
  ts_min: number;
  ts_max: number;
  keys: Buffer | null;
}

/** A built frame: its records, and how far in its lane it reaches once acknowledged. */
export interface BuiltFrame<R extends UplinkRecord = UplinkRecord> {
  records: R[];
  /** The last sequence (journal id, device event id, batch id, minute) the frame covers. */
  through: number;
  /** Readings the frame covers (telemetry), for the backlog tally and the rate budget. */
  readings: number;
  /** The oldest time recorded among them (for the lag). */
  oldestAt: number | null;
  /** SYNC-3: readings sent as aggregates, gap records made. */
  downsampled: number;
  gaps: number;
}

interface SerialInfo {
  sn: string;
  gas: string;
  unit: string;
}

export interface QueueOptions {
  boxId: () => string;
  /** SYNC-6: whether the box's clock was unsynchronised at this time (clock_unsynced spans). */
  clockUnsyncedAt: (at: number) => boolean;
}

export function createUplinkQueue(db: Db, options: QueueOptions) {
  const q = {
    cursor: db.prepare<[string], UplinkCursor>('SELECT * FROM uplink_cursors WHERE target = ?'),
    cursors: db.prepare<[], UplinkCursor>('SELECT * FROM uplink_cursors'),
    heads: db.prepare<[], { journal: number | null; device: number | null; batch: number | null }>(`
      SELECT (SELECT max(id) FROM alarm_journal) AS journal, (SELECT max(id) FROM uplink_device_events) AS device,
             (SELECT seq FROM sqlite_sequence WHERE name = 'uplink_batches') AS batch`),
    insertCursor: db.prepare(`INSERT OR IGNORE INTO uplink_cursors
      (target, journal_id, device_event_id, batch_id, live_from, live_batch_id, minute_ts, created_at, updated_at)
      VALUES (@target, @journal_id, @device_event_id, @batch_id, NULL, NULL, @minute_ts, @at, @at)`),
    saveCursor: db.prepare(`UPDATE uplink_cursors SET journal_id = @journal_id, device_event_id = @device_event_id,
      batch_id = @batch_id, live_from = @live_from, live_batch_id = @live_batch_id, minute_ts = @minute_ts, updated_at = @updated_at
      WHERE target = @target`),
    deleteCursor: db.prepare<[string]>('DELETE FROM uplink_cursors WHERE target = ?'),
    journal: db.prepare<[number, number], {
      id: number; alarm_id: number; at: number; kind: string; level: number | null; value: number | null; actor: string | null; detail: string | null;
      sn: string | null; source: string; type: string; priority: string; state: string; threshold: number | null; alarm_level: number | null;
    }>(`SELECT j.id, j.alarm_id, j.at, j.kind, j.level, j.value, j.actor, j.detail, a.sn, a.source, a.type, a.priority, a.state,
          a.threshold, a.level AS alarm_level
        FROM alarm_journal j JOIN alarms a ON a.id = j.alarm_id WHERE j.id > ? ORDER BY j.id LIMIT ?`),
    deviceEvents: db.prepare<[number, number], {
      id: number; sn: string; event: DeviceRecord['event']; at: number; name: string | null; location: string | null; gas: string | null;
      unit: string | null; enabled: number | null; high_limit: number | null; high2_limit: number | null; low_limit: number | null;
    }>(`SELECT e.id, e.sn, e.event, e.at, d.name, d.location, d.gas, d.unit, d.enabled, d.high_limit, d.high2_limit, d.low_limit
        FROM uplink_device_events e LEFT JOIN devices d ON d.sn = e.sn WHERE e.id > ? ORDER BY e.id LIMIT ?`),
    batches: db.prepare<[number, number, number], BatchRow>('SELECT id, at, n, ts_min, ts_max, keys FROM uplink_batches WHERE id > ? AND id <= ? ORDER BY id LIMIT ?'),
    batchTally: db.prepare<[number, number], { batches: number; readings: number; oldest: number | null }>(
      'SELECT count(*) AS batches, coalesce(sum(n), 0) AS readings, min(at) AS oldest FROM uplink_batches WHERE id > ? AND id <= ?'),
    firstBatchAfter: db.prepare<[number], { id: number; at: number } >('SELECT id, at FROM uplink_batches WHERE id > ? ORDER BY id LIMIT 1'),
    journalTally: db.prepare<[number], { depth: number; oldest: number | null }>('SELECT count(*) AS depth, min(at) AS oldest FROM alarm_journal WHERE id > ?'),
    deviceTally: db.prepare<[number], { depth: number; oldest: number | null }>('SELECT count(*) AS depth, min(at) AS oldest FROM uplink_device_events WHERE id > ?'),
    reading: db.prepare<[number, number], { ts: number; v_raw: number; ppm: number; temp: number; humi: number | null; bat: number; rssi: number; seq: number; err: number; flags: number; recv_delta: number }>(
      'SELECT ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta FROM readings WHERE sn_id = ? AND ts = ?'),
    readingsOf: db.prepare<[number, number, number, number], { ts: number; v_raw: number; ppm: number; temp: number; humi: number | null; bat: number; rssi: number; seq: number; err: number; flags: number; recv_delta: number }>(
      'SELECT ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta FROM readings WHERE sn_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?'),
    minutes: db.prepare<[number, number, number], { ts: number; n: number; ppm_min: number; ppm_max: number; ppm_sum: number }>(
      'SELECT ts, n, ppm_min, ppm_max, ppm_sum FROM readings_1m WHERE sn_id = ? AND ts >= ? AND ts < ? ORDER BY ts'),
    lastIn: db.prepare<[number, number, number], number>('SELECT ppm FROM readings WHERE sn_id = ? AND ts >= ? AND ts < ? ORDER BY ts DESC LIMIT 1').pluck(),
    minuteWatermark: db.prepare<[], number>("SELECT watermark FROM rollup_state WHERE name = '1m'").pluck(),
    serials: db.prepare<[], { id: number; sn: string; gas: string | null; unit: string | null }>(
      'SELECT s.id, s.sn, d.gas, d.unit FROM serials s LEFT JOIN devices d ON d.sn = s.sn'),
    serialIds: db.prepare<[], number>('SELECT id FROM serials ORDER BY id').pluck(),
    serialId: db.prepare<[string], number>('SELECT id FROM serials WHERE sn = ?').pluck(),
    pruneBatches: db.prepare<[number]>('DELETE FROM uplink_batches WHERE id <= ?'),
    pruneDeviceEvents: db.prepare<[number]>('DELETE FROM uplink_device_events WHERE id <= ?'),
    changes: db.prepare<[], number>('SELECT version FROM device_changes').pluck(),
  };

  // sn_id → serial, gas and unit, read again when a device changed (device_changes, migration 001).
  let serialInfo = new Map<number, SerialInfo>();
  let serialsVersion = -1;
  function infoOf(snId: number): SerialInfo {
    const version = q.changes.get()!;
    if (version !== serialsVersion || !serialInfo.has(snId)) {
      serialInfo = new Map(q.serials.all().map((row) => [row.id, { sn: row.sn, gas: row.gas ?? '', unit: row.unit ?? '' }]));
      serialsVersion = version;
    }
    return serialInfo.get(snId) ?? { sn: `#${snId}`, gas: '', unit: '' };
  }

  const box = options.boxId;
  const flags = (at: number, historical: boolean) => ({ historical, clock_unsynced: options.clockUnsyncedAt(at) });

  function readingRecord(snId: number, row: NonNullable<ReturnType<typeof q.reading.get>>, historical: boolean): ReadingRecord {
    const info = infoOf(snId);
    const receivedAt = row.ts + row.recv_delta;
    return {
      id: `${box()}:r${info.sn}:${row.ts}`, box: box(), ...flags(receivedAt, historical), kind: 'reading',
      sn: info.sn, ts: row.ts, received_at: receivedAt, ppm: R.fromScaled(row.ppm), unit: info.unit, gas: info.gas,
      v_raw: R.fromScaled(row.v_raw), temp: R.fromScaled(row.temp), humi: row.humi === null ? null : R.fromScaled(row.humi),
      bat: row.bat, rssi: row.rssi, seq: row.seq, err: row.err,
      overrange: (row.flags & R.FLAG_OVERRANGE) !== 0, device_clock_skewed: (row.flags & R.FLAG_CLOCK_SKEW) !== 0,
    };
  }

  /** A device's 1-minute roll-ups in [from, to) as aggregate records, and the minutes that had none. */
  function aggregatesOf(snId: number, from: number, to: number, historical: boolean): { records: AggregateRecord[]; covered: number } {
    const info = infoOf(snId);
    const start = from - (from % MINUTE);
    const records = q.minutes.all(snId, start, to).map((m): AggregateRecord => ({
      id: `${box()}:a${info.sn}:${m.ts}`, box: box(), ...flags(m.ts, historical), kind: 'aggregate',
      sn: info.sn, ts: m.ts, span_s: 60, n: m.n, min: R.fromScaled(m.ppm_min), max: R.fromScaled(m.ppm_max),
      avg: Math.round(m.ppm_sum / m.n) / R.VALUE_SCALE, last: nullableScaled(q.lastIn.get(snId, m.ts, m.ts + MINUTE)),
      unit: info.unit, gas: info.gas,
    }));
    return { records, covered: records.length };
  }

  function gapRecord(key: string, sn: string | null, from: number, to: number, reason: string, historical: boolean): GapRecord {
    return { id: `${box()}:g${key}`, box: box(), ...flags(from, historical), kind: 'gap', sn, from, to, reason };
  }

  /**
   * SYNC-3: readings that cannot go raw (deleted before they were sent, or over the backlog limit)
   * go as the 1-minute aggregates of their span; where no roll-up is left either, a gap record says so.
   */
  function downsample(batchId: number, bySerial: Map<number, { from: number; to: number; count: number }>, reason: string, historical: boolean) {
    const records: UplinkRecord[] = [];
    let downsampled = 0;
    let gaps = 0;
    for (const [snId, span] of bySerial) {
      const { records: aggregates, covered } = aggregatesOf(snId, span.from, span.to + 1, historical);
      records.push(...aggregates);
      downsampled += span.count;
      if (covered === 0) {
        records.push(gapRecord(`${batchId}:${infoOf(snId).sn}`, infoOf(snId).sn, span.from, span.to, reason, historical));
        gaps++;
      }
    }
    return { records, downsampled, gaps };
  }

  return {
    cursor: (target: string): UplinkCursor | undefined => q.cursor.get(target),
    cursors: (): UplinkCursor[] => q.cursors.all(),
    /** A new target starts at the present: what was committed before it existed is not its backlog. */
    ensureCursor(target: string, at: number, aggregate: boolean): UplinkCursor {
      const heads = q.heads.get()!;
      q.insertCursor.run({
        target, journal_id: heads.journal ?? 0, device_event_id: heads.device ?? 0, batch_id: heads.batch ?? 0,
        minute_ts: aggregate ? q.minuteWatermark.get() ?? at - (at % MINUTE) : null, at,
      });
      return q.cursor.get(target)!;
    },
    saveCursor(cursor: UplinkCursor) {
      q.saveCursor.run(cursor);
    },
    dropCursor: (target: string) => q.deleteCursor.run(target).changes > 0,
    heads(): { journal: number; device: number; batch: number } {
      const heads = q.heads.get()!;
      return { journal: heads.journal ?? 0, device: heads.device ?? 0, batch: heads.batch ?? 0 };
    },
    minuteWatermark: (): number => q.minuteWatermark.get() ?? 0,

    /** SYNC-2 alarm lane: journal entries after `after`, with their alarm as it stands. */
    alarmFrame(after: number, limit: number, historical: boolean): BuiltFrame<AlarmRecord> {
      const rows = q.journal.all(after, limit);
      return {
        records: rows.map((row) => ({
          id: `${box()}:j${row.id}`, box: box(), ...flags(row.at, historical), kind: 'alarm',
          alarm_id: row.alarm_id, event: row.kind, at: row.at, sn: row.sn, source: row.source, type: row.type,
          level: row.level ?? row.alarm_level, priority: row.priority, state: row.state, value: row.value, threshold: row.threshold,
          actor: row.actor, detail: row.detail,
        })),
        through: rows.at(-1)?.id ?? after, readings: 0, oldestAt: rows[0]?.at ?? null, downsampled: 0, gaps: 0,
      };
    },

    /** SYNC-2 device lane: online / offline / configuration / removal, with the device's settings now. */
    deviceFrame(after: number, limit: number, historical: boolean): BuiltFrame<DeviceRecord> {
      const rows = q.deviceEvents.all(after, limit);
      return {
        records: rows.map((row) => ({
          id: `${box()}:d${row.id}`, box: box(), ...flags(row.at, historical), kind: 'device',
          sn: row.sn, event: row.event, at: row.at, name: row.name ?? '', location: row.location ?? '', gas: row.gas ?? '',
          unit: row.unit ?? '', enabled: row.enabled === 1, high_limit: row.high_limit, high2_limit: row.high2_limit, low_limit: row.low_limit,
        })),
        through: rows.at(-1)?.id ?? after, readings: 0, oldestAt: rows[0]?.at ?? null, downsampled: 0, gaps: 0,
      };
    },

    /**
     * Telemetry from the batch log: the batches after `after` up to `upTo`, until `maxRecords`.
     * Raw readings, except where `downsampleBefore(batch)` says the batch is over the backlog limit
     * (SYNC-3), or its readings are no longer stored: then aggregates, or a gap record.
     */
    batchFrame(after: number, upTo: number, maxRecords: number, historical: boolean, downsampleIf: (batch: BatchRow) => boolean): BuiltFrame {
      const records: UplinkRecord[] = [];
      let through = after;
      let readings = 0;
      let downsampled = 0;
      let gaps = 0;
      let oldestAt: number | null = null;
      for (const batch of q.batches.all(after, upTo, 64)) {
        if (records.length && records.length + batch.n > maxRecords) break;
        oldestAt ??= batch.at;
        readings += batch.n;
        through = batch.id;
        if (batch.keys === null) {
          // Cut by the disk guard: only the span is known — aggregates of every device, or one gap.
          let covered = 0;
          for (const snId of q.serialIds.all()) {
            const { records: aggregates } = aggregatesOf(snId, batch.ts_min, batch.ts_max + 1, historical);
            covered += aggregates.length;
            records.push(...aggregates);
          }
          downsampled += batch.n;
          if (!covered) {
            records.push(gapRecord(`${batch.id}:*`, null, batch.ts_min, batch.ts_max, 'the backlog was cut to keep the disk from filling (STO-4)', historical));
            gaps++;
          }
          continue;
        }
        const keys = decodeKeys(batch.keys, batch.ts_min);
        const missing = new Map<number, { from: number; to: number; count: number }>();
        const addMissing = (key: ReadingKey) => {
          const span = missing.get(key.snId);
          if (!span) missing.set(key.snId, { from: key.ts, to: key.ts, count: 1 });
          else {
            span.from = Math.min(span.from, key.ts);
            span.to = Math.max(span.to, key.ts);
            span.count++;
          }
        };
        if (downsampleIf(batch)) {
          for (const key of keys) addMissing(key);
          const made = downsample(batch.id, missing, 'the readings were past the backlog limit', historical);
          records.push(...made.records);
          downsampled += made.downsampled;
          gaps += made.gaps;
          continue;
        }
        for (const key of keys) {
          const row = q.reading.get(key.snId, key.ts);
          if (row) records.push(readingRecord(key.snId, row, historical));
          else addMissing(key);
        }
        if (missing.size) {
          const made = downsample(batch.id, missing, 'the readings were deleted (archived or pruned) before they were sent', historical);
          records.push(...made.records);
          downsampled += made.downsampled;
          gaps += made.gaps;
        }
      }
      return { records, through, readings, oldestAt, downsampled, gaps };
    },

    /** Telemetry as 1-minute aggregates (a target's `telemetry: aggregate`): final minutes from `from`. */
    minuteFrame(from: number, maxRecords: number, historicalBefore: number): BuiltFrame & { nextFrom: number } {
      const watermark = q.minuteWatermark.get() ?? 0;
      const records: UplinkRecord[] = [];
      let minute = from;
      // A minute at a time over every device, so a frame ends on a whole minute.
      while (minute < watermark && records.length < maxRecords) {
        for (const snId of q.serialIds.all()) records.push(...aggregatesOf(snId, minute, minute + MINUTE, minute < historicalBefore).records);
        minute += MINUTE;
      }
      return { records, through: minute, nextFrom: minute, readings: records.length, oldestAt: records.length ? from : null, downsampled: 0, gaps: 0 };
    },

    /** SYNC-5 resend: readings of [from, to) device by device, historical, from the stored position. */
    resendFrame(resend: { from_ts: number; to_ts: number; sns: string | null; next_sn_id: number; next_ts: number }, maxRecords: number) {
      const wanted = resend.sns ? new Set((JSON.parse(resend.sns) as string[]).map((sn) => q.serialId.get(sn)).filter((id): id is number => id !== undefined)) : null;
      const records: UplinkRecord[] = [];
      let snId = resend.next_sn_id;
      let ts = resend.next_ts;
      for (const id of q.serialIds.all()) {
        if (id < snId || (wanted && !wanted.has(id))) continue;
        if (id > snId) ts = resend.from_ts;
        snId = id;
        const rows = q.readingsOf.all(id, ts, resend.to_ts, maxRecords - records.length);
        for (const row of rows) records.push(readingRecord(id, row, true));
        if (rows.length) ts = rows.at(-1)!.ts + 1;
        if (records.length >= maxRecords) return { records, next: { sn_id: snId, ts }, done: false };
        ts = resend.to_ts;
      }
      return { records, next: { sn_id: snId + 1, ts: resend.from_ts }, done: true };
    },

    /** Backlog figures of a lane range, for the status page and the backlog limit. */
    batchTally: (after: number, upTo: number) => q.batchTally.get(after, upTo)!,
    firstBatchAfter: (after: number) => q.firstBatchAfter.get(after),
    journalTally: (after: number) => q.journalTally.get(after)!,
    deviceTally: (after: number) => q.deviceTally.get(after)!,

    /** Log rows every target has acknowledged are deleted (the queue holds only what is owed). */
    prune(): { batches: number; deviceEvents: number } {
      const cursors = q.cursors.all();
      if (!cursors.length) {
        return { batches: q.pruneBatches.run(Number.MAX_SAFE_INTEGER).changes, deviceEvents: q.pruneDeviceEvents.run(Number.MAX_SAFE_INTEGER).changes };
      }
      const batch = Math.min(...cursors.map((c) => c.batch_id));
      const device = Math.min(...cursors.map((c) => c.device_event_id));
      return { batches: q.pruneBatches.run(batch).changes, deviceEvents: q.pruneDeviceEvents.run(device).changes };
    },
  };
}
export type UplinkQueue = ReturnType<typeof createUplinkQueue>;

function nullableScaled(value: number | undefined): number | null {
  return value === undefined || value === null ? null : R.fromScaled(value);
}
