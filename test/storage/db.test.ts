// STO-1: one SQLite file, WAL mode, versioned migrations applied at open; readings WITHOUT ROWID.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createReadingRepository } from '../../appliance/storage/readings.ts';
import { dbFileIn, migrate, openDb, schemaVersion, type Db } from '../../appliance/storage/db.ts';
import { migrations, type Migration } from '../../appliance/storage/migrations/index.ts';

const LATEST = migrations.at(-1)!.version;

let dir: string;
let file: string;
const open: Db[] = [];
const track = (db: Db) => {
  open.push(db);
  return db;
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-'));
  file = dbFileIn(path.join(dir, 'data'));
});
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('openDb (STO-1)', () => {
  test('a new file gets every migration and user_version is the latest', () => {
    const db = track(openDb(file));
    assert.ok(fs.existsSync(file), 'the data directory and file are created');
    assert.equal(schemaVersion(db), LATEST);
    assert.equal(db.pragma('user_version', { simple: true }), LATEST);
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all()
      .map((t) => t.name);
    for (const name of ['devices', 'readings', 'readings_1m', 'readings_1h', 'pending_devices', 'serials', 'system_config']) {
      assert.ok(tables.includes(name), `table ${name} missing: ${tables.join(', ')}`);
    }
  });

  test('reopening an up-to-date file changes nothing and keeps the data', () => {
    const first = track(openDb(file));
    first.prepare("INSERT INTO system_config (key, value, updated_at) VALUES ('k', '\"v\"', 1)").run();
    const schemaBefore = first.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').all();
    first.close();
    const second = track(openDb(file));
    assert.equal(schemaVersion(second), LATEST);
    assert.deepEqual(second.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').all(), schemaBefore);
    assert.deepEqual(second.prepare('SELECT key, value FROM system_config').all(), [{ key: 'k', value: '"v"' }]);
  });

  test('the journal is in WAL mode and the file persists it', () => {
    const db = track(openDb(file));
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    const raw = track(new Database(file, { readonly: true }));
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  });

  test('synchronous follows the option (FULL = 2, NORMAL = 1)', () => {
    const full = track(openDb(file, { synchronous: 'FULL' }));
    assert.equal(full.pragma('synchronous', { simple: true }), 2);
    const normal = track(openDb(file, { synchronous: 'NORMAL' }));
    assert.equal(normal.pragma('synchronous', { simple: true }), 1);
  });

  test('a database with a newer schema than the program is refused with a clear message', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const future = new Database(file);
    future.pragma(`user_version = ${LATEST + 5}`);
    future.close();
    assert.throws(() => track(openDb(file)), (err: Error) => {
      assert.match(err.message, new RegExp(`version ${LATEST + 5}`));
      assert.match(err.message, /newer than this program/);
      assert.match(err.message, /upgrade/i);
      return true;
    });
    // The file is untouched.
    const check = track(new Database(file, { readonly: true }));
    assert.equal(check.pragma('user_version', { simple: true }), LATEST + 5);
  });
});

describe('migrate (STO-1)', () => {
  const next: Migration = { version: LATEST + 1, name: 'test addition', sql: 'CREATE TABLE extra (id INTEGER PRIMARY KEY);' };

  test('a database at an earlier version gets only the newer migrations', () => {
    track(openDb(file)).close();
    const db = track(openDb(file, { migrations: [...migrations, next] }));
    assert.equal(schemaVersion(db), LATEST + 1);
    assert.ok(db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'extra'").get());
  });

  test('a failing migration is rolled back and leaves user_version where it was', () => {
    const db = track(openDb(file));
    const broken: Migration = { version: LATEST + 1, name: 'broken', sql: 'CREATE TABLE half (id INTEGER); SELECT * FROM no_such_table;' };
    assert.throws(() => migrate(db, [...migrations, broken]), /no_such_table/);
    assert.equal(schemaVersion(db), LATEST);
    assert.equal(db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'half'").get(), undefined);
  });
});

describe('upgrades (STO-1)', () => {
  for (const [index, from] of migrations.slice(0, -1).entries()) {
    test(`a database at version ${from.version} upgrades to the latest and keeps its devices`, () => {
      const old = track(openDb(file, { migrations: migrations.slice(0, index + 1) }));
      old.prepare("INSERT INTO serials (sn) VALUES ('OLD-1')").run();
      old.prepare("INSERT INTO devices (sn, sn_id, created_at, updated_at) VALUES ('OLD-1', 1, 0, 0)").run();
      const insertReading = old.prepare('INSERT INTO readings VALUES (1, ?, 100, ?, 2500, NULL, 90, -70, ?, 0, 0, 50)');
      for (let seq = 1; seq <= 3; seq++) insertReading.run(1_790_000_000_000 + seq * 10_000, seq * 1000, seq);
      old.close();
      const upgraded = track(openDb(file));
      assert.equal(schemaVersion(upgraded), LATEST);
      assert.equal((upgraded.prepare('SELECT count(*) AS n FROM devices').get() as { n: number }).n, 1);
      assert.equal(createReadingRepository(upgraded).count(), 3, 'the readings are kept');
      if (from.version < 3) {
        // Migration 003 fills latest_readings from what is there; from then on the writer keeps it.
        const latest = createReadingRepository(upgraded).latestAll();
        assert.deepEqual(latest.map((r) => [r.sn, r.seq, r.ppm]), [['OLD-1', 3, 30]], 'the newest reading of each device is known');
      }
      assert.equal(upgraded.pragma('integrity_check', { simple: true }), 'ok');
    });
  }
});

describe('migration 007: alarm ids never reused (ALM-8)', () => {
  test('a version-6 database keeps its alarms, their ids and the outbox rows pointing at them; a deleted newest id is not handed out again', () => {
    const old = track(openDb(file, { migrations: migrations.filter((m) => m.version <= 6) }));
    const insertAlarm = old.prepare("INSERT INTO alarms (sn, source, type, state, value, peak, triggered_at, updated_at) VALUES ('A-1', 'A-1', ?, 'cleared', 1500, 1500, 0, 0)");
    for (const type of ['HIGH', 'LOW_BAT', 'FAULT']) insertAlarm.run(type);
    old.prepare("INSERT INTO notification_outbox (alarm_id, event, channel, status, next_attempt_at, created_at, updated_at) VALUES (3, 'raised', 'email', 'sent', 0, 0, 0)").run();
    old.close();
    const upgraded = track(openDb(file));
    assert.equal(schemaVersion(upgraded), LATEST);
    assert.deepEqual(upgraded.prepare('SELECT id, type FROM alarms ORDER BY id').all(), [{ id: 1, type: 'HIGH' }, { id: 2, type: 'LOW_BAT' }, { id: 3, type: 'FAULT' }]);
    assert.deepEqual(upgraded.pragma('foreign_key_check'), []);
    assert.equal(upgraded.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again after the rebuild');
    assert.match(upgraded.prepare<[], { sql: string }>("SELECT sql FROM sqlite_schema WHERE name = 'alarms'").get()!.sql, /AUTOINCREMENT/);
    assert.ok(upgraded.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'alarms_one_active'").get(), 'the one-active-record index is back');
    upgraded.prepare('DELETE FROM notification_outbox').run();
    upgraded.prepare('DELETE FROM alarm_journal WHERE alarm_id = 3').run();
    upgraded.prepare('DELETE FROM alarms WHERE id = 3').run();
    const next = upgraded.prepare("INSERT INTO alarms (sn, source, type, state, triggered_at, updated_at) VALUES ('B-1', 'B-1', 'HIGH', 'active', 0, 0)").run();
    assert.equal(Number(next.lastInsertRowid), 4);
    assert.equal(upgraded.pragma('integrity_check', { simple: true }), 'ok');
  });
});

describe('readings table (STO-1)', () => {
  test('readings is a WITHOUT ROWID table keyed (sn_id, ts)', () => {
    const db = track(openDb(file));
    const { sql } = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_schema WHERE name = 'readings'").get()!;
    assert.match(sql, /WITHOUT ROWID/i);
    assert.throws(() => db.prepare('SELECT rowid FROM readings').all(), /no such column: rowid/);

    const indexes = db.prepare<[], { name: string; origin: string; unique: number }>("PRAGMA index_list('readings')").all();
    assert.equal(indexes.length, 1, `only the primary key, no extra index: ${JSON.stringify(indexes)}`);
    assert.equal(indexes[0].origin, 'pk');
    const columns = db
      .prepare<[], { seqno: number; name: string }>(`PRAGMA index_info('${indexes[0].name}')`)
      .all()
      .sort((a, b) => a.seqno - b.seqno)
      .map((c) => c.name);
    assert.deepEqual(columns, ['sn_id', 'ts']);
  });

  test('a second row with the same (sn_id, ts) is refused by the key', () => {
    const db = track(openDb(file));
    const insert = db.prepare(
      'INSERT INTO readings (sn_id, ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta) VALUES (1, 1000, 1, 1, 1, NULL, 1, -1, 1, 0, 0, 0)',
    );
    insert.run();
    assert.throws(() => insert.run(), /UNIQUE|PRIMARY KEY/);
  });
});
