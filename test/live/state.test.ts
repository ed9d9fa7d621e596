// The live picture (live/state.ts): each device's state for the kiosk and the device list (UI-5,
// GB 16808 colours: alarm red, fault and unprotected yellow, offline grey), its newest committed
// values from the bus (STO-5), the device page's figures (issue 15.6) and the kiosk counts, where
// output modules are not detectors (issue 15.5). Real bus, real ingest counters and presence for
// the figures; the alarm list and the device table are plain values here.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createBus, type Bus, type ReadingEvent } from '../../appliance/core/bus.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import type { AlarmRecord } from '../../appliance/contract/alarm.ts';
import type { DeviceLinkFigures } from '../../appliance/contract/device.ts';
import { DEFAULT_SETTINGS } from '../../appliance/devices/service.ts';
import type { DeviceCache } from '../../appliance/devices/cache.ts';
import { createIngest } from '../../appliance/ingest/pipeline.ts';
import { createPresence } from '../../appliance/ingest/presence.ts';
import { createLiveState, type LiveStateDeps } from '../../appliance/live/state.ts';
import type { GroupCommitWriter } from '../../appliance/storage/group-commit.ts';
import type { Device } from '../../appliance/storage/devices.ts';
import type { LatestReading } from '../../appliance/storage/readings.ts';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);

let nextSnId = 1;
function device(sn: string, fields: Partial<Device> = {}): Device {
  return {
    ...DEFAULT_SETTINGS, sn, sn_id: nextSnId++, kind: 'detector', high_limit: 1000, password_hash: null,
    status: 'offline', last_seen: null, created_at: T0, updated_at: T0, ...fields,
  };
}

function alarm(sn: string | null, type: string): AlarmRecord {
  return {
    id: 1, sn, source: sn ?? 'disk', type, state: 'active', level: type === 'HIGH' ? 1 : null, priority: 'high', latched: 0,
    value: null, threshold: null, peak: null, detail: null, triggered_at: T0, cleared_at: null, repeat_count: 0,
    notified_at: null, ack_at: null, ack_by: null, ack_comment: null, updated_at: T0,
  };
}

function reading(sn: string, ts: number, fields: Partial<ReadingEvent> = {}): ReadingEvent {
  return { sn, ts, receivedAt: ts + 200, ppm: 12.5, vRaw: 12.5, temp: 25, humi: 40, bat: 90, rssi: -70, err: 0, overrange: false, ...fields };
}

function setup(options: {
  devices: Device[];
  online?: string[];
  alarms?: AlarmRecord[];
  latest?: LatestReading[];
  extra?: Partial<LiveStateDeps>;
}) {
  const bus = createBus();
  const bySn = new Map(options.devices.map((d) => [d.sn, d]));
  const online = new Set(options.online ?? options.devices.map((d) => d.sn));
  const alarms = options.alarms ?? [];
  const live = createLiveState({
    bus, latestAll: () => options.latest ?? [], devices: { get: (sn) => bySn.get(sn), all: () => bySn.values() },
    isOnline: (sn) => online.has(sn), activeAlarms: () => alarms, ...options.extra,
  });
  live.start();
  return { bus, live, online, alarms };
}

describe('live state: device state (UI-5)', () => {
  test('each state from presence, active alarm types and setpoints', () => {
    const { live } = setup({
      devices: [
        device('OK'), device('GONE'), device('GONE-ALARM'), device('HIGH'), device('LOW', { high_limit: null, low_limit: 19.5 }),
        device('FAULT'), device('BOTH'), device('BAT'), device('BARE', { high_limit: null, low_limit: null }),
        device('RELAY', { kind: 'output', high_limit: null, low_limit: null }),
      ],
      online: ['OK', 'HIGH', 'LOW', 'FAULT', 'BOTH', 'BAT', 'BARE', 'RELAY'],
      alarms: [
        alarm('GONE-ALARM', 'HIGH'), alarm('HIGH', 'HIGH'), alarm('LOW', 'LOW'), alarm('FAULT', 'FAULT'),
        alarm('BOTH', 'FAULT'), alarm('BOTH', 'HIGH'), alarm('BAT', 'LOW_BAT'), alarm(null, 'DISK'),
      ],
    });
    const states = Object.fromEntries(live.devices(['OK', 'GONE', 'GONE-ALARM', 'HIGH', 'LOW', 'FAULT', 'BOTH', 'BAT', 'BARE', 'RELAY']).map((d) => [d.sn, d.status]));
    assert.deepEqual(states, {
      OK: 'ok',
      GONE: 'offline',
      'GONE-ALARM': 'offline', // grey wins: its last value is not a live one
      HIGH: 'alarm',
      LOW: 'alarm',
      FAULT: 'fault',
      BOTH: 'alarm', // a gas alarm is red even while a FAULT is active too
      BAT: 'ok', // LOW_BAT stays green
      BARE: 'unprotected', // ALM-9: no setpoint protects nobody
      RELAY: 'ok', // issue 15.5: an output module has no setpoints by nature
    });
  });

  test('a device lists its own active alarm types, never a system alarm', () => {
    const { live } = setup({ devices: [device('A1'), device('A2')], alarms: [alarm('A1', 'FAULT'), alarm('A1', 'LOW_BAT'), alarm(null, 'DISK')] });
    assert.deepEqual(live.device('A1').alarms, ['FAULT', 'LOW_BAT']);
    assert.deepEqual(live.device('A2').alarms, []);
  });

  test('the state follows the alarm list and presence as they change (nothing cached)', () => {
    const { live, online, alarms } = setup({ devices: [device('A1')] });
    assert.equal(live.device('A1').status, 'ok');
    alarms.push(alarm('A1', 'HIGH'));
    assert.equal(live.device('A1').status, 'alarm');
    online.delete('A1');
    assert.equal(live.device('A1').status, 'offline');
    assert.equal(live.device('A1').online, false);
  });
});

describe('live state: newest values (STO-5)', () => {
  const stored: LatestReading = {
    sn: 'A1', ts: T0, received_at: T0 + 1500, v_raw: 10, ppm: 10, temp: 20, humi: null, bat: 80, rssi: -60, seq: 3, err: 0, flags: 0,
  };

  test('the stored newest reading at start, then committed readings from the bus; a late resend does not replace a newer value', () => {
    const { bus, live } = setup({ devices: [device('A1'), device('A2')], latest: [stored] });
    assert.equal(live.device('A1').ppm, 10);
    assert.equal(live.device('A1').ts, new Date(T0).toISOString());
    assert.equal(live.device('A2').ppm, null, 'no reading yet');
    assert.equal(live.device('A2').ts, null);

    bus.emit('readings', [reading('A1', T0 + 60_000, { ppm: 55.5, err: 2 }), reading('A2', T0 + 5_000, { ppm: 1 })]);
    assert.deepEqual(
      { ppm: live.device('A1').ppm, err: live.device('A1').err, ts: live.device('A1').ts },
      { ppm: 55.5, err: 2, ts: new Date(T0 + 60_000).toISOString() },
    );
    bus.emit('readings', [reading('A1', T0 + 30_000, { ppm: 999 })]); // a backlog's resend, older
    assert.equal(live.device('A1').ppm, 55.5);
    assert.equal(live.lastReadingAt('A1'), T0 + 60_000);
    assert.equal(live.device('A2').ppm, 1);
  });

  test('after stop the bus no longer moves it', () => {
    const { bus, live } = setup({ devices: [device('A1')] });
    live.stop();
    bus.emit('readings', [reading('A1', T0)]);
    assert.equal(live.device('A1').ppm, null);
  });
});

describe('live state: the device page figures (issue 15.6)', () => {
  test('last_received_at is when the newest reading arrived, not its device time; last_seen falls back to it', () => {
    const { bus, live } = setup({ devices: [device('A1')] });
    assert.deepEqual(live.figures('A1'), {
      stored: 0, missing: 0, loss_pct: null, clock_skew_ms: null, firmware: null, lastReceivedAt: null, lastSeen: null, relay: null, relayAt: null,
    });
    bus.emit('readings', [reading('A1', T0, { receivedAt: T0 + 42_000 })]);
    const figures = live.figures('A1');
    assert.equal(figures.lastReceivedAt, T0 + 42_000);
    assert.equal(figures.lastSeen, T0 + 42_000, 'without presence, the last reading is the last message');
  });

  test('last_seen from presence is later than the last reading after a status message; loss and skew from ingest counters', async () => {
    const bus: Bus = createBus();
    const clock = manualClock(T0);
    const presence = createPresence({ bus, clock, timeoutMs: 90_000 });
    const a1 = device('A1');
    const devices = { get: (sn: string) => (sn === 'A1' ? a1 : undefined), all: () => [a1].values(), onReload() {} };
    // The writer commits at once and reports each reading inserted (the key dedupe is the pipeline test's).
    const writer = {
      enqueue: (_fill: unknown, done: (error: Error | null, inserted: boolean) => void) => done(null, true),
      enqueueUpdate() {},
    } as unknown as GroupCommitWriter;
    const ingest = createIngest({ devices: devices as unknown as DeviceCache, writer, presence, bus, clock, log: silentLogger(), clockSkewMs: 60_000 });
    const live = createLiveState({
      bus, latestAll: () => [], devices, isOnline: (sn) => presence.isOnline(sn), activeAlarms: () => [],
      lastSeen: (sn) => presence.lastSeen(sn), linkFigures: (sn) => ingest.linkFigures(sn),
    });
    live.start();
    const up = (seq: number, deviceTs: number) => {
      const body = { ts: Math.floor(deviceTs / 1000), seq, v_raw: 5, temp: 25, bat: 90, rssi: -70, err: 0, ver: '2.1.0' };
      ingest.handleUp('A1', Buffer.from(JSON.stringify(body)), 1, null, () => {});
    };
    // Seq 1, 2, then 5: 3 and 4 missing of 5 expected (40 %). The device clock runs 3 s ahead.
    up(1, clock.now() + 3_000);
    clock.advance(10_000);
    up(2, clock.now() + 3_000);
    clock.advance(10_000);
    const lastReadingAt = clock.now();
    up(5, clock.now() + 3_000);
    await new Promise((resolve) => setImmediate(resolve)); // committed readings reach the bus in a microtask
    clock.advance(20_000);
    ingest.handleStatus('A1', Buffer.from('{"status":"online"}'), false);
    const figures = live.figures('A1');
    assert.equal(figures.stored, 3);
    assert.equal(figures.missing, 2);
    assert.equal(figures.loss_pct, 40);
    assert.equal(figures.clock_skew_ms, 3_000, "the device's lead over the appliance");
    assert.equal(figures.firmware, '2.1.0');
    assert.equal(figures.lastReceivedAt, lastReadingAt);
    assert.equal(figures.lastSeen, lastReadingAt + 20_000, 'the status message came after the last reading');
    live.stop();
  });

  test("an output module's relays as it last reported them", () => {
    const { bus, live } = setup({ devices: [device('R1', { kind: 'output', high_limit: null })] });
    bus.emit('output_state', { sn: 'R1', relay: { '1': true, '2': false }, at: T0 + 5 });
    bus.emit('output_state', { sn: 'R1', relay: { '1': false }, at: T0 + 9 });
    const figures = live.figures('R1');
    assert.deepEqual(figures.relay, { '1': false });
    assert.equal(figures.relayAt, T0 + 9);
  });

  test('link figures are passed through as ingest gives them', () => {
    const link: DeviceLinkFigures = { stored: 7, missing: 1, loss_pct: 12.5, clock_skew_ms: -250, firmware: 'x' };
    const { live } = setup({ devices: [device('A1')], extra: { linkFigures: () => link } });
    assert.deepEqual({ ...live.figures('A1') }, { ...link, lastReceivedAt: null, lastSeen: null, relay: null, relayAt: null });
  });
});

describe('live state: counts and fleet (kiosk)', () => {
  test('counts detectors only: output modules are neither online, offline nor alarms', () => {
    const { live } = setup({
      devices: [
        device('D1'), device('D2'), device('D3'), device('D4'),
        device('R1', { kind: 'output', high_limit: null }), device('R2', { kind: 'output', high_limit: null }),
      ],
      online: ['D1', 'D2', 'D3', 'R1'],
      alarms: [alarm('D1', 'HIGH'), alarm('D2', 'FAULT'), alarm('D4', 'HIGH'), alarm('R1', 'HIGH')],
    });
    // D4's HIGH is on an offline detector: grey, not counted as an alarm.
    assert.deepEqual(live.counts(), { total: 4, online: 3, offline: 1, alarm: 1 });
  });

  test('the fleet lists every registered device with its kind and setpoints, output modules included', () => {
    const { live } = setup({ devices: [device('D1', { high2_limit: 2000, name: 'Boiler' }), device('R1', { kind: 'output', high_limit: null })] });
    const fleet = live.fleet();
    assert.deepEqual(fleet.map((d) => [d.sn, d.kind, d.high_limit, d.high2_limit, d.status]), [
      ['D1', 'detector', 1000, 2000, 'ok'],
      ['R1', 'output', null, null, 'ok'],
    ]);
    assert.equal(fleet[0]!.name, 'Boiler');
    assert.deepEqual(live.allSns(), ['D1', 'R1']);
  });
});
