// Issue 17 through the real parts: the appliance (broker, writer thread, SQLite), real detectors
// (MQTT clients), a real Mosquitto from Debian's package on an ephemeral loopback port with a
// password and TLS as the cloud broker, a real cloud subscriber, and a TCP proxy that cuts and
// freezes the link between box and cloud. Nothing here reaches the internet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import Database from 'better-sqlite3';
import { dbFileIn } from '../../appliance/storage/db.ts';
import { Value } from '@sinclair/typebox/value';
import { UplinkEnvelopeSchema, type UplinkRecord } from '../../appliance/contract/uplink.ts';
import { LIVE_SPLIT_MS } from '../../appliance/sync/sender.ts';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { connectDevice, eventually, freePort, publishReading, spawnAppliance, tempDir, testConfig, wallClock } from '../helpers/appliance.ts';
import { devLicenseEnv } from '../helpers/license.ts';
import { runDevicesCommand } from '../../appliance/cli/devices.ts';
import { openDb } from '../../appliance/storage/db.ts';
import { createConfigRepository } from '../../appliance/storage/config.ts';
import { createSecretBox } from '../../appliance/core/secrets.ts';
import { createUplinkSettings } from '../../appliance/sync/settings.ts';
import { systemClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const BOX_PASSWORD = 'box-password-1';
let broker: TestMosquitto;
let proxy: TcpProxy;
let cloud: MqttClient;
/** Every record the cloud received, in arrival order, with when it arrived. */
const received: { record: UplinkRecord; at: number; topic: string }[] = [];

before(async () => {
  broker = await startMosquitto({ users: { 'plant-a': BOX_PASSWORD, cloud: 'cloud-pass' } });
  proxy = await startTcpProxy({ port: broker.tlsPort });
  cloud = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.tlsPort}`, {
    username: 'cloud', password: 'cloud-pass', ca: broker.pki.ca, reconnectPeriod: 0, clientId: 'cloud-subscriber',
  });
  await cloud.subscribeAsync('plants/#', { qos: 1 });
  cloud.on('message', (topic, payload) => {
    const envelope = JSON.parse(payload.toString('utf8'));
    assert.ok(Value.Check(UplinkEnvelopeSchema, envelope), `the documented payload: ${[...Value.Errors(UplinkEnvelopeSchema, envelope)].map((e) => `${e.path} ${e.message}`).join('; ')}`);
    for (const record of envelope.records) received.push({ record, at: Date.now(), topic });
  });
});
after(async () => {
  await cloud?.endAsync();
  await proxy?.close();
  await broker?.stop();
});

const deviceTs = () => Math.floor(Date.now() / 1000);
/** A reading's device second (ING: the stored key is the second × 1000 + seq mod 1000). */
const second = (r: UplinkRecord) => (r.kind === 'reading' ? Math.floor(r.ts / 1000) : -1);
const readingsOf = (sn: string) => received.filter((r) => r.record.kind === 'reading' && r.record.sn === sn).map((r) => r.record);

describe('cloud sync to a real Mosquitto (SYNC-1..4)', () => {
  let api: ApiApp;
  let device: MqttClient;
  let seq = 0;

  before(async () => {
    // The product's reconnect window doubles up to 60 s with full jitter, so after a 20 s cut the
    // next try could come 30 s or more after the link is back (that made 'reconnected with backoff'
    // time out once). Here the window stops at 2 s; the widening itself is test/sync/transports'.
    api = await startApi({ mqtt: { port: 0, host: '127.0.0.1', factory_secret: 'factory-secret-for-tests' } }, { clock: wallClock(), uplinkBackoff: { capMs: 2000 } });
    const { password } = await api.app.testApi.addDevice({ sn: 'GD-1', high_limit: 1000, high2_limit: 2000 });
    await api.app.testApi.addDevice({ sn: 'GD-2', high_limit: 1000 });
    device = await connectDevice(api.url, 'GD-1', password!);
    const saved = await api.call('PUT', '/api/config/uplink', {
      token: api.tokens.admin,
      body: {
        box_id: 'plant-a',
        targets: [{
          id: 'hq', kind: 'mqtt', url: `mqtts://127.0.0.1:${proxy.port}`, username: 'plant-a', password: BOX_PASSWORD,
          ca: broker.pki.ca, topic_template: 'plants/{box}/{kind}', keepalive_s: 5, cloud_commands: true, lag_alarm_s: 10,
        }],
      },
    });
    assert.equal(saved.status, 200, saved.text);
    await eventually(() => api.app.testApi.uplinkStatus().targets[0]?.connected === true, 10_000, 'the target connected');
  });
  after(async () => {
    await device?.endAsync();
    await api?.stop();
  });

  test('live: a reading and its alarm reach the cloud subscriber within 2 s, with the documented payloads', async () => {
    const sent = Date.now();
    await publishReading(device, 'GD-1', { seq: ++seq, ts: deviceTs(), v_raw: 1500 });
    await eventually(() => readingsOf('GD-1').length >= 1 && received.some((r) => r.record.kind === 'alarm'), 2000, 'reading and alarm in the cloud');
    const reading = readingsOf('GD-1')[0];
    assert.equal(reading.kind === 'reading' && reading.ppm, 1500);
    assert.equal(reading.id, `plant-a:rGD-1:${reading.kind === 'reading' ? reading.ts : 0}`);
    assert.equal(reading.historical, false);
    assert.equal(reading.clock_unsynced, false);
    const alarm = received.find((r) => r.record.kind === 'alarm')!;
    assert.equal(alarm.topic, 'plants/plant-a/alarm');
    assert.ok(alarm.record.kind === 'alarm' && alarm.record.event === 'raised' && alarm.record.sn === 'GD-1' && alarm.record.level === 1);
    assert.ok(alarm.at - sent < 2000);
  });

  test('outage: the plant goes on; after the cut every reading and alarm event arrives, live first, duplicates only with equal ids', async () => {
    proxy.cut();
    await eventually(() => api.app.testApi.uplinkStatus().targets[0].connected === false, 10_000, 'the cut seen');
    const journalRows = () => {
      const db = new Database(dbFileIn(api.dataDir), { readonly: true });
      try {
        return db.prepare('SELECT id FROM alarm_journal ORDER BY id').pluck().all() as number[];
      } finally {
        db.close();
      }
    };
    const journalBefore = journalRows().length;
    const during: number[] = [];
    for (let i = 0; i < 40; i++) {
      const ppm = i === 10 ? 2500 : i >= 30 ? 10 : 1500; // a level-2 episode, then clear
      const ts = deviceTs() - 100 + i;
      await publishReading(device, 'GD-1', { seq: ++seq, ts, v_raw: ppm }); // PUBACK: stored with its alarms
      during.push(ts);
    }
    // The plant is unaffected: every reading was acknowledged (stored) and the alarm went on locally (level 2, cleared).
    assert.ok(journalRows().length > journalBefore, 'the alarm journal grew during the cut');
    const beforeRestore = received.length;
    // Longer than LIVE_SPLIT_MS: what comes after the link is back is live, the outage is backlog.
    await new Promise((resolve) => setTimeout(resolve, LIVE_SPLIT_MS + 1000));
    assert.equal(received.length, beforeRestore, 'nothing reached the cloud while cut');
    // Issue 17.7: the lag passed the target's threshold (10 s): a SYNC system alarm.
    const syncAlarm = () => api.app.testApi.activeAlarms().find((a) => a.type === 'SYNC' && a.source === 'uplink:hq');
    await eventually(() => syncAlarm() !== undefined, 10_000, 'the SYNC alarm');
    proxy.restore();
    const liveTs = deviceTs() + 5;
    await eventually(() => api.app.testApi.uplinkStatus().targets[0].connected, 30_000, 'reconnected with backoff');
    await publishReading(device, 'GD-1', { seq: ++seq, ts: liveTs, v_raw: 20 });
    await eventually(() => during.every((ts) => readingsOf('GD-1').some((r) => second(r) === ts)), 20_000, 'every reading of the outage');
    await eventually(() => readingsOf('GD-1').some((r) => second(r) === liveTs), 5000, 'the live reading');
    // Every journal entry of the box is in the cloud.
    const journalIds = journalRows();
    await eventually(() => journalIds.every((id) => received.some((r) => r.record.id === `plant-a:j${id}`)), 5000, 'every alarm journal entry');
    const outage = new Set(during);
    assert.ok(readingsOf('GD-1').filter((r) => outage.has(second(r))).every((r) => r.historical), 'the outage is flagged historical');
    assert.equal(readingsOf('GD-1').find((r) => second(r) === liveTs)?.historical, false, 'the reading after the cut is live');
    // Duplicates only with equal ids, and equal content.
    const byId = new Map<string, string>();
    for (const { record } of received) {
      const { historical: _h, ...content } = record;
      const text = JSON.stringify(content);
      assert.equal(byId.get(record.id) ?? text, text, `a duplicate of ${record.id} differs`);
      byId.set(record.id, text);
    }
    const status = api.app.testApi.uplinkStatus().targets[0];
    await eventually(() => api.app.testApi.uplinkStatus().targets[0].backlog === 0, 5000, 'the backlog drained');
    await eventually(() => syncAlarm() === undefined, 10_000, 'the SYNC alarm cleared once caught up');
    assert.ok(status.last_ack_at !== null);
  });

  test('from the cloud: an acknowledgement lands in the journal with the remote user; a resend re-queues the range as historical', async () => {
    const alarm = api.app.testApi.listedAlarms().find((a) => a.source === 'GD-1');
    assert.ok(alarm, 'the latched alarm of the outage is listed');
    await cloud.publishAsync('mcs/plant-a/cloud/cmd', JSON.stringify({ cmd: 'ack', alarm_ids: [alarm.id], by: 'alice', comment: 'crew on site' }), { qos: 1 });
    await eventually(() => received.some((r) => r.record.kind === 'alarm' && r.record.event === 'acknowledged' && r.record.actor === 'cloud:hq:alice'), 5000, 'the cloud acknowledgement journaled and sent back');
    const from = Date.now() - 200_000;
    const before = readingsOf('GD-1').length;
    await cloud.publishAsync('mcs/plant-a/cloud/cmd', JSON.stringify({ cmd: 'resend', from, to: Date.now(), sns: ['GD-1'] }), { qos: 1 });
    await eventually(() => readingsOf('GD-1').length >= before + 40, 10_000, 'the range sent again');
    assert.ok(readingsOf('GD-1').slice(before).every((r) => r.historical), 'resent as historical');
    // Garbage on the command topic is refused and changes nothing.
    const journalBefore = received.filter((r) => r.record.kind === 'alarm').length;
    await cloud.publishAsync('mcs/plant-a/cloud/cmd', '{"cmd":"format-disk"}', { qos: 1 });
    await eventually(() => api.logs.some((l) => l.msg.includes('a cloud command was not understood')), 5000, 'the refusal said in the log');
    assert.equal(received.filter((r) => r.record.kind === 'alarm').length, journalBefore, 'nothing journaled for it');
  });

  test('a frozen link (no reset) is found by keepalive and the box reconnects', async () => {
    proxy.freeze();
    await eventually(() => api.app.testApi.uplinkStatus().targets[0].connected === false, 15_000, 'the frozen link declared down');
    const ts = deviceTs() + 20;
    await publishReading(device, 'GD-1', { seq: ++seq, ts, v_raw: 30 });
    proxy.restore();
    await eventually(() => readingsOf('GD-1').some((r) => second(r) === ts), 30_000, 'the reading sent after the freeze');
  });
});

describe('SIGKILL mid-drain (SYNC-1)', () => {
  test('nothing lost after a kill during the drain, and only the unacknowledged tail sent again', async () => {
    const temp = tempDir();
    const link = await startTcpProxy({ port: broker.plainPort || broker.tlsPort });
    try {
      const sns = ['K-1', 'K-2', 'K-3', 'K-4', 'K-5'];
      const passwords = new Map<string, string>();
      for (const sn of sns) {
        const lines: string[] = [];
        assert.equal(await runDevicesCommand(['add', sn, '--high', '1000'], testConfig(temp.dir), (line) => lines.push(line)), 0);
        passwords.set(sn, lines.find((l) => l.includes('MQTT password'))!.split(/\s+/)[3]);
      }
      // The target, saved as the admin page would, before the process starts; inflight 2 keeps the tail small.
      const db = openDb(dbFileIn(temp.dir));
      createUplinkSettings({ configRepo: createConfigRepository(db), secrets: createSecretBox(temp.dir), machineId: () => null, clock: systemClock, log: silentLogger() }).save({
        box_id: 'plant-k',
        targets: [{ id: 'hq', kind: 'mqtt', url: `mqtts://127.0.0.1:${link.port}`, username: 'plant-a', password: BOX_PASSWORD, ca: broker.pki.ca, topic_template: 'plants/{box}/{kind}', inflight: 2 }],
      });
      db.close();
      const port = await freePort();
      const env = { MCS_DATA_DIR: temp.dir, MCS_MQTT_PORT: String(port), MCS_HTTP_PORT: String(await freePort()), ...devLicenseEnv(temp.dir, 10) };
      link.cut(); // the backlog builds while the link is down
      let appliance = await spawnAppliance(env);
      const base = Math.floor(Date.now() / 1000) - 3000;
      const acked: string[] = [];
      await Promise.all(sns.map(async (sn) => {
        const client = await connectDevice(`mqtt://127.0.0.1:${port}`, sn, passwords.get(sn)!);
        for (let i = 0; i < 300; i++) {
          await publishReading(client, sn, { seq: i + 1, ts: base + i * 10, v_raw: 5 });
          acked.push(`plant-k:r${sn}:${(base + i * 10) * 1000 + ((i + 1) % 1000)}`);
        }
        await client.endAsync();
      }));
      const ids = () => new Set(received.filter((r) => r.record.box === 'plant-k').map((r) => r.record.id));
      link.slow(40_000); // a slow 4G link: the drain takes a while
      link.restore();
      link.slow(40_000);
      await eventually(() => ids().size >= 400, 30_000, 'the drain under way');
      appliance.child.kill('SIGKILL');
      await appliance.exited;
      const killedOutput = appliance.output();
      await new Promise((resolve) => setTimeout(resolve, 300)); // what was in flight lands
      const beforeKill = received.filter((r) => r.record.box === 'plant-k').length;
      const seenBeforeKill = ids();
      link.restore();
      appliance = await spawnAppliance(env);
      try {
        await eventually(() => acked.every((id) => ids().has(id)), 60_000, 'every acknowledged reading in the cloud after the restart');
      } finally {
        appliance.child.kill('SIGTERM');
        await appliance.exited;
      }
      // Both processes' logs: nothing at error level (the flow's failures are said at warn: a cut link, a retry).
      for (const [which, output] of [['killed', killedOutput], ['restarted', appliance.output()]]) {
        const errors = output.split('\n').filter((line) => /"level":(50|60)/.test(line));
        assert.deepEqual(errors, [], `the ${which} appliance logged errors`);
      }
      const after = received.filter((r) => r.record.box === 'plant-k').slice(beforeKill);
      const resent = after.filter((r) => seenBeforeKill.has(r.record.id)).length;
      assert.ok(resent < seenBeforeKill.size, `not everything sent before the kill came again (${resent} of ${seenBeforeKill.size})`);
      // At most the window (2 frames of up to 500 records) and the acknowledgements of the last cursor save (½ s) again.
      assert.ok(resent <= 1200, `only the unacknowledged tail sent again (${resent})`);
    } finally {
      await link.close();
      temp.remove();
    }
  });
});
