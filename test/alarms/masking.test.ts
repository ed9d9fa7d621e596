// Issue 15.1: masking (屏蔽, ISA-18.2 shelving) in the writer's core on a real SQLite file: a masked
// detector's alarms are recorded and journaled as masked without outbox rows; when the mask ends
// (by hand, or expired against the batch's time) an alarm still standing is notified then, in the
// transaction that ends the mask. The kiosk's side: a level-2 alarm under a mask still sounds.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ALARM_COMMIT_SETTINGS, type AlarmEvent } from '../../appliance/contract/alarm.ts';
import type { AlarmView } from '../../appliance/contract/live.ts';
import { DEFAULT_SETTINGS } from '../../appliance/devices/service.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import { createMaskRepository } from '../../appliance/storage/masks.ts';
import { packRows } from './support.ts';
import { createWriterCore, type WriterCore } from '../../appliance/storage/writer-core.ts';
import { patternOf } from '../../ui/src/kiosk/annunciator.ts';
import { tempDir } from '../helpers/appliance.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 8);
let temp: ReturnType<typeof tempDir>;
let db: Db;
let core: WriterCore;
let now: number;
let events: AlarmEvent[];

function reading(ppm: number, sn = 'GAS-1') {
  now += 10_000;
  const packed = packRows([{ snId: createDeviceRepository(db).get(sn)!.sn_id, ts: now, seq: now / 10_000, ppm, high: 1000, high2: 2000 }]);
  events.push(...core.writeBatch(packed, 1, []).events);
}

const outbox = () => db.prepare('SELECT alarm_id, event, channel FROM notification_outbox ORDER BY id').all() as { alarm_id: number; event: string; channel: string }[];
const journal = (alarmId = 1) => db.prepare('SELECT kind, detail FROM alarm_journal WHERE alarm_id = ? ORDER BY id').all(alarmId) as { kind: string; detail: string | null }[];
const kinds = (alarmId = 1) => journal(alarmId).map((e) => e.kind);

beforeEach(() => {
  temp = tempDir();
  db = openDb(dbFileIn(temp.dir));
  const devices = createDeviceRepository(db);
  for (const sn of ['GAS-1', 'GAS-2']) devices.insert(sn, { ...DEFAULT_SETTINGS, high_limit: 1000, high2_limit: 2000, low_limit: null }, null, 0);
  now = T0;
  events = [];
  core = createWriterCore(db, { alarmSettings: { ...DEFAULT_ALARM_COMMIT_SETTINGS, notify: { ...DEFAULT_ALARM_COMMIT_SETTINGS.notify, channels: ['email'] } } });
});
afterEach(() => {
  db.close();
  temp.remove();
});

describe('masking in the commit (issue 15.1)', () => {
  test('a bump test under a mask is recorded and journaled as masked, with no outbox rows', () => {
    core.mask(['GAS-1'], 'bump test', 'op', now, now + 30 * MINUTE);
    for (const ppm of [500, 1200, 2500, 1500, 300]) reading(ppm);
    assert.deepEqual(events.map((e) => `${e.kind}:${e.alarm.level}`), ['raised:1', 'level:2', 'peak:2', 'level:1', 'cleared:1']);
    assert.deepEqual(outbox(), [], 'nobody is messaged');
    assert.deepEqual(kinds(), ['raised', 'masked', 'level', 'masked', 'peak', 'level', 'masked', 'cleared', 'masked']);
    assert.match(journal().find((e) => e.kind === 'masked')!.detail!, /^raised: not notified, masked until .* \(bump test\)$/);
    // The other detector is not masked: its alarm is notified as ever.
    reading(1500, 'GAS-2');
    assert.deepEqual(outbox(), [{ alarm_id: 2, event: 'raised', channel: 'email' }]);
    // Ended by hand after the alarm cleared: nothing is owed.
    assert.equal(core.unmask(['GAS-1'], 'op', now).events.length, 0);
    assert.equal(outbox().length, 1);
  });

  test('a mask that expires while the detector is in alarm: the held-back raise is queued at the expiry, once', () => {
    core.mask(['GAS-1'], 'calibration', 'op', now, now + 5 * MINUTE);
    reading(1500);
    assert.deepEqual(outbox(), []);
    assert.equal(core.unmask(null, 'expiry', now + MINUTE).ended.length, 0, 'not yet expired');
    const { ended, events: unmaskEvents } = core.unmask(null, 'expiry', T0 + 5 * MINUTE);
    assert.deepEqual(ended.map((m) => m.sn), ['GAS-1']);
    assert.deepEqual(unmaskEvents.map((e) => e.kind), ['raised']);
    assert.ok(unmaskEvents[0].alarm.notified_at, 'marked notified');
    assert.deepEqual(outbox(), [{ alarm_id: 1, event: 'raised', channel: 'email' }]);
    assert.deepEqual(kinds().slice(-2), ['unmasked', 'notification']);
    assert.equal(journal().at(-2)!.detail, 'expired');
    assert.deepEqual(createMaskRepository(db).open(), [], 'the mask row is ended');
    // Unmasked now: a rise to level 2 notifies as ever; nothing is queued twice.
    reading(2500);
    assert.deepEqual(outbox().map((r) => r.event), ['raised', 'level']);
    assert.equal(core.unmask(['GAS-1'], 'op', now).ended.length, 0);
  });

  test('past its time a mask holds nothing back, even before the expiry ended it', () => {
    core.mask(['GAS-1'], 'maintenance', 'op', now, now + MINUTE);
    now += 2 * MINUTE;
    reading(1500);
    assert.deepEqual(outbox().map((r) => r.event), ['raised']);
    core.unmask(null, 'expiry', now);
    assert.equal(outbox().length, 1, 'the expiry does not notify the same raise again');
  });

  test('a level-2 rise under a mask of an alarm notified before: the level is owed and sent at the unmask', () => {
    reading(1500);
    core.mask(['GAS-1'], 'maintenance', 'op', now, now + 30 * MINUTE);
    assert.equal(journal().at(-1)!.kind, 'masked', 'the mask is journaled on the active alarm');
    reading(2500);
    assert.deepEqual(outbox().map((r) => r.event), ['raised']);
    const { events: unmaskEvents } = core.unmask(['GAS-1'], 'op', now);
    assert.deepEqual(unmaskEvents.map((e) => `${e.kind}:${e.alarm.level}`), ['level:2']);
    assert.deepEqual(outbox().map((r) => r.event), ['raised', 'level']);
  });

  test('masks are durable: a new core (a restart) still holds the masked detector back', () => {
    core.mask(['GAS-1'], 'bump test', 'op', now, now + 30 * MINUTE);
    core = createWriterCore(db, { alarmSettings: { ...DEFAULT_ALARM_COMMIT_SETTINGS, notify: { ...DEFAULT_ALARM_COMMIT_SETTINGS.notify, channels: ['email'] } } });
    reading(1500);
    assert.deepEqual(outbox(), []);
    assert.ok(kinds().includes('masked'));
  });
});

describe('the kiosk under a mask (issue 15.1)', () => {
  const view = (level: number, masked?: AlarmView['masked']): Parameters<typeof patternOf>[0] =>
    ({ type: 'HIGH', level, priority: level === 2 ? 'critical' : 'high', isa_state: 'active_unacknowledged', masked });
  const until = new Date(T0 + 30 * MINUTE).toISOString();
  test('a masked level-2 alarm still sounds when configured so; a masked level-1 does not', () => {
    assert.equal(patternOf(view(2, { until, sounds: true })), 'level2');
    assert.equal(patternOf(view(2, { until, sounds: false })), null);
    assert.equal(patternOf(view(1, { until, sounds: true })), null);
    assert.equal(patternOf(view(1)), 'level1');
  });
});
