// ING-7: online while readings arrive; offline after the timeout (swept, no sleeping), and on a
// Last Will or disconnect at once (no grace) or when its grace ends (issue 15.4); each transition
// is one bus event.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createBus, type DeviceStatusEvent } from '../../appliance/core/bus.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { createPresence, withRebootGrace } from '../../appliance/ingest/presence.ts';
import type { DeviceCommand } from '../../appliance/contract/device-payload.ts';

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

describe('the grace of a device that left (issue 15.4)', () => {
  const GRACE = 60_000;
  const REBOOT_GRACE = 180_000;

  function withGrace() {
    const base = setup();
    const presence = createPresence({ bus: base.bus, clock: base.clock, timeoutMs: TIMEOUT, graceMs: GRACE, rebootGraceMs: REBOOT_GRACE });
    const offline = () => base.events.filter((e) => e.status === 'offline');
    return { ...base, presence, offline };
  }

  for (const reason of ['will', 'disconnect', 'status_message'] as const) {
    test(`gone (${reason}) and back within the grace: no event at all, online throughout`, () => {
      const { clock, events, presence, offline } = withGrace();
      presence.seen('A1');
      clock.advance(1_000);
      const leftAt = clock.now();
      presence.gone('A1', reason);
      assert.equal(presence.isOnline('A1'), true, 'online while in grace');
      assert.equal(presence.awayUntil('A1'), leftAt + GRACE);
      clock.advance(GRACE - 1);
      assert.equal(presence.sweep(), 0);
      presence.seen('A1', 'status_message');
      assert.equal(presence.awayUntil('A1'), null);
      // Its grace is over: long after, the sweep still raises nothing (the timeout counts from the return).
      clock.advance(TIMEOUT - 1);
      assert.equal(presence.sweep(), 0);
      assert.deepEqual(offline(), []);
      assert.equal(events.length, 1, 'only the first online');
    });
  }

  test('still away when the grace ends: one offline event, for the reason it left, on the sweep', () => {
    const { clock, presence, offline } = withGrace();
    presence.seen('A1');
    presence.gone('A1', 'will');
    presence.gone('A1', 'disconnect'); // the connection closing after its will does not restart the grace
    clock.advance(GRACE);
    const at = clock.now();
    assert.equal(presence.sweep(), 1);
    assert.equal(presence.isOnline('A1'), false);
    assert.deepEqual(offline(), [{ sn: 'A1', status: 'offline', ts: at, reason: 'will' }]);
    clock.advance(GRACE);
    assert.equal(presence.sweep(), 0);
    presence.gone('A1', 'disconnect');
    assert.equal(offline().length, 1, 'exactly one');
    assert.equal(presence.awayUntil('A1'), null);
  });

  test('back after the grace but before a sweep: the OFFLINE it earned is still raised, then it is online', () => {
    const { clock, events, presence } = withGrace();
    presence.seen('A1');
    presence.gone('A1', 'disconnect');
    clock.advance(GRACE + 2_000);
    presence.seen('A1');
    assert.deepEqual(events.slice(1).map((e) => `${e.status}:${e.reason}`), ['offline:disconnect', 'online:reading']);
    assert.equal(presence.isOnline('A1'), true);
  });

  test('the silence timeout does not cut a grace short, and the grace is bounded: offline at its end', () => {
    const { clock, presence, offline } = withGrace();
    presence.seen('A1');
    clock.advance(TIMEOUT - 10_000);
    presence.gone('A1', 'will');
    clock.advance(10_000); // past the silence timeout, inside the grace
    assert.equal(presence.sweep(), 0);
    clock.advance(GRACE - 10_000);
    assert.equal(presence.sweep(), 1);
    assert.equal(offline()[0].reason, 'will');
  });

  test('a reboot command lets the device stay away for the reboot grace, counted from the command, once', () => {
    const { clock, presence, offline } = withGrace();
    presence.seen('A1');
    presence.rebootCommanded('A1');
    clock.advance(2_000);
    presence.gone('A1', 'disconnect');
    assert.equal(presence.awayUntil('A1'), clock.now() - 2_000 + REBOOT_GRACE);
    clock.advance(REBOOT_GRACE - 2_001); // well past the ordinary grace
    assert.equal(presence.sweep(), 0);
    assert.equal(presence.isOnline('A1'), true);
    presence.seen('A1', 'status_message'); // back from the reboot
    // The next departure has the ordinary grace again.
    clock.advance(1_000);
    presence.gone('A1', 'will');
    assert.equal(presence.awayUntil('A1'), clock.now() + GRACE);
    clock.advance(GRACE);
    assert.equal(presence.sweep(), 1);
    assert.equal(offline().length, 1);
  });

  test('a device that does not come back from a reboot is offline when the reboot grace ends', () => {
    const { clock, presence, offline } = withGrace();
    presence.seen('A1');
    const commandedAt = clock.now();
    presence.rebootCommanded('A1');
    clock.advance(1_000);
    presence.gone('A1', 'will');
    clock.set(commandedAt + REBOOT_GRACE - 1);
    assert.equal(presence.sweep(), 0);
    clock.set(commandedAt + REBOOT_GRACE);
    assert.equal(presence.sweep(), 1);
    assert.deepEqual(offline(), [{ sn: 'A1', status: 'offline', ts: commandedAt + REBOOT_GRACE, reason: 'will' }]);
  });

  test('a grace of 0 is offline at once', () => {
    const { clock, bus, events } = setup();
    const presence = createPresence({ bus, clock, timeoutMs: TIMEOUT, graceMs: 0, rebootGraceMs: 0 });
    presence.seen('A1');
    presence.gone('A1', 'will');
    assert.deepEqual(events.at(-1), { sn: 'A1', status: 'offline', ts: clock.now(), reason: 'will' });
  });

  test('a device in grace when the appliance stopped is restored online and goes offline by the timeout', () => {
    // Its grace is not stored: SQLite still says online (no event was emitted), so after a restart the
    // silence timeout from its last message decides, never later than before issue 15.4.
    const { clock, presence, offline } = withGrace();
    const lastSeen = clock.now() - 30_000;
    presence.restore([['GRACE-1', lastSeen, true]]);
    clock.set(lastSeen + TIMEOUT);
    assert.equal(presence.sweep(), 1);
    assert.deepEqual(offline(), [{ sn: 'GRACE-1', status: 'offline', ts: lastSeen + TIMEOUT, reason: 'timeout' }]);
  });

  test('withRebootGrace: a reboot tells presence before it goes out and takes it back if sending fails; other commands pass through', async () => {
    const { clock, presence } = withGrace();
    presence.seen('A1');
    const sent: string[] = [];
    let fail = false;
    const commands = withRebootGrace({
      isConnected: () => true,
      sendCommand: async (sn: string, command: DeviceCommand) => {
        sent.push(`${sn}:${command.cmd}`);
        if (fail) throw new Error('broker not running');
        // The detector may drop its connection before its PUBACK reaches the appliance.
        if (command.cmd === 'reboot') presence.gone(sn, 'disconnect');
      },
    }, presence);
    await commands.sendCommand('A1', { cmd: 'debug', duration: 60 });
    presence.gone('A1', 'disconnect');
    assert.equal(presence.awayUntil('A1'), clock.now() + GRACE, 'a debug command extends nothing');
    presence.seen('A1');

    fail = true;
    await assert.rejects(commands.sendCommand('A1', { cmd: 'reboot', delay: 5 }), /broker not running/);
    presence.gone('A1', 'disconnect');
    assert.equal(presence.awayUntil('A1'), clock.now() + GRACE, 'a reboot that was not sent extends nothing');
    presence.seen('A1');

    fail = false;
    await commands.sendCommand('A1', { cmd: 'reboot', delay: 5 });
    assert.equal(presence.awayUntil('A1'), clock.now() + REBOOT_GRACE, 'the drop before the PUBACK already has the reboot grace');
    assert.deepEqual(sent, ['A1:debug', 'A1:reboot', 'A1:reboot']);
  });
});
