// Issue 15.6: the device view's figures for the device page, through a real broker and MQTT client
// on a hand-driven clock: the last reading's time (received and device) apart from the time the
// device came online — SQLite's devices.last_seen, written only when the status changes — and the
// last message of any kind as last_seen; battery, signal, temperature, humidity, firmware; packet
// loss from sequence gaps (ING-4) and clock skew from device time − received time (ING-5).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { statusTopic } from '../../appliance/contract/topics.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { linkFiguresOf, type DeviceIngestStats } from '../../appliance/ingest/pipeline.ts';
import { trackClock, trackSequence } from '../../appliance/ingest/steps.ts';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';

let api: ApiApp;
let client: MqttClient | null = null;
const SN = 'FIG-1';
const T0 = Date.UTC(2026, 4, 12, 8, 0, 0);
const SKEW_S = 20; // the detector's clock runs 20 s ahead of the appliance's

before(async () => {
  api = await startApi({}, { clock: manualClock(T0) });
});
after(async () => {
  await client?.endAsync();
  await api.stop();
});

const view = async () => (await api.call('GET', `/api/devices/${SN}`, { token: api.tokens.viewer })).body;

test('last_received_at is the newest reading, last_seen the newest message, both apart from the connection time SQLite keeps', async () => {
  const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: SN, gas: 'CH4', unit: '%LEL', high_limit: 20, high2_limit: 40 } });
  assert.equal(created.status, 201);
  const before = await view();
  for (const field of ['last_reading_at', 'last_received_at', 'last_seen', 'bat', 'firmware', 'packet_loss_pct', 'clock_skew_ms'] as const) {
    assert.equal(before[field], null, `${field} before any message`);
  }

  client = await connectDevice(api.url, SN, created.body.password);
  await client.publishAsync(statusTopic(SN), JSON.stringify({ status: 'online' }), { qos: 1, retain: true });
  await eventually(() => api.app.testApi.storedDevice(SN)?.status === 'online', 5000, 'online in SQLite');
  const connectedAt = api.app.testApi.storedDevice(SN)!.last_seen;
  assert.equal(connectedAt, T0, 'SQLite keeps the time the status changed');

  // Readings a minute apart; seq 3 never arrives.
  const sent: [offsetS: number, seq: number][] = [[60, 1], [120, 2], [180, 4]];
  for (const [offsetS, seq] of sent) {
    api.clock.set(T0 + offsetS * 1000);
    await publishReading(client, SN, { ts: T0 / 1000 + offsetS + SKEW_S, seq, bat: 15, rssi: -105, temp: 31.5, humi: 40, ver: '2.3.1' });
  }
  const lastAt = T0 + 180_000;
  await eventually(() => api.app.testApi.liveFigures(SN).lastReceivedAt === lastAt, 5000, 'the last reading live');

  const device = await view();
  assert.equal(api.app.testApi.storedDevice(SN)!.last_seen, connectedAt, 'the stored time is still the connection time');
  assert.equal(device.last_received_at, new Date(lastAt).toISOString(), 'received: the appliance clock at the last reading');
  assert.equal(device.last_seen, new Date(lastAt).toISOString(), 'last seen: the last message, not the connection');
  assert.equal(device.last_reading_at, new Date(lastAt + SKEW_S * 1000 + 4).toISOString(), "the reading's own time (device clock; seq in the milliseconds)");
  assert.deepEqual(
    { bat: device.bat, rssi: device.rssi, temp: device.temp, humi: device.humi, firmware: device.firmware },
    { bat: 15, rssi: -105, temp: 31.5, humi: 40, firmware: '2.3.1' },
  );
  assert.equal(device.missing_readings, 1);
  assert.equal(device.packet_loss_pct, 25, '1 missing of 4 expected');
  assert.equal(device.clock_skew_ms, SKEW_S * 1000, 'measured between live readings (ING-5), device ahead');

  // A status message later is a message too: last_seen moves, the last reading does not.
  api.clock.set(T0 + 200_000);
  await client.publishAsync(statusTopic(SN), JSON.stringify({ status: 'online' }), { qos: 1, retain: true });
  await eventually(() => api.app.testApi.lastSeen(SN) === T0 + 200_000, 5000, 'the status message seen');
  const later = await view();
  assert.equal(later.last_seen, new Date(T0 + 200_000).toISOString());
  assert.equal(later.last_received_at, new Date(lastAt).toISOString());

  const listed = (await api.call('GET', `/api/devices?q=${SN}`, { token: api.tokens.viewer })).body.data[0];
  assert.equal(listed.last_received_at, later.last_received_at, 'the list carries the same figures');
  assert.equal(listed.packet_loss_pct, 25);
});

function freshStats(): DeviceIngestStats {
  return {
    received: 0, stored: 0, duplicates: 0, dropped: {}, skewedReadings: 0, lastServerTs: 0, recentSkewed: new Set(),
    lastSeq: null, gaps: 0, offsetMs: null, anchorReceivedAt: 0, anchorDeviceMs: 0, firmware: null, newestSkewMs: null,
  };
}

test('link figures: no reading gives nulls; the skew of the newest reading stands until ING-5 has measured between live readings', () => {
  assert.deepEqual(linkFiguresOf(undefined), { stored: 0, missing: 0, loss_pct: null, clock_skew_ms: null, firmware: null });
  const stats = freshStats();
  for (const seq of [10, 11, 14]) trackSequence(stats, seq);
  stats.stored = 3;
  stats.newestSkewMs = -1_500;
  assert.deepEqual(linkFiguresOf(stats), { stored: 3, missing: 2, loss_pct: 40, clock_skew_ms: -1_500, firmware: null });
  trackClock(stats, 1_000_000 - 7_000, 1_000_000, 300_000);
  trackClock(stats, 1_060_000 - 7_000, 1_060_000, 300_000);
  assert.equal(linkFiguresOf(stats).clock_skew_ms, -7_000, 'device 7 s behind');
});
