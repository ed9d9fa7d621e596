// STO-1/3/5 and ING-4/6: the readings write side (batch insert, roll-ups) and read side (latest,
// bucketed history stitched from raw rows and roll-ups), on one real SQLite file.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository, type DeviceRepository, type DeviceSettings } from '../../appliance/storage/devices.ts';
import { createPendingRepository } from '../../appliance/storage/pending.ts';
import { createReadingStore, DELETE_CHUNK_ROWS, ROLLUP_GRACE_MS, type ReadingStore } from '../../appliance/storage/reading-store.ts';
import { createReadingRepository, type HistoryInterval, type HistoryPoint, type ReadingRepository } from '../../appliance/storage/readings.ts';
import * as R from '../../appliance/storage/reading-row.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0); // on an hour boundary

const SETTINGS: DeviceSettings = {
  name: '', location: '', pos_x: null, pos_y: null, gas: 'CH4', unit: 'ppm',
  calib: { k: 1, b: 0, t_ref: 25, t_comp: 0 }, range_max: 50_000, high_limit: null, high2_limit: null, low_limit: null, enabled: true,
};

interface Reading {
  snId: number;
  ts: number;
  vRaw?: number;
  ppm: number;
  temp?: number;
  humi?: number;
  bat?: number;
  rssi?: number;
  seq?: number;
  err?: number;
  flags?: number;
  receivedAt?: number;
}

function pack(readings: Reading[]): Float64Array {
  const rows = new Float64Array(readings.length * R.ROW_FIELDS);
  readings.forEach((r, i) => {
    const o = i * R.ROW_FIELDS;
    rows[o + R.F_SN_ID] = r.snId;
    rows[o + R.F_TS] = r.ts;
    rows[o + R.F_V_RAW] = r.vRaw ?? r.ppm;
    rows[o + R.F_PPM] = r.ppm;
    rows[o + R.F_TEMP] = r.temp ?? 25;
    rows[o + R.F_HUMI] = r.humi ?? NaN;
    rows[o + R.F_BAT] = r.bat ?? 90;
    rows[o + R.F_RSSI] = r.rssi ?? -70;
    rows[o + R.F_SEQ] = r.seq ?? i;
    rows[o + R.F_ERR] = r.err ?? 0;
    rows[o + R.F_FLAGS] = r.flags ?? 0;
    rows[o + R.F_RECEIVED] = r.receivedAt ?? r.ts + 200;
  });
  return rows;
}

let dir: string;
let db: Db;
let devices: DeviceRepository;
let store: ReadingStore;
let repo: ReadingRepository;
let A: number;
let B: number;

function write(readings: Reading[]): number[] {
  return [...store.writeBatch(pack(readings), readings.length).inserted];
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-'));
  db = openDb(dbFileIn(dir));
  devices = createDeviceRepository(db);
  A = devices.insert('A1', SETTINGS, null, T0).sn_id;
  B = devices.insert('B2', SETTINGS, null, T0).sn_id;
  store = createReadingStore(db);
  repo = createReadingRepository(db);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Deterministic ppm values with two decimals. */
const ppmAt = (i: number, base = 100) => Math.round((base + 40 * Math.sin(i / 7) + (i % 13) * 1.37) * 100) / 100;

/** Readings of one device every `stepMs` over [from, to). */
function series(snId: number, from: number, to: number, stepMs: number, base = 100): Reading[] {
  const out: Reading[] = [];
  for (let ts = from, i = 0; ts < to; ts += stepMs, i++) out.push({ snId, ts, ppm: ppmAt(i, base), seq: i % 65_536 });
  return out;
}

/** The reference: buckets computed in JS from the raw readings, rounded as the repository rounds. */
function expectedBuckets(readings: Reading[], from: number, to: number, bucket: number): HistoryPoint[] {
  const groups = new Map<number, number[]>();
  for (const r of readings) {
    if (r.ts < from || r.ts >= to) continue;
    const start = r.ts - (r.ts % bucket);
    if (!groups.has(start)) groups.set(start, []);
    groups.get(start)!.push(R.toScaled(r.ppm));
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([ts, values]) => ({
      ts,
      avg: Math.round(values.reduce((s, v) => s + v, 0) / values.length) / 100,
      min: Math.min(...values) / 100,
      max: Math.max(...values) / 100,
      count: values.length,
    }));
}

describe('writeBatch (ING-4, ING-6)', () => {
  test('stores values scaled by 100 and reads back the exact values', () => {
    const inserted = write([
      { snId: A, ts: T0 + 7, vRaw: 2350.5, ppm: 3516.1, temp: 28.5, bat: 87, rssi: -71, seq: 7, err: 10, flags: R.FLAG_OVERRANGE, receivedAt: T0 + 1_250 },
    ]);
    assert.deepEqual(inserted, [1]);
    const row = db.prepare('SELECT * FROM readings').get();
    assert.deepEqual(row, {
      sn_id: A, ts: T0 + 7, v_raw: 235050, ppm: 351610, temp: 2850, humi: null, bat: 87, rssi: -71, seq: 7, err: 10,
      flags: R.FLAG_OVERRANGE, recv_delta: 1_243,
    });
    assert.deepEqual(repo.latest('A1'), {
      sn: 'A1', ts: T0 + 7, received_at: T0 + 1_250, v_raw: 2350.5, ppm: 3516.1, temp: 28.5, humi: null,
      bat: 87, rssi: -71, seq: 7, err: 10, flags: R.FLAG_OVERRANGE,
    });
  });

  test('a humidity value is stored and read back; NaN means none', () => {
    write([
      { snId: A, ts: T0, ppm: 1, humi: 55.25 },
      { snId: A, ts: T0 + 1000, ppm: 1 },
    ]);
    assert.deepEqual(repo.raw('A1', T0, T0 + 2000).map((r) => r.humi), [55.25, null]);
  });

  test('a duplicate key in a later batch is reported as not inserted and stored once', () => {
    assert.deepEqual(write([{ snId: A, ts: T0 + 5, ppm: 10 }]), [1]);
    assert.deepEqual(write([{ snId: A, ts: T0 + 5, ppm: 99 }, { snId: A, ts: T0 + 6, ppm: 11 }]), [0, 1]);
    const rows = repo.raw('A1', T0, T0 + 1000);
    assert.deepEqual(rows.map((r) => [r.ts, r.ppm]), [[T0 + 5, 10], [T0 + 6, 11]]);
    assert.equal(repo.count(), 2);
  });

  test('a different reading on a taken key moves to the next free millisecond, and its resend is still a duplicate', () => {
    assert.deepEqual(write([{ snId: A, ts: T0 + 5, ppm: 10, seq: 1 }]), [1]);
    assert.deepEqual(write([{ snId: A, ts: T0 + 5, ppm: 20, seq: 2 }]), [1], 'not dropped as a duplicate');
    assert.deepEqual(write([{ snId: A, ts: T0 + 5, ppm: 20, seq: 2 }]), [0], 'its resend is');
    assert.deepEqual(repo.raw('A1', T0, T0 + 1000).map((r) => [r.ts, r.seq, r.ppm]), [[T0 + 5, 1, 10], [T0 + 6, 2, 20]]);
    assert.deepEqual(repo.latestAll().map((r) => [r.sn, r.seq]), [['A1', 2]]);
  });

  test('the same ts for two devices is two readings', () => {
    assert.deepEqual(write([{ snId: A, ts: T0, ppm: 1 }, { snId: B, ts: T0, ppm: 2 }]), [1, 1]);
    assert.equal(repo.count(), 2);
  });

  test('status and pending updates ride along into devices and pending_devices', () => {
    const pending = createPendingRepository(db);
    store.writeBatch(pack([{ snId: A, ts: T0, ppm: 1 }]), 1, [
      { op: 'status', sn: 'A1', status: 'online', lastSeen: T0 + 100, reason: 'reading', at: T0 + 100 },
      { op: 'pending', sn: 'NEW-1', ts: T0 + 100, messages: 3, payload: '{"ts":1}', remote: '10.0.0.5:50000' },
    ]);
    store.writeBatch(new Float64Array(0), 0, [
      { op: 'status', sn: 'B2', status: 'offline', lastSeen: null, reason: 'will', at: T0 + 20_000 },
      { op: 'pending', sn: 'NEW-1', ts: T0 + 20_000, messages: 2, payload: null, remote: null },
    ]);
    assert.equal(devices.get('A1')!.status, 'online');
    assert.equal(devices.get('A1')!.last_seen, T0 + 100);
    assert.equal(devices.get('B2')!.status, 'offline');
    assert.deepEqual(pending.get('NEW-1'), {
      sn: 'NEW-1', first_seen: T0 + 100, last_seen: T0 + 20_000, messages: 5, last_payload: '{"ts":1}', remote_address: '10.0.0.5:50000',
    });
  });
});

describe('latestAll (STO-5)', () => {
  test('returns one row per registered device with its newest reading', () => {
    const C = devices.insert('C3', SETTINGS, null, T0).sn_id;
    devices.insert('EMPTY', SETTINGS, null, T0);
    write([
      { snId: A, ts: T0 + 2000, ppm: 12 },
      { snId: A, ts: T0 + 1000, ppm: 11 },
      { snId: B, ts: T0 + 500, ppm: 21 },
      { snId: A, ts: T0 + 3000, ppm: 13 },
      { snId: B, ts: T0 + 100, ppm: 20 },
      { snId: C, ts: T0 + 9000, ppm: 31 },
    ]);
    devices.remove('C3'); // its readings stay, but it is no longer a registered device
    const latest = repo.latestAll().sort((x, y) => x.sn.localeCompare(y.sn));
    assert.deepEqual(latest.map((r) => [r.sn, r.ts, r.ppm]), [
      ['A1', T0 + 3000, 13],
      ['B2', T0 + 500, 21],
    ]);
    assert.equal(repo.latest('C3')!.ppm, 31, 'readings of a removed device are kept');
  });
});

describe('history (STO-5)', () => {
  test("'10s' buckets come from the raw rows with avg/min/max/count", () => {
    write([
      { snId: A, ts: T0 + 0, ppm: 10 },
      { snId: A, ts: T0 + 3_000, ppm: 20 },
      { snId: A, ts: T0 + 9_999, ppm: 30.5 },
      { snId: A, ts: T0 + 12_000, ppm: 5.25 },
      { snId: A, ts: T0 + 25_000, ppm: 7 },
      { snId: A, ts: T0 + 30_000, ppm: 1000 }, // at `to`: excluded
      { snId: B, ts: T0 + 1_000, ppm: 500 }, // another device
    ]);
    assert.deepEqual(repo.history('A1', T0, T0 + 30_000, '10s'), [
      { ts: T0, avg: 20.17, min: 10, max: 30.5, count: 3 },
      { ts: T0 + 10_000, avg: 5.25, min: 5.25, max: 5.25, count: 1 },
      { ts: T0 + 20_000, avg: 7, min: 7, max: 7, count: 1 },
    ]);
  });

  test("'10s' history over a longer series equals buckets computed from the raw readings", () => {
    const readings = series(A, T0, T0 + 10 * MINUTE, 3_000);
    write(readings);
    assert.deepEqual(repo.history('A1', T0, T0 + 10 * MINUTE, '10s'), expectedBuckets(readings, T0, T0 + 10 * MINUTE, 10_000));
  });

  test('an unknown serial has no history', () => {
    assert.deepEqual(repo.history('NOPE', T0, T0 + HOUR, '1m'), []);
  });
});

describe('roll-ups (STO-3)', () => {
  function rollupRows(table: 'readings_1m' | 'readings_1h', snId: number) {
    return db
      .prepare<[number], { ts: number; n: number; ppm_min: number; ppm_max: number; ppm_sum: number }>(
        `SELECT ts, n, ppm_min, ppm_max, ppm_sum FROM ${table} WHERE sn_id = ? ORDER BY ts`,
      )
      .all(snId);
  }
  function expectedRollup(readings: Reading[], upTo: number, bucket: number) {
    return expectedBuckets(readings, 0, upTo, bucket).map((p) => {
      const values = readings.filter((r) => r.ts >= p.ts && r.ts < p.ts + bucket).map((r) => R.toScaled(r.ppm));
      return { ts: p.ts, n: p.count, ppm_min: Math.min(...values), ppm_max: Math.max(...values), ppm_sum: values.reduce((s, v) => s + v, 0) };
    });
  }
  const watermarks = () =>
    Object.fromEntries(db.prepare<[], { name: string; watermark: number }>('SELECT name, watermark FROM rollup_state').all().map((r) => [r.name, r.watermark]));

  test('a backlog is rolled up in bounded steps that add up to the same result', () => {
    const a = series(A, T0, T0 + 2 * HOUR + 5 * MINUTE, 10_000);
    write(a);
    const now = T0 + 2 * HOUR + ROLLUP_GRACE_MS + 30_000;
    const first = store.rollupStep(now, 10 * MINUTE);
    assert.equal(first.caughtUp, false);
    assert.equal(first.minuteWatermark, T0 + 10 * MINUTE, 'one step covers at most its span');
    let steps = 1;
    for (let result = first; !result.caughtUp; steps++) result = store.rollupStep(now, 10 * MINUTE);
    assert.equal(steps, 12, 'two hours in ten-minute steps; the hours follow in the same steps');
    assert.deepEqual(rollupRows('readings_1m', A), expectedRollup(a, T0 + 2 * HOUR, MINUTE));
    assert.deepEqual(rollupRows('readings_1h', A), expectedRollup(a, T0 + 2 * HOUR, HOUR));
  });

  test('rollup(now) fills readings_1m and readings_1h with count/min/max/sum and advances the watermarks', () => {
    const a = series(A, T0, T0 + 2 * HOUR + 5 * MINUTE, 10_000);
    const b = series(B, T0 + 30 * MINUTE, T0 + 2 * HOUR + 5 * MINUTE, 20_000, 500);
    write([...a, ...b]);
    // Minutes are final ROLLUP_GRACE_MS after they end: at 10:01:30 everything before 10:00 is.
    const now = T0 + 2 * HOUR + ROLLUP_GRACE_MS + 30_000;
    const result = store.rollup(now);
    assert.equal(result.minuteWatermark, T0 + 2 * HOUR);
    assert.equal(result.hourWatermark, T0 + 2 * HOUR);
    assert.deepEqual(watermarks(), { '1m': T0 + 2 * HOUR, '1h': T0 + 2 * HOUR });

    assert.deepEqual(rollupRows('readings_1m', A), expectedRollup(a, T0 + 2 * HOUR, MINUTE));
    assert.deepEqual(rollupRows('readings_1m', B), expectedRollup(b, T0 + 2 * HOUR, MINUTE));
    assert.deepEqual(rollupRows('readings_1h', A), expectedRollup(a, T0 + 2 * HOUR, HOUR));
    assert.deepEqual(rollupRows('readings_1h', B), expectedRollup(b, T0 + 2 * HOUR, HOUR));
    assert.equal(rollupRows('readings_1h', A)[0].n, 360);

    // Ten minutes later the minute watermark moves on; the hour is not complete yet.
    const later = store.rollup(now + 10 * MINUTE);
    assert.equal(later.minuteWatermark, T0 + 2 * HOUR + 5 * MINUTE + 5 * MINUTE);
    assert.equal(later.hourWatermark, T0 + 2 * HOUR);
    assert.deepEqual(rollupRows('readings_1m', A), expectedRollup(a, T0 + 2 * HOUR + 10 * MINUTE, MINUTE));
    assert.deepEqual(rollupRows('readings_1h', A).length, 2);
  });

  test('the watermark survives a new store on the same file and rolled-up minutes are not redone', () => {
    write(series(A, T0, T0 + 30 * MINUTE, 10_000));
    store.rollup(T0 + 20 * MINUTE);
    const before = rollupRows('readings_1m', A);
    const again = createReadingStore(db).rollup(T0 + 20 * MINUTE);
    assert.equal(again.minuteWatermark, T0 + 19 * MINUTE);
    assert.equal(again.minuteBuckets, 0);
    assert.deepEqual(rollupRows('readings_1m', A), before);
  });

  for (const interval of ['1m', '5m', '1h'] as HistoryInterval[]) {
    test(`'${interval}' history after a roll-up equals the same buckets computed from raw readings`, () => {
      const a = series(A, T0, T0 + 3 * HOUR, 10_000);
      write([...a, ...series(B, T0, T0 + 3 * HOUR, 15_000, 900)]);
      // Watermarks: 1m at 09:37, 1h at 09:00; the rest is raw.
      store.rollup(T0 + HOUR + 37 * MINUTE + ROLLUP_GRACE_MS);
      const bucket = { '1m': MINUTE, '5m': 5 * MINUTE, '1h': HOUR }[interval as '1m' | '5m' | '1h'];
      const expected = expectedBuckets(a, T0, T0 + 3 * HOUR, bucket);
      assert.deepEqual(repo.history('A1', T0, T0 + 3 * HOUR, interval), expected);

      // Below the watermarks the roll-ups serve the range: prune the rolled-up raw rows (as the
      // archiver does) and the answer stays the same.
      db.prepare('DELETE FROM readings WHERE ts < ?').run(T0 + HOUR + 37 * MINUTE);
      assert.deepEqual(repo.history('A1', T0, T0 + 3 * HOUR, interval), expected);
    });
  }

  test('a late reading for an already rolled-up minute is included after the next roll-up', () => {
    const a = series(A, T0, T0 + 2 * HOUR, 10_000);
    write(a);
    store.rollup(T0 + 2 * HOUR + ROLLUP_GRACE_MS);
    const late: Reading = { snId: A, ts: T0 + 15 * MINUTE + 4_321, ppm: 9_999.99 };
    assert.deepEqual(write([late]), [1]);
    const result = store.rollup(T0 + 2 * HOUR + ROLLUP_GRACE_MS + 30_000);
    assert.ok(result.minuteBuckets >= 1);
    const all = [...a, late];
    const minute = rollupRows('readings_1m', A).find((r) => r.ts === T0 + 15 * MINUTE)!;
    assert.deepEqual(minute, expectedRollup(all, T0 + 2 * HOUR, MINUTE).find((r) => r.ts === T0 + 15 * MINUTE));
    assert.equal(minute.n, 7);
    assert.equal(minute.ppm_max, 999_999);
    assert.deepEqual(rollupRows('readings_1h', A), expectedRollup(all, T0 + 2 * HOUR, HOUR));
    assert.deepEqual(repo.history('A1', T0, T0 + 2 * HOUR, '1h'), expectedBuckets(all, T0, T0 + 2 * HOUR, HOUR));
    assert.deepEqual(repo.history('A1', T0, T0 + 2 * HOUR, '5m'), expectedBuckets(all, T0, T0 + 2 * HOUR, 5 * MINUTE));
  });

  test('a late minute is still redone when the appliance restarted before the next roll-up', () => {
    const a = series(A, T0, T0 + HOUR, 10_000);
    write(a);
    store.rollup(T0 + HOUR + ROLLUP_GRACE_MS);
    const late: Reading = { snId: A, ts: T0 + 20 * MINUTE + 1_234, ppm: 7_777.77 };
    write([late]);
    store = createReadingStore(db); // a restart: nothing of the old store's memory survives
    store.rollup(T0 + HOUR + ROLLUP_GRACE_MS + 30_000);
    const minute = rollupRows('readings_1m', A).find((r) => r.ts === T0 + 20 * MINUTE)!;
    assert.equal(minute.ppm_max, 777_777);
    assert.deepEqual(rollupRows('readings_1h', A), expectedRollup([...a, late], T0 + HOUR, HOUR));
  });
});

describe('deleteRange (ARC-2, STO-4)', () => {
  test('deletes exactly one device’s range received before the mark, in chunks of DELETE_CHUNK_ROWS with the WAL bound between', () => {
    const rows = 2 * DELETE_CHUNK_ROWS + 500;
    const a = series(A, T0, T0 + rows * 1000, 1000);
    a[10].receivedAt = T0 + 10 * HOUR; // received after the mark: not part of what was exported
    write(a);
    write(series(B, T0, T0 + 100_000, 1000));
    const counts: number[] = [];
    const count = (snId: number) => (db.prepare('SELECT count(*) AS n FROM readings WHERE sn_id = ?').get(snId) as { n: number }).n;
    const deleted = store.deleteRange(A, T0, T0 + (rows - 100) * 1000, T0 + 3 * HOUR, () => counts.push(count(A)));
    assert.equal(deleted, rows - 100 - 1);
    assert.equal(count(A), 101, 'the last 100 and the one received late stay');
    assert.equal(count(B), 100, 'the other device is untouched');
    // The WAL bound ran after each chunk, and each chunk removed at most DELETE_CHUNK_ROWS.
    assert.deepEqual(counts, [rows - DELETE_CHUNK_ROWS + 1, rows - 2 * DELETE_CHUNK_ROWS + 1, 101]); // the late one stays in the first
    assert.equal(store.deleteRange(A, T0, T0 + 5000, T0 + 3 * HOUR), 0, 'an empty range deletes nothing');
  });
});
