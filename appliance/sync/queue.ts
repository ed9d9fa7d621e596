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

/** SYNC-5: a cloud's "resend this range" request, worked through device by device. */
export interface ResendRequest {
  id: number;
  from_ts: number;
  to_ts: number;
  sns: string | null;
  next_sn_id: number;
  next_ts: number;
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
    firstBatchAfter: db.prepare<[number], { id: number; at: number } >('SELECT id, at FROM uplink_batches WHERE id > ? ORDER BY id LIMIT 1'),
    journalTally: db.prepare<[number], { depth: number; oldest: number | null }>('SELECT count(*) AS depth, min(at) AS oldest FROM alarm_journal WHERE id > ?'),
    deviceTally: db.prepare<[number], { depth: number; oldest: number | null }>('SELECT count(*) AS depth, min(at) AS oldest FROM uplink_device_events WHERE id > ?'),
    // A frame's readings in one statement: the keys as a JSON array of [sn_id, ts], each a primary-key
    // search (2.8 µs a reading, key JSON included, against 7.2 µs for one statement per key:
    // BENCHMARKS.md "Where the time goes"; CROSS JOIN keeps json_each the outer loop). `i` says
    // which key a row answers: a key without a row was deleted (archived or pruned) before it went.
    readingsOfKeys: db.prepare<[string], { i: number; ts: number; v_raw: number; ppm: number; temp: number; humi: number | null; bat: number; rssi: number; seq: number; err: number; flags: number; recv_delta: number }>(
      `SELECT j.key AS i, r.ts, r.v_raw, r.ppm, r.temp, r.humi, r.bat, r.rssi, r.seq, r.err, r.flags, r.recv_delta
       FROM json_each(?) j CROSS JOIN readings r ON r.sn_id = j.value ->> 0 AND r.ts = j.value ->> 1`),
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
    // Bounded: one short write on the main connection, however large a drained backlog was.
    pruneBatches: db.prepare<[number, number]>('DELETE FROM uplink_batches WHERE id IN (SELECT id FROM uplink_batches WHERE id <= ? ORDER BY id LIMIT ?)'),
    pruneDeviceEvents: db.prepare<[number, number]>('DELETE FROM uplink_device_events WHERE id IN (SELECT id FROM uplink_device_events WHERE id <= ? ORDER BY id LIMIT ?)'),
    readingsIn: db.prepare<[number, number], number>('SELECT coalesce(sum(n), 0) FROM uplink_batches WHERE id > ? AND id <= ?').pluck(),
    changes: db.prepare<[], number>('SELECT version FROM device_changes').pluck(),
    resendNext: db.prepare<[string], ResendRequest>('SELECT id, from_ts, to_ts, sns, next_sn_id, next_ts FROM uplink_resends WHERE target = ? ORDER BY id LIMIT 1'),
    resendAdvance: db.prepare<[number, number, number]>('UPDATE uplink_resends SET next_sn_id = ?, next_ts = ? WHERE id = ?'),
    resendDone: db.prepare<[number]>('DELETE FROM uplink_resends WHERE id = ?'),
    resendAdd: db.prepare<[string, number, number, string | null, number, number]>(
      'INSERT INTO uplink_resends (target, from_ts, to_ts, sns, next_ts, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    resendCount: db.prepare<[string], number>('SELECT count(*) FROM uplink_resends WHERE target = ?').pluck(),
    cutKeys: db.prepare<[number, number]>(
      'UPDATE uplink_batches SET keys = NULL WHERE id IN (SELECT id FROM uplink_batches WHERE at < ? AND keys IS NOT NULL ORDER BY id LIMIT ?)'),
  };

  // sn_id → serial, gas and unit, read again when a device changed (device_changes, migration 001).
  let serialInfo = new Map<number, SerialInfo>();
  let serialsVersion = -1;
  function infoOf(snId: number): SerialInfo {
    if (!serialInfo.has(snId)) reloadSerials(); // a serial newer than the frame's look
    return serialInfo.get(snId) ?? { sn: `#${snId}`, gas: '', unit: '' };
  }
  function reloadSerials() {
    serialInfo = new Map(q.serials.all().map((row) => [row.id, { sn: row.sn, gas: row.gas ?? '', unit: row.unit ?? '' }]));
  }

  // Looked up once per frame, not per record: the box id (a settings read) and whether a device
  // changed (measured: these two were a quarter of the main thread's time in a drain, BENCHMARKS.md).
  let boxId = '';
  function beginFrame() {
    boxId = options.boxId();
    const version = q.changes.get()!;
    if (version !== serialsVersion) {
      reloadSerials();
      serialsVersion = version;
    }
  }
  const box = () => boxId;
  const flags = (at: number, historical: boolean) => ({ historical, clock_unsynced: options.clockUnsyncedAt(at) });

  function readingRecord(snId: number, row: Omit<NonNullable<ReturnType<typeof q.readingsOfKeys.get>>, 'i'>, historical: boolean): ReadingRecord {
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
  function aggregatesOf(snId: number, from: number, to: number, historical: boolean): AggregateRecord[] {
    const info = infoOf(snId);
    const start = from - (from % MINUTE);
    const records = q.minutes.all(snId, start, to).map((m): AggregateRecord => ({
      id: `${box()}:a${info.sn}:${m.ts}`, box: box(), ...flags(m.ts, historical), kind: 'aggregate',
      sn: info.sn, ts: m.ts, span_s: 60, n: m.n, min: R.fromScaled(m.ppm_min), max: R.fromScaled(m.ppm_max),
      avg: Math.round(m.ppm_sum / m.n) / R.VALUE_SCALE, last: nullableScaled(q.lastIn.get(snId, m.ts, m.ts + MINUTE)),
      unit: info.unit, gas: info.gas,
    }));
    return records;
  }

  function gapRecord(key: string, sn: string | null, from: number, to: number, reason: string, historical: boolean): GapRecord {
    return { id: `${box()}:g${key}`, box: box(), ...flags(from, historical), kind: 'gap', sn, from, to, reason };
  }

  /**
   * SYNC-3: readings that cannot go raw (deleted before they were sent, or over the backlog limit)
   * go as the 1-minute aggregates of their minutes; a minute with no roll-up left becomes a gap record
   * (consecutive ones merged).
   */
  function downsample(bySerial: Map<number, Map<number, number>>, reason: string, historical: boolean) {
    const records: UplinkRecord[] = [];
    let downsampled = 0;
    let gaps = 0;
    for (const [snId, minutes] of bySerial) {
      const starts = [...minutes.keys()].sort((a, b) => a - b);
      const aggregates = aggregatesOf(snId, starts[0], starts.at(-1)! + MINUTE, historical);
      const rolled = new Set(aggregates.map((a) => a.ts));
      records.push(...aggregates.filter((a) => minutes.has(a.ts)));
      let gap: { from: number; to: number } | null = null;
      const flush = () => {
        if (!gap) return;
        const sn = infoOf(snId).sn;
        records.push(gapRecord(`${sn}:${gap.from}`, sn, gap.from, gap.to, reason, historical));
        gaps++;
        gap = null;
      };
      for (const start of starts) {
        downsampled += minutes.get(start)!;
        if (rolled.has(start)) flush();
        else if (gap && gap.to === start) gap.to = start + MINUTE;
        else {
          flush();
          gap = { from: start, to: start + MINUTE };
        }
      }
      flush();
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
      beginFrame();
      const rows = q.journal.all(after, limit);
      return {
        records: rows.map((row) => ({
          id: `${box()}:j${row.id}`, box: box(), ...flags(row.at, historical), kind: 'alarm',
          alarm_id: row.alarm_id, event: row.kind, at: row.at, sn: row.sn, source: row.source, type: row.type,
          level: row.level ?? row.alarm_level, priority: row.priority, state: row.state, value: row.value, threshold: row.threshold,
          actor: row.actor, detail: row.detail,
        })),
        through: rows.at(-1)?.id ?? after, readings: 0, downsampled: 0, gaps: 0,
      };
    },

    /** SYNC-2 device lane: online / offline / configuration / removal, with the device's settings now. */
    deviceFrame(after: number, limit: number, historical: boolean): BuiltFrame<DeviceRecord> {
      beginFrame();
      const rows = q.deviceEvents.all(after, limit);
      return {
        records: rows.map((row) => ({
          id: `${box()}:d${row.id}`, box: box(), ...flags(row.at, historical), kind: 'device',
          sn: row.sn, event: row.event, at: row.at, name: row.name ?? '', location: row.location ?? '', gas: row.gas ?? '',
          unit: row.unit ?? '', enabled: row.enabled === 1, high_limit: row.high_limit, high2_limit: row.high2_limit, low_limit: row.low_limit,
        })),
        through: rows.at(-1)?.id ?? after, readings: 0, downsampled: 0, gaps: 0,
      };
    },

    /**
     * Telemetry from the batch log: the batches after `after` up to `upTo`, until `maxRecords`.
     * Raw readings, except where `downsampleBefore(batch)` says the batch is over the backlog limit
     * (SYNC-3), or its readings are no longer stored: then aggregates, or a gap record.
     */
    batchFrame(after: number, upTo: number, maxRecords: number, historical: boolean, downsampleIf: (batch: BatchRow) => boolean): BuiltFrame {
      beginFrame();
      const records: UplinkRecord[] = [];
      let through = after;
      let readings = 0;
      // What goes as aggregates is gathered over the whole frame, so a device's minute is sent once
      // per frame however many batches it spans.
      const deleted = new Map<number, Map<number, number>>();
      const overLimit = new Map<number, Map<number, number>>();
      let cut: { from: number; to: number; count: number; first: number } | null = null;
      const add = (minutes: typeof deleted, key: ReadingKey) => {
        let counts = minutes.get(key.snId);
        if (!counts) minutes.set(key.snId, (counts = new Map()));
        const start = key.ts - (key.ts % MINUTE);
        counts.set(start, (counts.get(start) ?? 0) + 1);
      };
      // The keys of the frame's stored readings, looked up together after the batches are read.
      const frameKeys: ReadingKey[] = [];
      for (const batch of q.batches.all(after, upTo, 256)) {
        if (frameKeys.length && frameKeys.length + batch.n > maxRecords) break;
        readings += batch.n;
        through = batch.id;
        if (batch.keys === null) {
          // Cut by the disk guard: only the span is known.
          if (cut) {
            cut.from = Math.min(cut.from, batch.ts_min);
            cut.to = Math.max(cut.to, batch.ts_max);
            cut.count += batch.n;
          } else cut = { from: batch.ts_min, to: batch.ts_max, count: batch.n, first: batch.id };
          continue;
        }
        const keys = decodeKeys(batch.keys, batch.ts_min);
        if (downsampleIf(batch)) {
          for (const key of keys) add(overLimit, key);
          continue;
        }
        for (const key of keys) frameKeys.push(key);
      }
      if (frameKeys.length) {
        let json = '[';
        for (let k = 0; k < frameKeys.length; k++) json += (k ? ',[' : '[') + frameKeys[k].snId + ',' + frameKeys[k].ts + ']';
        const answered = new Uint8Array(frameKeys.length);
        for (const row of q.readingsOfKeys.iterate(json + ']')) {
          answered[row.i] = 1;
          records.push(readingRecord(frameKeys[row.i].snId, row, historical));
        }
        for (let k = 0; k < frameKeys.length; k++) if (!answered[k]) add(deleted, frameKeys[k]);
      }
      let downsampled = 0;
      let gaps = 0;
      const addMade = (made: { records: UplinkRecord[]; downsampled: number; gaps: number }) => {
        records.push(...made.records);
        downsampled += made.downsampled;
        gaps += made.gaps;
      };
      if (overLimit.size) addMade(downsample(overLimit, 'the readings were past the backlog limit', historical));
      if (deleted.size) addMade(downsample(deleted, 'the readings were deleted (archived or pruned) before they were sent', historical));
      if (cut) {
        // Aggregates of every device over the span, or one gap for the whole box.
        const aggregates = q.serialIds.all().flatMap((snId) => aggregatesOf(snId, cut!.from, cut!.to + 1, historical));
        records.push(...aggregates);
        downsampled += cut.count;
        if (!aggregates.length) {
          records.push(gapRecord(`${cut.first}:*`, null, cut.from, cut.to, 'the backlog was cut to keep the disk from filling (STO-4)', historical));
          gaps++;
        }
      }
      return { records, through, readings, downsampled, gaps };
    },

    /** Telemetry as 1-minute aggregates (a target's `telemetry: aggregate`): final minutes from `from`. */
    minuteFrame(from: number, maxRecords: number, historicalBefore: number): BuiltFrame {
      beginFrame();
      const watermark = q.minuteWatermark.get() ?? 0;
      const records: UplinkRecord[] = [];
      let minute = from;
      // A minute at a time over every device, so a frame ends on a whole minute.
      while (minute < watermark && records.length < maxRecords) {
        for (const snId of q.serialIds.all()) records.push(...aggregatesOf(snId, minute, minute + MINUTE, minute < historicalBefore));
        minute += MINUTE;
      }
      return { records, through: minute, readings: records.length, downsampled: 0, gaps: 0 };
    },

    /** SYNC-5: a target's resend requests, oldest first; each keeps its position as it is worked through. */
    resends: {
      next: (target: string): ResendRequest | undefined => q.resendNext.get(target),
      advance: (id: number, snId: number, ts: number) => void q.resendAdvance.run(snId, ts, id),
      done: (id: number) => void q.resendDone.run(id),
      add: (target: string, from: number, to: number, sns: string[] | undefined, at: number) =>
        void q.resendAdd.run(target, from, to, sns?.length ? JSON.stringify(sns) : null, from, at),
      count: (target: string): number => q.resendCount.get(target)!,
    },

    /** SYNC-5 resend: readings of [from, to) device by device, historical, from the stored position. */
    resendFrame(resend: { from_ts: number; to_ts: number; sns: string | null; next_sn_id: number; next_ts: number }, maxRecords: number) {
      beginFrame();
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

    firstBatchAfter: (after: number) => q.firstBatchAfter.get(after),
    journalTally: (after: number) => q.journalTally.get(after)!,
    deviceTally: (after: number) => q.deviceTally.get(after)!,

    /**
     * STO-4 + SYNC-3: under disk pressure the oldest batches lose their key lists (the readings are
     * then sent as aggregates or a gap record); at most `limit` rows a call. Rows cut.
     */
    cutKeys(before: number, limit = 10_000): number {
      return q.cutKeys.run(before, limit).changes;
    },

    /** Log rows every target has acknowledged are deleted (the queue holds only what is owed). */
    prune(limit = 20_000): { batches: number; deviceEvents: number } {
      const cursors = q.cursors.all();
      const batch = cursors.length ? Math.min(...cursors.map((c) => c.batch_id)) : Number.MAX_SAFE_INTEGER;
      const device = cursors.length ? Math.min(...cursors.map((c) => c.device_event_id)) : Number.MAX_SAFE_INTEGER;
      return { batches: q.pruneBatches.run(batch, limit).changes, deviceEvents: q.pruneDeviceEvents.run(device, limit).changes };
    },
    /** Readings in the batches (after, upTo] — a short range: the new batches since the last look. */
    readingsIn: (after: number, upTo: number): number => (upTo > after ? q.readingsIn.get(after, upTo)! : 0),
  };
}
export type UplinkQueue = ReturnType<typeof createUplinkQueue>;

function nullableScaled(value: number | undefined): number | null {
  return value === undefined || value === null ? null : R.fromScaled(value);
}
