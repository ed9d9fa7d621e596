// ALM-2, ALM-3, ALM-8: the alarm lifecycle where the readings are committed — the writer's core
// (storage/writer-core.ts) on a real SQLite file, driven batch by batch as the writer thread does.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALARM_COMMIT_SETTINGS, type AlarmCommitSettings, type AlarmEvent, type AlarmRecord } from '../../appliance/contract/alarm.ts';
import { DEFAULT_SETTINGS } from '../../appliance/devices/service.ts';
import { createAlarmRepository } from '../../appliance/storage/alarms.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import { packRows } from './support.ts';
import { DUPLICATE, REFUSE_LIMIT, REFUSED, STORED, type WriterUpdate } from '../../appliance/storage/reading-store.ts';
import { createWriterCore, type WriterCore } from '../../appliance/storage/writer-core.ts';
import { tempDir } from '../helpers/appliance.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 8);
let temp: ReturnType<typeof tempDir>;
let db: Db;
let core: WriterCore;
let events: string[];
let now: number;

interface Row {
  sn?: string;
  ppm: number;
  bat?: number;
  err?: number;
  overrange?: boolean;
  ts?: number;
  high?: number | null;
  high2?: number | null;
  low?: number | null;
}

const snIdOf = (sn: string) => createDeviceRepository(db).get(sn)!.sn_id;

/** The packed rows the ingest stage hands the writer, one 10 s apart. */
function pack(rows: Row[]): Float64Array {
  return packRows(rows.map((row, i) => {
    now += 10_000;
    return {
      snId: snIdOf(row.sn ?? 'GAS-1'), ts: row.ts ?? now, receivedAt: now, seq: i, ppm: row.ppm, bat: row.bat, err: row.err, overrange: row.overrange,
      high: row.high === undefined ? 1000 : row.high, high2: row.high2 ?? null, low: row.low ?? null,
    };
  }));
}

function record(list: AlarmEvent[]) {
  for (const e of list) events.push(`${e.kind}:${e.alarm.type}:${e.alarm.id}`);
  return list;
}

/** One batch (one transaction), as the writer thread writes it. */
function batch(rows: Row[], updates: WriterUpdate[] = []) {
  const result = core.writeBatch(pack(rows), rows.length, updates);
  record(result.events);
  return result;
}
const readings = (...ppms: number[]) => ppms.map((ppm) => batch([{ ppm }]));

function newCore(settings: Partial<AlarmCommitSettings> = {}, failEvaluation?: { sn: string; times: number }) {
  return createWriterCore(db, { alarmSettings: { ...DEFAULT_ALARM_COMMIT_SETTINGS, ...settings }, failEvaluation });
}

const rows = () => db.prepare('SELECT * FROM alarms ORDER BY id').all() as AlarmRecord[];
/** What the database says is active, as `type:source`. */
const activeInDb = () => createAlarmRepository(db).active().map((a) => `${a.type}:${a.source}`).sort();

beforeEach(() => {
  temp = tempDir();
  db = openDb(dbFileIn(temp.dir));
  const devices = createDeviceRepository(db);
  for (const sn of ['GAS-1', 'GAS-2']) devices.insert(sn, { ...DEFAULT_SETTINGS, high_limit: 1000, low_limit: null }, null, 0);
  events = [];
  now = T0;
  core = newCore();
});
afterEach(() => {
  db.close();
  temp.remove();
});

describe('alarm lifecycle in the commit (ALM-2, ALM-3, ALM-8)', () => {
  test('a leak is one HIGH record while it lasts; its peak is stored as it rises; cleared below the deadband', () => {
    readings(500, 1200, 1500);
    assert.equal(rows()[0].peak, 1500, 'the peak is in the database while the alarm is active');
    readings(1300, 980, 940, 500);
    assert.deepEqual(events, ['raised:HIGH:1', 'peak:HIGH:1', 'cleared:HIGH:1']);
    const [alarm] = rows();
    assert.equal(rows().length, 1);
    assert.deepEqual([alarm.state, alarm.value, alarm.threshold, alarm.peak], ['cleared', 1200, 1000, 1500]);
    assert.ok(alarm.cleared_at! > alarm.triggered_at);
  });

  test('readings of one batch are judged in order: over the limit then normal raises, then clears', () => {
    batch([{ ppm: 1500 }, { ppm: 100 }, { ppm: 1200, sn: 'GAS-2' }]);
    assert.deepEqual(events, ['raised:HIGH:1', 'cleared:HIGH:1', 'raised:HIGH:2']);
    assert.deepEqual(activeInDb(), ['HIGH:GAS-2']);
  });

  test('a late reading (older than one already judged) may raise, never clear', () => {
    batch([{ ppm: 1500 }]);
    batch([{ ppm: 100, ts: T0 }]); // from before the leak, resent after a reconnect
    assert.deepEqual(activeInDb(), ['HIGH:GAS-1'], 'still active');
    batch([{ ppm: 100 }]);
    assert.deepEqual(events, ['raised:HIGH:1', 'cleared:HIGH:1']);
  });

  test('a duplicate (ING-4) is not judged again', () => {
    const leak = pack([{ ppm: 1500 }]);
    record(core.writeBatch(leak, 1, []).events);
    now += 10 * MINUTE;
    const again = core.writeBatch(leak, 1, []);
    assert.deepEqual([...again.inserted], [DUPLICATE]);
    assert.deepEqual(again.events, []);
  });

  test('a second excursion within the debounce window re-opens the record as a counted repeat', () => {
    readings(1200, 500);
    now += 5 * MINUTE;
    readings(1100, 500);
    assert.deepEqual(events, ['raised:HIGH:1', 'cleared:HIGH:1', 'repeat:HIGH:1', 'cleared:HIGH:1']);
    assert.equal(rows().length, 1);
    assert.deepEqual([rows()[0].repeat_count, rows()[0].peak], [1, 1200], 'the peak stays the worst of the record');
  });

  test('an excursion after the debounce window is a new record', () => {
    readings(1200, 500);
    now += 11 * MINUTE;
    readings(1100);
    assert.deepEqual(events, ['raised:HIGH:1', 'cleared:HIGH:1', 'raised:HIGH:2']);
  });

  test('OFFLINE rides the status updates of a commit; an unknown device raises nothing', () => {
    const status = (sn: string, s: 'online' | 'offline', reason: string): WriterUpdate => ({ op: 'status', sn, status: s, lastSeen: null, reason, at: now });
    batch([], [status('GAS-1', 'offline', 'will'), status('GAS-1', 'offline', 'timeout'), status('NOBODY', 'offline', 'will')]);
    batch([], [status('GAS-1', 'online', 'reading')]);
    assert.deepEqual(events, ['raised:OFFLINE:1', 'cleared:OFFLINE:1']);
    assert.equal(rows()[0].detail, 'will');
  });

  test('non-gas alarms carry their own values: battery % for LOW_BAT, the error code for FAULT', () => {
    batch([{ ppm: 10, bat: 15, err: 50 }]);
    const byType = Object.fromEntries(rows().map((a) => [a.type, a]));
    assert.deepEqual([byType.LOW_BAT.value, byType.LOW_BAT.threshold], [15, 20]);
    assert.deepEqual([byType.FAULT.value, byType.FAULT.detail], [50, 'err 50: calibration lost']);
    batch([{ ppm: 10, bat: 9, err: 0 }]);
    assert.equal(createAlarmRepository(db).get(byType.LOW_BAT.id)!.peak, 9, 'the lowest battery is the peak');
  });

  test('acknowledging is independent of clearing, and happens once', () => {
    readings(1200);
    const [alarm] = rows();
    assert.equal(record(core.acknowledge([alarm.id], 'operator1', 'fan started', now)).length, 1);
    assert.equal(record(core.acknowledge([alarm.id], 'operator2', 'again', now)).length, 0, 'already acknowledged');
    readings(500);
    assert.deepEqual([rows()[0].state, rows()[0].ack_by, rows()[0].ack_comment], ['cleared', 'operator1', 'fan started']);
    assert.deepEqual(events, ['raised:HIGH:1', 'acknowledged:HIGH:1', 'cleared:HIGH:1']);
  });

  test('after a restart the active alarms are known: nothing is raised again, and clearing still works', () => {
    readings(1200);
    core = newCore();
    readings(1300, 1250);
    assert.deepEqual(events, ['raised:HIGH:1', 'peak:HIGH:1'], 'not re-fired');
    readings(100);
    assert.deepEqual(events, ['raised:HIGH:1', 'peak:HIGH:1', 'cleared:HIGH:1']);
    assert.equal(rows()[0].peak, 1300);
  });

  test('system conditions use the same lifecycle', () => {
    const disk = (holds: boolean, value: number | null): WriterUpdate => ({ op: 'system', type: 'DISK', source: 'disk', holds, detail: holds ? 'free space below 10 %' : null, value, at: now });
    batch([], [disk(true, 8), disk(true, 9)]);
    batch([], [disk(false, null)]);
    assert.deepEqual(events, ['raised:DISK:1', 'cleared:DISK:1']);
    assert.equal(rows()[0].sn, null);
  });

  test('devices without setpoints raise no gas alarm', () => {
    batch([{ ppm: 1e6, high: null }]);
    assert.deepEqual(events, []);
  });

  test('the outbox rows of an alarm commit with it, per the notification policy', () => {
    core = newCore({ notify: { ...DEFAULT_ALARM_COMMIT_SETTINGS.notify, channels: ['email', 'webhook'] } });
    readings(1500, 1600, 100);
    const outbox = db.prepare('SELECT alarm_id, event, channel FROM notification_outbox ORDER BY id').all();
    assert.deepEqual(outbox, [
      { alarm_id: 1, event: 'raised', channel: 'email' }, { alarm_id: 1, event: 'raised', channel: 'webhook' },
      { alarm_id: 1, event: 'cleared', channel: 'email' }, { alarm_id: 1, event: 'cleared', channel: 'webhook' },
    ]);
    assert.ok(rows()[0].notified_at !== null);
  });
});

describe('failures (ALM-8): memory follows the database', () => {
  test('an evaluation failure refuses that reading only; the resend raises the alarm', () => {
    core = newCore({}, { sn: 'GAS-1', times: 1 });
    const first = batch([{ ppm: 1500 }, { ppm: 1200, sn: 'GAS-2' }]);
    assert.deepEqual([...first.inserted], [REFUSED, STORED], 'the other device is stored and judged');
    assert.equal(first.refused.length, 1);
    assert.match(first.refused[0].reason, /injected evaluation failure/);
    assert.equal(db.prepare('SELECT count(*) FROM readings').pluck().get(), 1, 'the refused reading is not stored');
    assert.deepEqual(activeInDb(), ['HIGH:GAS-2']);
    const resent = core.writeBatch(pack([{ ppm: 1500 }]), 1, []);
    record(resent.events);
    assert.deepEqual([...resent.inserted], [STORED]);
    assert.deepEqual(activeInDb(), ['HIGH:GAS-1', 'HIGH:GAS-2']);
  });

  test(`a reading refused ${REFUSE_LIMIT} times is stored with a FAULT saying its rules could not be applied`, () => {
    core = newCore({}, { sn: 'GAS-1', times: 1000 });
    const poison = pack([{ ppm: 1500 }]);
    for (let i = 1; i < REFUSE_LIMIT; i++) assert.deepEqual([...core.writeBatch(poison, 1, []).inserted], [REFUSED]);
    const last = core.writeBatch(poison, 1, []);
    record(last.events);
    assert.deepEqual([...last.inserted], [STORED]);
    assert.equal(last.refused[0].storedAnyway, true);
    const [fault] = rows();
    assert.deepEqual([fault.type, fault.state], ['FAULT', 'active']);
    assert.match(fault.detail!, /alarm rules could not be applied/);
  });

  test('disk full during alarm transitions: nothing is committed, no phantom in memory, no cross-device clear; with space back alarms raise normally', () => {
    readings(1200); // GAS-1 HIGH active, id 1
    // Cap the file where it is and fill what is left, so the next transaction cannot allocate a page.
    db.exec('CREATE TABLE filler (x BLOB)');
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    assert.throws(() => {
      for (;;) db.prepare('INSERT INTO filler VALUES (randomblob(4000))').run();
    }, /full/);
    // The transitions come first (GAS-2 raised, GAS-1 cleared, a DISK alarm); the rows after them need new pages.
    const bulk = Array.from({ length: 400 }, () => ({ ppm: 5000, sn: 'GAS-2' }));
    const full = [{ ppm: 5000, sn: 'GAS-2' }, { ppm: 100 }, ...bulk];
    assert.throws(() => batch(full, [{ op: 'system', type: 'DISK', source: 'disk', holds: true, detail: 'full', value: 0, at: now }]), /full/);
    assert.deepEqual(activeInDb(), ['HIGH:GAS-1']);
    db.pragma('max_page_count = 1073741823');
    db.exec('DROP TABLE filler');
    // What the failed batch staged is gone: GAS-1 is still active in memory (a clear follows), GAS-2 raises anew.
    batch([{ ppm: 5000, sn: 'GAS-2' }]);
    batch([{ ppm: 100 }]);
    assert.deepEqual(activeInDb(), ['HIGH:GAS-2']);
    assert.deepEqual(events, ['raised:HIGH:1', 'raised:HIGH:2', 'cleared:HIGH:1']);
  });

  test('alarm ids are never reused, not even after the newest record is gone', () => {
    readings(1200);
    db.exec('DELETE FROM alarm_journal; DELETE FROM alarms');
    core = newCore();
    readings(1300);
    assert.deepEqual(rows().map((a) => a.id), [2]);
  });
});

describe('reconciliation at start (ALM-8)', () => {
  test('a latest reading over the limit without its alarm is alarmed at start; one back to normal clears a stale alarm', () => {
    const store = core.store;
    store.writeBatch(pack([{ ppm: 3000 }, { ppm: 10, sn: 'GAS-2' }]), 2, []);
    // The readings without their alarm, and a stale one, as an older database (or a bug) would leave them.
    db.exec('DELETE FROM alarm_journal; DELETE FROM notification_outbox; DELETE FROM alarms');
    db.prepare(
      "INSERT INTO alarms (sn, source, type, state, value, peak, triggered_at, updated_at) VALUES ('GAS-2', 'GAS-2', 'HIGH', 'active', 1500, 1500, 0, 0)",
    ).run();
    core = newCore();
    const { events: reconciled, failures } = core.reconcile();
    record(reconciled);
    assert.deepEqual(failures, []);
    assert.deepEqual(activeInDb(), ['HIGH:GAS-1']);
    assert.deepEqual(events.map((e) => e.replace(/:\d+$/, '')), ['raised:HIGH', 'cleared:HIGH']);
    assert.deepEqual(core.reconcile().events, [], 'a second pass finds nothing to change');
  });
});

describe('levels, priorities, latching and the journal (ALM-9…ALM-12)', () => {
  const journal = (id: number) => createAlarmRepository(db).journal(id).map((e) => `${e.kind}${e.level === null ? '' : `@${e.level}`}${e.actor ? `:${e.actor}` : ''}`);
  const leak = (...ppms: number[]) => ppms.map((ppm) => batch([{ ppm, high2: 2000 }]));

  test('a ramp through level 1 and level 2 is one record whose level rises and falls back; the rise is notified again', () => {
    core = newCore({ notify: { ...DEFAULT_ALARM_COMMIT_SETTINGS.notify, channels: ['email'] } });
    leak(1500, 2500, 1950, 1850, 900);
    assert.equal(rows().length, 1);
    assert.deepEqual(events, ['raised:HIGH:1', 'level:HIGH:1', 'peak:HIGH:1', 'level:HIGH:1', 'cleared:HIGH:1']);
    const [alarm] = rows();
    assert.deepEqual([alarm.level, alarm.peak, alarm.priority, alarm.threshold], [1, 2500, 'high', 1000], 'back at level 1 when it cleared');
    const outbox = db.prepare('SELECT event FROM notification_outbox ORDER BY id').pluck().all();
    assert.deepEqual(outbox, ['raised', 'level', 'cleared'], 'level 2 is notified; falling back to level 1 is not');
    assert.deepEqual(journal(1), [
      'raised@1', 'notification:email', 'level@2', 'notification:email', 'peak@2', 'level@1', 'cleared@1', 'notification:email',
    ]);
  });

  test('priorities follow type and level: level 2 critical, level 1 high, FAULT medium, LOW_BAT low; configurable', () => {
    leak(2500);
    batch([{ ppm: 10, sn: 'GAS-2', err: 50, bat: 5 }]);
    const byType = Object.fromEntries(rows().map((a) => [`${a.type}${a.level ?? ''}`, a.priority]));
    assert.deepEqual(byType, { HIGH2: 'critical', FAULT: 'medium', LOW_BAT: 'low' });
    core = newCore({ priorities: { LOW_BAT: 'high' } });
    batch([{ ppm: 10, bat: 5 }]);
    assert.equal(rows().find((a) => a.type === 'LOW_BAT' && a.sn === 'GAS-1')!.priority, 'high');
  });

  test('a cleared gas alarm latches until acknowledged; a cleared OFFLINE does not; an acknowledgement is kept in the journal when the episode reopens', () => {
    const repo = createAlarmRepository(db);
    leak(1500, 100);
    const status = (s: 'online' | 'offline'): WriterUpdate => ({ op: 'status', sn: 'GAS-2', status: s, lastSeen: null, reason: 'will', at: now });
    batch([], [status('offline')]);
    batch([], [status('online')]);
    assert.deepEqual(repo.listed().map((a) => `${a.type}:${a.state}:${a.latched}`), ['HIGH:cleared:1'], 'returned to normal, unacknowledged');
    record(core.acknowledge([1], 'wang', 'ventilated', now));
    assert.deepEqual(repo.listed(), [], 'acknowledged: off the list');
    now += MINUTE;
    leak(1600); // within the debounce: the same record again
    assert.deepEqual([rows()[0].state, rows()[0].ack_at], ['active', null], 'the new excursion is unacknowledged');
    assert.deepEqual(journal(1).filter((e) => e.startsWith('acknowledged') || e.startsWith('repeat')), ['acknowledged@1:wang', 'repeat@1']);
  });

  test('silencing is journaled per alarm with who silenced', () => {
    leak(1500);
    batch([{ ppm: 1200, sn: 'GAS-2' }]);
    let silenced = 0;
    core.store.transact(() => (silenced = core.silence([1, 2], 'control room (viewer)', now)));
    assert.equal(silenced, 2);
    assert.deepEqual(journal(2), ['raised@1', 'silenced:control room (viewer)']);
  });
});
