// STO-5: the read side of readings — latest of every device in one query, and one device's history
// in server-side buckets, from raw rows and the roll-ups (STO-3) stitched at their watermarks.
import type { Db } from './db.ts';
import { fromScaled } from './reading-row.ts';

export interface LatestReading {
  sn: string;
  ts: number;
  received_at: number;
  v_raw: number;
  ppm: number;
  temp: number;
  humi: number | null;
  bat: number;
  rssi: number;
  seq: number;
  err: number;
  flags: number;
}

export interface HistoryPoint {
  /** Bucket start, UTC ms. */
  ts: number;
  avg: number;
  min: number;
  max: number;
  count: number;
}

export const HISTORY_INTERVALS = { '10s': 10_000, '1m': 60_000, '5m': 300_000, '1h': 3_600_000 } as const;
export type HistoryInterval = keyof typeof HISTORY_INTERVALS;
/** Seed limit: raw readings are served for at most 7 days per query. */
export const RAW_HISTORY_MAX_MS = 7 * 24 * 3_600_000;

interface ScaledLatestRow extends Omit<LatestReading, 'received_at'> {
  recv_delta: number;
}

type LatestRowArray = [string, number, number, number, number, number | null, number, number, number, number, number, number];

function latestFromRow(row: ScaledLatestRow): LatestReading {
  return {
    sn: row.sn,
    ts: row.ts,
    received_at: row.ts + row.recv_delta,
    v_raw: fromScaled(row.v_raw),
    ppm: fromScaled(row.ppm),
    temp: fromScaled(row.temp),
    humi: row.humi === null ? null : fromScaled(row.humi),
    bat: row.bat,
    rssi: row.rssi,
    seq: row.seq,
    err: row.err,
    flags: row.flags,
  };
}

export function createReadingRepository(db: Db) {
  // Rows as arrays (.raw): building 5,000 result objects in better-sqlite3 cost as much as the query.
  const latestAll = db
    .prepare<[], LatestRowArray>(`
      SELECT d.sn, l.ts, l.v_raw, l.ppm, l.temp, l.humi, l.bat, l.rssi, l.seq, l.err, l.flags, l.recv_delta
      FROM devices d JOIN latest_readings l ON l.sn_id = d.sn_id`)
    .raw(true);
  const latestOne = db.prepare<[string], ScaledLatestRow>(`
    SELECT s.sn AS sn, r.ts, r.v_raw, r.ppm, r.temp, r.humi, r.bat, r.rssi, r.seq, r.err, r.flags, r.recv_delta
    FROM serials s JOIN readings r ON r.sn_id = s.id WHERE s.sn = ? ORDER BY r.ts DESC LIMIT 1`);
  const rawRange = db.prepare<[string, number, number, number], ScaledLatestRow>(`
    SELECT ? AS sn, ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta
    FROM readings WHERE sn_id = ? AND ts >= ? AND ts < ? ORDER BY ts`);
  const rawPage = db.prepare<[string, number, number, number, number], ScaledLatestRow>(`
    SELECT ? AS sn, ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta
    FROM readings WHERE sn_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?`);
  const serialId = db.prepare<[string], { id: number }>('SELECT id FROM serials WHERE sn = ?');
  const watermark = db.prepare<[string], { watermark: number }>('SELECT watermark FROM rollup_state WHERE name = ?');
  const countRows = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM readings');

  // One bucketed query per source combination. Each source covers [its start, the finer source's
  // watermark); raw rows cover everything from the 1-minute watermark on.
  const bucketed = (sources: string) =>
    db.prepare(`
      SELECT ts - ts % @bucket AS ts, sum(sm) * 1.0 / sum(n) AS avg, min(mn) AS min, max(mx) AS max, sum(n) AS count
      FROM (${sources}) GROUP BY 1 ORDER BY 1`); // % is integer arithmetic; / on a bound number is not
  const RAW = `SELECT ts, 1 AS n, ppm AS mn, ppm AS mx, ppm AS sm FROM readings
               WHERE sn_id = @id AND ts >= max(@from, @wm1m) AND ts < @to`;
  const RAW_ONLY = `SELECT ts, 1 AS n, ppm AS mn, ppm AS mx, ppm AS sm FROM readings
               WHERE sn_id = @id AND ts >= @from AND ts < @to`;
  const minutesFrom = (start: string) => `SELECT ts, n, ppm_min AS mn, ppm_max AS mx, ppm_sum AS sm FROM readings_1m
               WHERE sn_id = @id AND ts >= ${start} AND ts < min(@to, @wm1m)`;
  const HOURS = `SELECT ts, n, ppm_min AS mn, ppm_max AS mx, ppm_sum AS sm FROM readings_1h
               WHERE sn_id = @id AND ts >= @from AND ts < min(@to, @wm1h)`;
  const fromRaw = bucketed(RAW_ONLY);
  const fromMinutes = bucketed(`${minutesFrom('@from')} UNION ALL ${RAW}`);
  const fromHours = bucketed(`${HOURS} UNION ALL ${minutesFrom('max(@from, @wm1h)')} UNION ALL ${RAW}`);

  return {
    /** STO-5: the newest reading of every registered device, in one query. */
    latestAll: (): LatestReading[] =>
      latestAll.all().map(([sn, ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta]) =>
        latestFromRow({ sn, ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta })),
    latest(sn: string): LatestReading | undefined {
      const row = latestOne.get(sn);
      return row && latestFromRow(row);
    },
    /** Raw readings of one device in [from, to). */
    raw(sn: string, from: number, to: number): LatestReading[] {
      const id = serialId.get(sn)?.id;
      if (id === undefined) return [];
      return rawRange.all(sn, id, from, to).map(latestFromRow);
    },
    /**
     * Raw readings of one device in [from, to), a page at a time: each page is read whole, so no
     * statement stays open on the shared connection while the caller streams (CSV export).
     */
    *rawPages(sn: string, from: number, to: number, pageSize = 5000): Generator<LatestReading[]> {
      const id = serialId.get(sn)?.id;
      if (id === undefined) return;
      for (let next = from; ; ) {
        const page = rawPage.all(sn, id, next, to, pageSize).map(latestFromRow);
        if (page.length) yield page;
        if (page.length < pageSize) return;
        next = page[page.length - 1].ts + 1;
      }
    },
    /**
     * One device's ppm in buckets. '10s' reads raw rows (range ≤ 7 days); '1m' and '5m' read
     * 1-minute roll-ups plus the raw rows not yet rolled up; '1h' adds the 1-hour roll-ups.
     */
    history(sn: string, from: number, to: number, interval: HistoryInterval): HistoryPoint[] {
      const id = serialId.get(sn)?.id;
      if (id === undefined) return [];
      const bucket = HISTORY_INTERVALS[interval];
      const wm1m = watermark.get('1m')?.watermark ?? 0;
      const wm1h = watermark.get('1h')?.watermark ?? 0;
      const params = { id, from, to, bucket, wm1m, wm1h };
      const statement = interval === '10s' ? fromRaw : interval === '1h' ? fromHours : fromMinutes;
      return (statement.all(params) as HistoryPoint[]).map((p) => ({
        ts: p.ts,
        avg: Math.round(p.avg) / 100,
        min: fromScaled(p.min),
        max: fromScaled(p.max),
        count: p.count,
      }));
    },
    count: (): number => countRows.get()!.n,
  };
}
export type ReadingRepository = ReturnType<typeof createReadingRepository>;
