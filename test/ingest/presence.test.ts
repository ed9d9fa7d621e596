// ING-7: online while readings arrive; offline after the timeout (swept, no sleeping) or at once
// on a Last Will or disconnect; each transition is one bus event.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createBus, type DeviceStatusEvent } from '../../appliance/core/bus.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { createPresence } from '../../appliance/ingest/presence.ts';

const TIMEOUT = 90_000;

function setup() {
  const bus = createBus();
  const clock = manualClock(Date.UTC(2026, 0, 1, 8, 0, 0));
  const events: DeviceStatusEvent[] = [];
  bus.on('device_status', (event) => events.push(event));
  const presence = createPresence({ bus, clock, timeoutMs: TIMEOUT });
  return { bus, clock, events, presence };
}

describe('presence (ING-7)', () => {
  test('the first message makes a device online with one event; later messages add none', () => {
    const { clock, events, presence } = setup();
    const t0 = clock.now();
    presence.seen('A1');
    clock.advance(10_000);
    presence.seen('A1');
    presence.seen('A1', 'status_message');
    assert.deepEqual(events, [{ sn: 'A1', status: 'online', ts: t0, reason: 'reading' }]);
    assert.equal(presence.isOnline('A1'), true);
    assert.equal(presence.lastSeen('A1'), t0 + 10_000);
  });

  test('a device is not marked offline before the timeout', () => {
    const { clock, events, presence } = setup();
    presence.seen('A1');
    clock.advance(TIMEOUT - 1);
    assert.equal(presence.sweep(), 0);
    assert.equal(presence.isOnline('A1'), true);
    assert.equal(events.length, 1);
  });

  test('each message restarts the timeout', () => {
    const { clock, events, presence } = setup();
    presence.seen('A1');
    clock.advance(60_000);
    presence.seen('A1');
    clock.advance(60_000);
    assert.equal(presence.sweep(), 0);
    assert.equal(presence.isOnline('A1'), true);
    assert.equal(events.filter((e) => e.status === 'offline').length, 0);
  });

  test('a device silent for exactly the timeout goes offline on the sweep with reason timeout', () => {
    const { clock, events, presence } = setup();
    presence.seen('A1');
    presence.seen('B2');
    clock.advance(30_000);
    presence.seen('B2');
    clock.advance(TIMEOUT - 30_000);
    const at = clock.now();
    assert.equal(presence.sweep(), 1);
    assert.equal(presence.isOnline('A1'), false);
    assert.equal(presence.isOnline('B2'), true);
    assert.deepEqual(events.at(-1), { sn: 'A1', status: 'offline', ts: at, reason: 'timeout' });
    // A second sweep repeats nothing.
    clock.advance(1_000);
    assert.equal(presence.sweep(), 0);
    assert.equal(events.filter((e) => e.sn === 'A1' && e.status === 'offline').length, 1);
    assert.deepEqual(presence.counts(), { online: 1, offline: 1 });
  });

  test('a Last Will makes the device offline at once', () => {
    const { clock, events, presence } = setup();
    presence.seen('A1');
    clock.advance(1_000);
    presence.gone('A1', 'will');
    assert.equal(presence.isOnline('A1'), false);
    assert.deepEqual(events.at(-1), { sn: 'A1', status: 'offline', ts: clock.now(), reason: 'will' });
  });

  test('a disconnect after the will adds no second offline event; a new reading brings it back online', () => {
    const { clock, events, presence } = setup();
    presence.seen('A1');
    presence.gone('A1', 'will');
    presence.gone('A1', 'disconnect');
    assert.equal(events.filter((e) => e.status === 'offline').length, 1);
    clock.advance(5_000);
    presence.seen('A1');
    assert.deepEqual(events.at(-1), { sn: 'A1', status: 'online', ts: clock.now(), reason: 'reading' });
    assert.equal(events.length, 3);
  });

  test('restore() brings back last-seen times and who was online, without events', () => {
    const { clock, events, presence } = setup();
    const now = clock.now();
    presence.restore([
      ['RECENT', now - 30_000, true],
      ['STALE', now - TIMEOUT - 1, false],
      ['NEVER', null, false],
    ]);
    assert.equal(events.length, 0);
    assert.equal(presence.isOnline('RECENT'), true);
    assert.equal(presence.isOnline('STALE'), false);
    assert.equal(presence.isOnline('NEVER'), false);
    assert.equal(presence.lastSeen('RECENT'), now - 30_000);
    assert.equal(presence.lastSeen('NEVER'), null);
    assert.deepEqual(presence.counts(), { online: 1, offline: 2 });

    // The restored device times out counted from its restored last-seen time.
    clock.advance(TIMEOUT - 30_000);
    assert.equal(presence.sweep(), 1);
    assert.deepEqual(events, [{ sn: 'RECENT', status: 'offline', ts: clock.now(), reason: 'timeout' }]);

    // A stale device that talks again comes online with an event.
    presence.seen('STALE');
    assert.deepEqual(events.at(-1), { sn: 'STALE', status: 'online', ts: clock.now(), reason: 'reading' });
  });

  test('a device that was online when the appliance stopped and never came back goes offline at the first sweep', () => {
    const { clock, events, presence } = setup();
    presence.restore([['DIED', clock.now() - 2 * 3_600_000, true]]);
    assert.equal(presence.sweep(), 1);
    assert.deepEqual(events, [{ sn: 'DIED', status: 'offline', ts: clock.now(), reason: 'timeout' }]);
  });
});
