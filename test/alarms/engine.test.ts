// ALM-2/ALM-3 lifecycle on a real SQLite file, with a hand-driven clock and the real bus.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAlarmEngine, type AlarmEngine } from '../../appliance/alarms/engine.ts';
import type { AlarmEvent } from '../../appliance/contract/alarm.ts';
import { createBus, type Bus, type ReadingEvent } from '../../appliance/core/bus.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { createDeviceCache } from '../../appliance/devices/cache.ts';
import { DEFAULT_SETTINGS } from '../../appliance/devices/service.ts';
import { createAlarmRepository } from '../../appliance/storage/alarms.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import { tempDir } from '../helpers/appliance.ts';

const MINUTE = 60_000;
let temp: ReturnType<typeof tempDir>;
let db: Db;
let bus: Bus;
let clock: ReturnType<typeof manualClock>;
let engine: AlarmEngine;
let events: string[];
let offEvents: () => void;

function newEngine() {
  const devices = createDeviceCache(createDeviceRepository(db));
  devices.reload();
  const e = createAlarmEngine({ alarms: createAlarmRepository(db), devices, bus, clock, log: silentLogger() });
  e.start();
  return e;
}

beforeEach(() => {
  temp = tempDir();
  db = openDb(dbFileIn(temp.dir));
  createDeviceRepository(db).insert('GAS-1', { ...DEFAULT_SETTINGS, high_limit: 1000, low_limit: null }, null, 0);
  bus = createBus();
  clock = manualClock(Date.UTC(2026, 0, 1, 8));
  events = [];
  offEvents = bus.on('alarm', (e: AlarmEvent) => events.push(`${e.kind}:${e.alarm.type}:${e.alarm.id}`));
  engine = newEngine();
});
afterEach(() => {
  engine.stop();
  offEvents();
  db.close();
  temp.remove();
});

function readings(...ppms: number[]) {
  for (const ppm of ppms) {
    clock.advance(10_000);
    const reading: ReadingEvent = {
      sn: 'GAS-1', ts: clock.now(), receivedAt: clock.now(), ppm, vRaw: ppm, temp: 25, humi: null, bat: 90, rssi: -70, err: 0, overrange: false,
    };
    bus.emit('readings', [reading]);
  }
}

const rows = () => createAlarmRepository(db).list().items.reverse();

describe('alarm lifecycle (ALM-2, ALM-3)', () => {
  test('a leak is one HIGH record while it lasts, with its peak, cleared below the deadband', () => {
    readings(500, 1200, 1500, 1300, 980, 940, 500);
    assert.deepEqual(events, ['raised:HIGH:1', 'cleared:HIGH:1']);
    const [alarm] = rows();
    assert.equal(rows().length, 1);
    assert.deepEqual([alarm.state, alarm.value, alarm.threshold, alarm.peak], ['cleared', 1200, 1000, 1500]);
    assert.ok(alarm.cleared_at! > alarm.triggered_at);
  });

  test('a second excursion within the debounce window re-opens the record as a counted repeat', () => {
    readings(1200, 500);
    clock.advance(5 * MINUTE);
    readings(1100, 500);
    assert.deepEqual(events, ['raised:HIGH:1', 'cleared:HIGH:1', 'repeat:HIGH:1', 'cleared:HIGH:1']);
    assert.equal(rows().length, 1);
    assert.equal(rows()[0].repeat_count, 1);
  });

  test('an excursion after the debounce window is a new record', () => {
    readings(1200, 500);
    clock.advance(11 * MINUTE);
    readings(1100);
    assert.deepEqual(events, ['raised:HIGH:1', 'cleared:HIGH:1', 'raised:HIGH:2']);
  });

  test('OFFLINE follows the presence events', () => {
    bus.emit('device_status', { sn: 'GAS-1', status: 'offline', ts: clock.now(), reason: 'will' });
    bus.emit('device_status', { sn: 'GAS-1', status: 'offline', ts: clock.now(), reason: 'timeout' });
    bus.emit('device_status', { sn: 'GAS-1', status: 'online', ts: clock.now(), reason: 'reading' });
    assert.deepEqual(events, [], 'gathered until the burst is over');
    engine.flushStatusChanges();
    assert.deepEqual(events, ['raised:OFFLINE:1', 'cleared:OFFLINE:1']);
    assert.equal(rows()[0].detail, 'will');
  });

  test('acknowledging is independent of clearing, and happens once', () => {
    readings(1200);
    const [alarm] = rows();
    assert.equal(engine.acknowledge([alarm.id], 'operator1', 'fan started').length, 1);
    assert.equal(engine.acknowledge([alarm.id], 'operator2', 'again').length, 0, 'already acknowledged');
    const acked = rows()[0];
    assert.deepEqual([acked.state, acked.ack_by, acked.ack_comment], ['active', 'operator1', 'fan started']);
    readings(500);
    assert.deepEqual([rows()[0].state, rows()[0].ack_by], ['cleared', 'operator1']);
    assert.deepEqual(events, ['raised:HIGH:1', 'acknowledged:HIGH:1', 'cleared:HIGH:1']);
  });

  test('after a restart the active alarms are known: nothing is raised again, and clearing still works', () => {
    readings(1200);
    engine.stop();
    engine = newEngine();
    assert.deepEqual(engine.active().map((a) => a.type), ['HIGH']);
    readings(1300, 1250);
    assert.deepEqual(events, ['raised:HIGH:1'], 'not re-fired');
    readings(100);
    assert.deepEqual(events, ['raised:HIGH:1', 'cleared:HIGH:1']);
    assert.equal(rows()[0].peak, 1300, 'the peak seen after the restart is kept');
  });

  test('system alarms use the same lifecycle', () => {
    engine.raiseSystem('DISK', 'disk', 'free space below 10 %', 8);
    engine.raiseSystem('DISK', 'disk', 'free space below 10 %', 7);
    engine.clearSystem('DISK', 'disk');
    assert.deepEqual(events, ['raised:DISK:1', 'cleared:DISK:1']);
    assert.equal(rows()[0].sn, null);
  });

  test('live readings not stored (license locked, LIC-4) are evaluated; stored ones are evaluated once, from the committed batch', () => {
    const reading = (ppm: number): ReadingEvent => {
      clock.advance(10_000);
      return { sn: 'GAS-1', ts: clock.now(), receivedAt: clock.now(), ppm, vRaw: ppm, temp: 25, humi: null, bat: 90, rssi: -70, err: 0, overrange: false };
    };
    bus.emit('live_readings', { readings: [reading(1500)], stored: false });
    assert.deepEqual(events, ['raised:HIGH:1']);
    const committed = [reading(100)];
    bus.emit('live_readings', { readings: committed, stored: true });
    assert.deepEqual(events, ['raised:HIGH:1'], "the stored batch's live copy is not evaluated again");
    bus.emit('readings', committed);
    assert.deepEqual(events, ['raised:HIGH:1', 'cleared:HIGH:1']);
  });

  test('readings of unknown devices and of devices without limits raise nothing', () => {
    bus.emit('readings', [{ sn: 'NOBODY', ts: 0, receivedAt: 0, ppm: 1e6, vRaw: 0, temp: 25, humi: null, bat: 90, rssi: 0, err: 0, overrange: false }]);
    assert.deepEqual(events, []);
  });
});
