// LIC-4…LIC-6 through the real parts: the real license server, the real aedes broker with real MQTT
// clients, SQLite, the writer with its alarm rules, the kiosk WebSocket and the notification outbox
// with a real local webhook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { manualClock } from '../../appliance/core/clock.ts';
import { connectDevice, eventually, publishReading, startApp, type RunningApp } from '../helpers/appliance.ts';
import { ADMIN_PASSWORD, openDashboard, startApi } from '../helpers/api.ts';
import { startHttpServer } from '../notify/support.ts';
import { issue, MACHINE_A, startLicenseServer, vendorKeys } from '../licensing/support.ts';

const HOUR = 3_600_000;
const keys = vendorKeys();

async function register(app: RunningApp, count: number, prefix = 'DEV') {
  const passwords = new Map<string, string>();
  for (let i = 1; i <= count; i++) {
    const sn = `${prefix}-${i}`;
    passwords.set(sn, (await app.app.testApi.addDevice({ sn, high_limit: 1000, calib: { k: 1, b: 0 } })).password!);
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
    assert.equal(app.app.testApi.licenseState().mode, 'evaluation');
    assert.equal(app.app.summary().license, 'evaluation');
    const passwords = await register(app, 11);
    const [last, lastPassword] = [...passwords].pop()!;
    passwords.delete(last);
    clients.push(...(await connectAll(app, passwords)));
    await assert.rejects(connectDevice(app.url, last, lastPassword), /Not authorized/i);
    assert.equal(app.app.testApi.brokerStats().refused.license, 1);
    assert.equal(app.app.testApi.licenseState().devices_used, 10);
    // A device already connected reconnecting (taking over its own session) is admitted.
    clients.push(await connectDevice(app.url, 'DEV-1', passwords.get('DEV-1')!));
    const ts = Math.floor(app.clock.now() / 1000);
    await publishReading(clients[clients.length - 1], 'DEV-1', { seq: 1, ts });
    await publishReading(clients[1], 'DEV-2', { seq: 1, ts });
    assert.equal(app.app.testApi.readingCount(), 2);
    // A place freed is a place taken.
    await clients[9].endAsync();
    await eventually(() => app.app.testApi.connectedDevices() === 9, 2000, 'the disconnect');
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
    assert.equal(app.app.testApi.licenseState().mode, 'evaluation');
    app.app.testApi.installLicense(text);
    await app.app.testApi.licenseCheckIn();
    const { mode, max_devices } = app.app.testApi.licenseState();
    assert.deepEqual([mode, max_devices], ['valid', 12]);
    const passwords = await register(app, 13);
    const [last, lastPassword] = [...passwords].pop()!;
    passwords.delete(last);
    clients.push(...(await connectAll(app, passwords)));
    await assert.rejects(connectDevice(app.url, last, lastPassword), /Not authorized/i);
    assert.equal(app.app.testApi.brokerStats().refused.license, 1);
    const ts = Math.floor(clock.now() / 1000);
    await Promise.all(clients.map((c, i) => publishReading(c, `DEV-${i + 1}`, { seq: 1, ts })));
    assert.equal(app.app.testApi.readingCount(), 12);
  } finally {
    for (const client of clients) client.end(true);
    await app.stop();
    await server.close();
  }
});

test('locked: a leak is stored, alarmed, shown on the kiosk and notified as when valid (LIC-4); archiving stops; the server back unlocks', async () => {
  const clock = manualClock(Date.now());
  const server = await startLicenseServer(keys, { now: () => clock.now() });
  const { license, text } = issue(keys);
  server.store.add(license);
  const webhook = await startHttpServer(() => ({ json: { ok: true } }));
  const app = await startApi({ license: { server_url: server.url, machine_id: MACHINE_A } }, { licensePublicKeyPem: keys.publicPem, clock });
  const clients: MqttClient[] = [];
  let kiosk: ReturnType<typeof openDashboard> | null = null;
  try {
    const { testApi } = app.app;
    writeFileSync(join(app.dataDir, 'license.key'), text);
    testApi.reevaluateLicense();
    await testApi.licenseCheckIn();
    assert.equal(testApi.licenseState().mode, 'valid');
    // Only HIGH is sent (no schedule window; HIGH always-notify): LICENSE alarms are recorded, not mailed.
    testApi.saveAlarmSettings({ schedule: { days: [], always_notify: ['HIGH'], notify_cleared: false }, channels: { webhook: { enabled: true, settings: { url: `${webhook.url}/hook` } } } });
    const passwords = await register(app, 2, 'GAS');
    clients.push(...(await connectAll(app, passwords)));

    // The license server goes away; the token runs out; grace runs out: locked.
    await server.down();
    clock.advance(24 * HOUR + 72 * HOUR);
    assert.equal((await testApi.licenseCheckIn())?.result, 'unreachable');
    assert.equal(testApi.licenseState().mode, 'locked');
    await testApi.flush(); // the LICENSE condition rides the next commit
    assert.deepEqual(testApi.activeAlarms().map((a) => `${a.type}:${a.source}`), ['LICENSE:license:locked']);
    kiosk = openDashboard(app, await app.login('viewer', 'viewer-pass-2'));
    await eventually(() => kiosk!.of('snapshot').length === 1, 3000, 'the kiosk snapshot');

    const ts = Math.floor(clock.now() / 1000);
    await publishReading(clients[0], 'GAS-1', { seq: 1, ts, v_raw: 5000 }); // a leak while locked
    // The PUBACK came: the reading and its HIGH are committed, with the outbox row (ALM-8).
    assert.equal(testApi.readingCount(), 1, 'LIC-4: the reading is stored');
    const [high] = testApi.alarmRecords({ type: 'HIGH' }).items;
    assert.deepEqual([high?.sn, high?.state, high?.value], ['GAS-1', 'active', 5000], 'the HIGH record');
    assert.equal(testApi.outboxRows(high.id).length, 1, 'its notification is queued in the same commit');
    await eventually(() => kiosk!.of('alarm').some((m) => m.data.id === high.id && m.kind === 'raised'), 2000, 'the alarm on the kiosk');
    await eventually(() => kiosk!.of('realtime').some((m) => m.data.some((d) => d.sn === 'GAS-1' && d.ppm === 5000 && d.status === 'alarm')), 3000, 'the red marker');
    await eventually(() => webhook.received.length === 1, 5000, 'the notification while locked');
    assert.match(webhook.received[0].body, /GAS-1/);
    const archive = await testApi.runJob('archive');
    assert.deepEqual([archive.ok, archive.result], [true, { skipped: 'license locked' }], 'LIC-4: no archiving while locked');
    const write = await app.call('POST', '/api/devices', { token: await app.login('admin', ADMIN_PASSWORD), body: { sn: 'NEW-1', high_limit: 100 } });
    assert.deepEqual([write.status, write.body.code], [403, 20001], 'LIC-4: management writes stop');

    // The server is back: the next check-in unlocks without a restart.
    await server.up();
    assert.equal((await testApi.licenseCheckIn())?.result, 'valid');
    assert.equal(testApi.licenseState().mode, 'valid');
    await testApi.flush();
    assert.ok(!testApi.activeAlarms().some((a) => a.type === 'LICENSE'), 'the LICENSE alarm clears');
    await publishReading(clients[1], 'GAS-2', { seq: 1, ts: ts + 1, v_raw: 6000 });
    await eventually(() => webhook.received.length === 2, 5000, 'the notification after unlocking');
    assert.match(webhook.received[1].body, /GAS-2/);
    assert.equal(testApi.readingCount(), 2);
    assert.notDeepEqual((await testApi.runJob('archive')).result, { skipped: 'license locked' }, 'archiving resumes');
    const checkInJob = await testApi.runJob('license-check-in');
    assert.equal((checkInJob.result as { result: string }).result, 'valid', 'the 03:00 job is the guard check-in');
  } finally {
    kiosk?.socket.close();
    for (const client of clients) client.end(true);
    await app.stop();
    await server.close();
    await webhook.close();
  }
});
