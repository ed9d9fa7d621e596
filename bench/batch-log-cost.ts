// Issue 17 (SYNC-1: "do not double the hot store's write cost; measure it"): what the uplink's batch
// log adds to a group commit, measured alone. The writer's own code (storage/reading-store.ts,
// which appends the batch's keys to uplink_batches while a cursor exists) commits batches of the
// same size into a temp database with synchronous=FULL, with the log off and on (a cursor row
// dropped or created with the uplink's own queue; the modes alternate commit by commit), and
// reports per commit its time and the WAL pages it wrote, and the bytes on disk per reading of the
// readings table and of the log.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../appliance/devices/service.ts';
import { dbFileIn, openDb } from '../appliance/storage/db.ts';
import { createDeviceRepository } from '../appliance/storage/devices.ts';
import { createReadingStore } from '../appliance/storage/reading-store.ts';
import * as R from '../appliance/storage/reading-row.ts';
import { createUplinkQueue } from '../appliance/sync/queue.ts';

export interface BatchLogCostOptions {
  /** Readings per commit. */
  batchRows: number;
  devices: number;
  /** Commits per phase (default: 2,000 of a few readings, at least 300 and 60,000 readings of larger ones). */
  commitsPerPhase?: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export function measureBatchLogCost({ batchRows, devices, commitsPerPhase: commits }: BatchLogCostOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-bench-batchlog-'));
  const db = openDb(dbFileIn(dir), { synchronous: 'FULL', cacheMb: 16 });
  try {
    // No automatic checkpoint while WAL pages are counted.
    db.pragma('wal_autocheckpoint = 0');
    const repo = createDeviceRepository(db);
    const snIds = db.transaction(() => Array.from({ length: devices }, (_, i) => repo.insert(`LOG-${String(i + 1).padStart(5, '0')}`, DEFAULT_SETTINGS, null, Date.now()).sn_id))();
    const store = createReadingStore(db);
    const queue = createUplinkQueue(db, { boxId: () => 'bench-box', clockUnsyncedAt: () => false });
    const commitsPerPhase = commits ?? (batchRows < 30 ? 2000 : Math.max(300, Math.ceil(60_000 / batchRows)));
    const rows = new Float64Array(batchRows * R.ROW_FIELDS);
    const start = Date.now() - 86_400_000;
    let next = 0; // readings so far: device next % devices, its (next / devices)-th reading

    const fill = () => {
      for (let i = 0; i < batchRows; i++, next++) {
        const o = i * R.ROW_FIELDS;
        const k = Math.floor(next / devices);
        const ts = start + k * 10_000 + (next % devices) * 7;
        rows[o + R.F_SN_ID] = snIds[next % devices];
        rows[o + R.F_TS] = ts;
        rows[o + R.F_V_RAW] = 2350.5 + (k % 97);
        rows[o + R.F_PPM] = 300 + (k % 113);
        rows[o + R.F_TEMP] = 25.4;
        rows[o + R.F_HUMI] = 60.2;
        rows[o + R.F_BAT] = 85;
        rows[o + R.F_RSSI] = -75;
        rows[o + R.F_SEQ] = k % 65_536;
        rows[o + R.F_ERR] = 0;
        rows[o + R.F_FLAGS] = 0;
        rows[o + R.F_RECEIVED] = ts + 150;
      }
    };
    const walFile = `${dbFileIn(dir)}-wal`;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const walBytes = () => statSync(walFile, { throwIfNoEntry: false })?.size ?? 0;
    const setLog = (on: boolean) => {
      if (on) queue.ensureCursor('bench', Date.now(), false);
      else queue.dropCursor('bench');
    };
    /** One commit in each mode, in the order given by the pair's parity (on, off, off, on, …), so a busy neighbour on the shared machine or a growing store weighs on both alike. */
    const pair = (c: number, each: (mode: 'off' | 'on') => void) => {
      for (const mode of c % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        setLog(mode === 'on');
        fill();
        each(mode);
      }
    };

    // A warm-up: the first pages of each device.
    for (let c = 0; c < 20; c++) pair(c, () => store.writeBatch(rows, batchRows));
    // WAL pages per commit: without checkpoints the WAL only grows, by one frame (page + 24 bytes) per page written.
    const pages = { off: 0, on: 0 };
    const walPairs = batchRows < 30 ? 500 : 40;
    db.pragma('wal_checkpoint(TRUNCATE)');
    for (let c = 0; c < walPairs; c++) {
      pair(c, (mode) => {
        const before = walBytes();
        store.writeBatch(rows, batchRows);
        pages[mode] += (walBytes() - before) / (pageSize + 24) / walPairs;
      });
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    // Time per commit, checkpoints as the writer's (automatic, in whichever commit crosses the threshold).
    db.pragma('wal_autocheckpoint = 16384');
    const times: Record<'off' | 'on', number[]> = { off: [], on: [] };
    for (let c = 0; c < commitsPerPhase; c++) {
      pair(c, (mode) => {
        const started = performance.now();
        store.writeBatch(rows, batchRows);
        times[mode].push(performance.now() - started);
      });
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    const bytesOf = (table: string) => (db.prepare('SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ?').pluck().get(table) as number);
    const readings = db.prepare('SELECT count(*) FROM readings').pluck().get() as number;
    const logged = db.prepare('SELECT coalesce(sum(n), 0) AS n, count(*) AS rows, coalesce(sum(length(keys)), 0) AS keys FROM uplink_batches').get() as { n: number; rows: number; keys: number };
    const off = median(times.off);
    const on = median(times.on);
    return {
      batch_rows: batchRows, commits_timed_per_mode: commitsPerPhase, synchronous: 'FULL',
      // Median time of one commit (writeBatch: insert, latest_readings, the log row, fsync).
      commit_ms_off: round(off, 3), commit_ms_on: round(on, 3), commit_overhead_pct: off > 0 ? round(((on - off) / off) * 100) : null,
      us_per_reading_off: round((off * 1000) / batchRows, 2), us_per_reading_on: round((on * 1000) / batchRows, 2),
      wal_pages_per_commit_off: round(pages.off, 2), wal_pages_per_commit_on: round(pages.on, 2),
      readings_bytes_per_reading: round(bytesOf('readings') / readings, 1),
      log_bytes_per_reading: logged.n ? round(bytesOf('uplink_batches') / logged.n, 1) : null,
      log_key_bytes_per_reading: logged.n ? round(logged.keys / logged.n, 2) : null,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
