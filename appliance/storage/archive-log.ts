// ARC-2 archive_log (migration 006): one row per attempt to archive a site day (or a later part of
// it), and the read side of an export — a day's rows device by device, streamed, never loaded.
import type { Db } from './db.ts';

export type ArchiveStatus = 'running' | 'verified' | 'done' | 'failed';

export interface ArchiveLogRow {
  id: number;
  day: string;
  part: number;
  object_key: string;
  status: ArchiveStatus;
  day_start: number;
  day_end: number;
  received_before: number;
  rows: number | null;
  bytes: number | null;
  sha256: string | null;
  deleted_rows: number | null;
  error_code: number | null;
  error: string | null;
  started_at: number;
  finished_at: number | null;
}

/** A raw row as exported: ts, v_raw, ppm, temp (×100), humi (×100 or null), bat, rssi, seq. */
export type ExportRow = [number, number, number, number, number | null, number, number, number];

export function createArchiveLog(db: Db) {
  const insert = db.prepare(`
    INSERT INTO archive_log (day, part, object_key, status, day_start, day_end, received_before, started_at)
    VALUES (@day, @part, @object_key, 'running', @day_start, @day_end, @received_before, @started_at)`);
  const byId = db.prepare<[number], ArchiveLogRow>('SELECT * FROM archive_log WHERE id = ?');
  const ofDay = db.prepare<[string], ArchiveLogRow>('SELECT * FROM archive_log WHERE day = ? ORDER BY id');
  const unfinished = db.prepare<[], ArchiveLogRow>(
    "SELECT * FROM archive_log WHERE status IN ('running', 'verified') ORDER BY day, id",
  );
  const archived = db.prepare<[], ArchiveLogRow>(
    "SELECT * FROM archive_log WHERE status IN ('verified', 'done') ORDER BY day DESC, part",
  );
  const latest = db.prepare<[], ArchiveLogRow>('SELECT * FROM archive_log ORDER BY id DESC LIMIT 1');
  const latestOk = db.prepare<[], ArchiveLogRow>("SELECT * FROM archive_log WHERE status = 'done' ORDER BY finished_at DESC LIMIT 1");
  const recent = db.prepare<[number], ArchiveLogRow>('SELECT * FROM archive_log ORDER BY id DESC LIMIT ?');

  const serialsByName = db.prepare<[], { id: number; sn: string }>('SELECT id, sn FROM serials ORDER BY sn');
  const deviceRows = db
    .prepare<[number, number, number, number], ExportRow>(`
      SELECT ts, v_raw, ppm, temp, humi, bat, rssi, seq FROM readings
      WHERE sn_id = ? AND ts >= ? AND ts < ? AND ts + recv_delta < ? ORDER BY ts`)
    .raw(true);
  const deviceCount = db.prepare<[number, number, number, number], { n: number }>(
    'SELECT count(*) AS n FROM readings WHERE sn_id = ? AND ts >= ? AND ts < ? AND ts + recv_delta < ?',
  );
  const oldestFrom = db.prepare<[number], { ts: number | null }>(
    'SELECT min((SELECT min(ts) FROM readings WHERE sn_id = s.id AND ts >= ?)) AS ts FROM serials s',
  );
  const anyIn = db.prepare<[number, number], { found: number }>(
    'SELECT EXISTS (SELECT 1 FROM serials s WHERE EXISTS (SELECT 1 FROM readings WHERE sn_id = s.id AND ts >= ? AND ts < ?)) AS found',
  );

  return {
    start(entry: Pick<ArchiveLogRow, 'day' | 'part' | 'object_key' | 'day_start' | 'day_end' | 'received_before' | 'started_at'>): ArchiveLogRow {
      const id = Number(insert.run(entry).lastInsertRowid);
      return byId.get(id)!;
    },
    update(id: number, fields: Partial<Omit<ArchiveLogRow, 'id'>>): ArchiveLogRow {
      const keys = Object.keys(fields);
      if (keys.length) db.prepare(`UPDATE archive_log SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`).run({ ...fields, id });
      return byId.get(id)!;
    },
    get: (id: number) => byId.get(id),
    ofDay: (day: string): ArchiveLogRow[] => ofDay.all(day),
    /** Attempts a crash interrupted: 'running' (to redo) and 'verified' (to finish deleting). */
    unfinished: (): ArchiveLogRow[] => unfinished.all(),
    /** Archived objects, newest day first. */
    archived: (): ArchiveLogRow[] => archived.all(),
    latest: () => latest.get(),
    latestDone: () => latestOk.get(),
    recent: (limit = 50): ArchiveLogRow[] => recent.all(limit),
    /** Registered-or-not serials in name order: the export order (device, then time). */
    serials: () => serialsByName.all(),
    /** One device's rows of a range received before a time, streamed. */
    deviceRows: (snId: number, from: number, to: number, receivedBefore: number): IterableIterator<ExportRow> =>
      deviceRows.iterate(snId, from, to, receivedBefore),
    deviceCount: (snId: number, from: number, to: number, receivedBefore: number): number =>
      deviceCount.get(snId, from, to, receivedBefore)!.n,
    /** The oldest reading time at or after `from`, or null (one index seek per serial). */
    oldestFrom: (from: number): number | null => oldestFrom.get(from)?.ts ?? null,
    hasRowsIn: (from: number, to: number): boolean => anyIn.get(from, to)!.found === 1,
  };
}
export type ArchiveLog = ReturnType<typeof createArchiveLog>;
