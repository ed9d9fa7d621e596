// LIC-4…LIC-6 through the real parts: the real license server, the real aedes broker with real MQTT
// clients, SQLite, the alarm engine and the notification outbox with a real local webhook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { LiveReadingsEvent } from '../../appliance/core/bus.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { connectDevice, eventually, publishReading, startApp, type RunningApp } from '../helpers/appliance.ts';
import { startHttpServer } from '../notify/support.ts';
import { issue, MACHINE_A, startLicenseServer, vendorKeys } from '../licensing/support.ts';

const HOUR = 3_600_000;
const keys = vendorKeys();

async function register(app: RunningApp, count: number, prefix = 'DEV') {
  const passwords = new Map<string, string>();
  for (let i = 1; i <= count; i++) {
    const sn = `${prefix}-${i}`;
    passwords.set(sn, (await app.app.parts.devices.add({ sn, high_limit: 1000, calib: { k: 1, b: 0 } })).password!);
  }
  return passwords;
}

async function connectAll(app: RunningApp, passwords: Map<string, string>) {
  const clients: MqttClient[] = [];
  for (const [sn, password] of passwords) clients.push(await connectDevice(app.url, sn, password));
  return clients;
}

test('no license file: evaluation mode, 10 devices connect, the 11th is refused at CONNECT (counted as license) and the others keep working', async () => {
  const app = await startApp();
  const clients: MqttClient[] = [];
  try {
    assert.equal(app.app.parts.license.state().mode, 'evaluation');
    assert.equal(app.app.summary().license, 'evaluation');
    const passwords = await register(app, 11);
    const [last, lastPassword] = [...passwords].pop()!;
    passwords.delete(last);
    clients.push(...(await connectAll(app, passwords)));
    await assert.rejects(connectDevice(app.url, last, lastPassword), /Not authorized/i);
    assert.equal(app.app.parts.broker.stats.refused.license, 1);
    assert.equal(app.app.parts.license.state().devices_used, 10);
    // A device already connected reconnecting (taking over its own session) is admitted.
    clients.push(await connectDevice(app.url, 'DEV-1', passwords.get('DEV-1')!));
    const ts = Math.floor(app.clock.now() / 1000);
    await publishReading(clients[clients.length - 1], 'DEV-1', { seq: 1, ts });
    await publishReading(clients[1], 'DEV-2', { seq: 1, ts });
    assert.equal(app.app.parts.readings.count(), 2);
    // A place freed is a place taken.
    await clients[9].endAsync();
    await eventually(() => app.app.parts.broker.connectedDevices() === 9, 2000, 'the disconnect');
    clients.push(await connectDevice(app.url, last, lastPassword));
  } finally {
    for (const client of clients) client.end(true);
    await app.stop();
  }
});

test("a license's max_devices caps connected devices: the extra device is refused, the others keep storing", async () => {
  const clock = manualClock(Date.now());
  const server = await startLicenseServer(keys, { now: () => clock.now() });
  const { license, text } = issue(keys, { max_devices: 12 });
  server.store.add(license);
  const app = await startApp({ license: { server_url: server.url, machine_id: MACHINE_A } }, { licensePublicKeyPem: keys.publicPem, clock });
  const clients: MqttClient[] = [];
  try {
    assert.equal(app.app.parts.license.mode(), 'evaluation');
    app.app.parts.license.install(text);
    await app.app.parts.license.checkIn();
    assert.deepEqual([app.app.parts.license.state().mode, app.app.parts.license.maxDevices()], ['valid', 12]);
    const passwords = await register(app, 13);
    const [last, lastPassword] = [...passwords].pop()!;
    passwords.delete(last);
    clients.push(...(await connectAll(app, passwords)));
    await assert.rejects(connectDevice(app.url, last, lastPassword), /Not authorized/i);
    assert.equal(app.app.parts.broker.stats.refused.license, 1);
    const ts = Math.floor(clock.now() / 1000);
    await Promise.all(clients.map((c, i) => publishReading(c, `DEV-${i + 1}`, { seq: 1, ts })));
    assert.equal(app.app.parts.readings.count(), 12);
  } finally {
    for (const client of clients) client.end(true);
    await app.stop();
    await server.close();
  }
});

test('locked: readings are not stored and nothing is notified, but live readings and alarms go on; the server back unlocks and everything resumes', async () => {
  const clock = manualClock(Date.now());
  const server = await startLicenseServer(keys, { now: () => clock.now() });
  const { license, text } = issue(keys);
  server.store.add(license);
  const webhook = await startHttpServer(() => ({ json: { ok: true } }));
  const app = await startApp({ license: { server_url: server.url, machine_id: MACHINE_A } }, { licensePublicKeyPem: keys.publicPem, clock });
  const clients: MqttClient[] = [];
  try {
    const { parts, bus } = app.app;
    writeFileSync(join(app.dataDir, 'license.key'), text);
    parts.license.refresh();
    await parts.license.checkIn();
    assert.equal(parts.license.mode(), 'valid');
    // Only HIGH is sent (no schedule window; HIGH always-notify): LICENSE alarms are recorded, not mailed.
    parts.alarmSettings.save({ schedule: { days: [], always_notify: ['HIGH'], notify_cleared: false }, channels: { webhook: { enabled: true, settings: { url: `${webhook.url}/hook` } } } });
    const passwords = await register(app, 2, 'GAS');
    clients.push(...(await connectAll(app, passwords)));
    const live: LiveReadingsEvent[] = [];
    bus.on('live_readings', (event) => live.push(event));

    // The license server goes away; the token runs out; grace runs out: locked.
    await server.down();
    clock.advance(24 * HOUR + 72 * HOUR);
    assert.equal((await parts.license.checkIn())?.result, 'unreachable');
    assert.equal(parts.license.mode(), 'locked');
    assert.deepEqual(parts.alarms.active().map((a) => `${a.type}:${a.source}`), ['LICENSE:license:locked']);

    const ts = Math.floor(clock.now() / 1000);
    await publishReading(clients[0], 'GAS-1', { seq: 1, ts, v_raw: 5000 }); // a leak while locked
    await eventually(() => live.length === 1, 2000, 'the live reading');
    assert.deepEqual([live[0].stored, live[0].readings[0].sn, live[0].readings[0].ppm], [false, 'GAS-1', 5000]);
    assert.equal(parts.readings.count(), 0, 'LIC-4: not stored');
    assert.equal(parts.ingest.totals.dropped.license_locked, 1);
    assert.ok(parts.alarms.active().some((a) => a.sn === 'GAS-1' && a.type === 'HIGH'), 'the alarm state stays true for the kiosk');
    const kiosk = parts.live.device('GAS-1'); // what the kiosk WebSocket sends
    assert.deepEqual([kiosk.ppm, kiosk.alarms], [5000, ['HIGH']], 'the kiosk shows the live value and the alarm while locked');
    await new Promise((resolve) => setTimeout(resolve, 200)); // give a wrongly queued notification its chance
    assert.equal(webhook.received.length, 0, 'LIC-4: no notification while locked');
    assert.equal(parts.notifier.outbox.backlog(), 0);
    const archive = await parts.scheduler.runNow('archive');
    assert.deepEqual([archive.ok, archive.result], [true, { skipped: 'license locked' }], 'LIC-4: no archiving while locked');

    // The server is back: the next check-in unlocks without a restart.
    await server.up();
    assert.equal((await parts.license.checkIn())?.result, 'valid');
    assert.equal(parts.license.mode(), 'valid');
    assert.ok(!parts.alarms.active().some((a) => a.type === 'LICENSE'), 'the LICENSE alarm clears');
    await publishReading(clients[1], 'GAS-2', { seq: 1, ts: ts + 1, v_raw: 6000 });
    await eventually(() => webhook.received.length === 1, 5000, 'the notification after unlocking');
    assert.match(webhook.received[0].body, /GAS-2/);
    assert.equal(parts.readings.count(), 1);
    assert.deepEqual(live.map((e) => e.stored), [false, true], 'stored readings reach the live path too');
    assert.notDeepEqual((await parts.scheduler.runNow('archive')).result, { skipped: 'license locked' }, 'archiving resumes');
    const checkInJob = await parts.scheduler.runNow('license-check-in');
    assert.equal((checkInJob.result as { result: string }).result, 'valid', 'the 03:00 job is the guard check-in');
  } finally {
    for (const client of clients) client.end(true);
    await app.stop();
    await server.close();
    await webhook.close();
  }
});
