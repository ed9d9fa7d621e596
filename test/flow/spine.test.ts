// The spine through real parts: aedes on an ephemeral loopback port, real MQTT clients, a real
// SQLite file. ING-*, DEV-5/6, STO-1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import mqtt from 'mqtt';
import * as mqttPacket from 'mqtt-packet';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { statusTopic, upTopic } from '../../appliance/contract/topics.ts';
import { openDb } from '../../appliance/storage/db.ts';
import { dbFileIn } from '../../appliance/storage/db.ts';
import { connectDevice, eventually, publishReading, startApp, type RunningApp } from '../helpers/appliance.ts';

const FACTORY_SECRET = 'factory-secret-for-tests';

async function register(app: RunningApp, sn: string, settings: Record<string, unknown> = {}) {
  const { password } = await app.app.testApi.addDevice({ sn, high_limit: 1000, ...settings }); // ALM-9: a new detector needs a setpoint
  return password!;
}

/** MQTT 3.1.1 CONNECT, clean session 0, zero-byte client id, with user name and password. */
function connectPacketWithEmptyClientId(username: string, password: string): Buffer {
  const field = (text: string) => {
    const bytes = Buffer.from(text);
    return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  };
  const body = Buffer.concat([field('MQTT'), Buffer.from([4, 0xc0, 0, 30]), field(''), field(username), field(password)]);
  assert.ok(body.length < 128);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** A device time (unix s) `offset` seconds after the app clock's now — a detector with a good clock. */
const deviceTs = (app: RunningApp, offset = 0) => Math.floor(app.clock.now() / 1000) - 60 + offset;

function storedReadings(app: RunningApp, sn: string) {
  return app.app.testApi.storedReadings(sn);
}

describe('detectors → broker → ingest → SQLite', () => {
  let app: RunningApp;
  before(async () => {
    // No OFFLINE grace (issue 15.4): these tests see a Last Will take effect at once.
    app = await startApp({ mqtt: { port: 0, host: '127.0.0.1', factory_secret: FACTORY_SECRET }, ingest: { offline_grace_s: 0 } });
  });
  after(() => app.stop());

  test("the seed's worked example is stored as 3516.1 ppm, negative as 0, above range clamped and flagged", async () => {
    const password = await register(app, 'CAL-1', { calib: { k: 1.5, b: -10, t_ref: 25, t_comp: 0.1 }, range_max: 5000 });
    const client = await connectDevice(app.url, 'CAL-1', password);
    await publishReading(client, 'CAL-1', { seq: 1, ts: deviceTs(app), v_raw: 2350.5, temp: 28.5 });
    await publishReading(client, 'CAL-1', { seq: 2, ts: deviceTs(app, 10), v_raw: 1, temp: 25 });
    await publishReading(client, 'CAL-1', { seq: 3, ts: deviceTs(app, 20), v_raw: 9000, temp: 25 });
    await client.endAsync();
    const rows = storedReadings(app, 'CAL-1');
    assert.deepEqual(rows.map((r) => r.ppm), [3516.1, 0, 5000]);
    assert.deepEqual(rows.map((r) => r.flags & 1), [0, 0, 1], 'only the clamped reading is flagged overrange');
    assert.equal(rows[0].v_raw, 2350.5);
    assert.equal(rows[0].temp, 28.5);
  });

  test('the PUBACK arrives only after the reading is committed (ING-6)', async () => {
    const password = await register(app, 'ACK-1');
    const client = await connectDevice(app.url, 'ACK-1', password);
    const other = openDb(dbFileIn(app.dataDir)); // another connection sees only committed rows
    try {
      for (let seq = 1; seq <= 20; seq++) {
        await publishReading(client, 'ACK-1', { seq, ts: deviceTs(app, seq) });
        const count = other.prepare('SELECT count(*) AS n FROM readings_v WHERE sn = ?').get('ACK-1') as { n: number };
        assert.equal(count.n, seq, `reading ${seq} committed before its PUBACK`);
      }
    } finally {
      other.close();
      await client.endAsync();
    }
  });

  test('a wrong password and an unknown device are refused at CONNECT', async () => {
    await register(app, 'AUTH-1');
    await assert.rejects(connectDevice(app.url, 'AUTH-1', 'not-the-password'), /Bad username or password/);
    await assert.rejects(connectDevice(app.url, 'NOBODY-1', 'whatever-password'), /Not authorized/);
    assert.ok((app.app.testApi.brokerStats().refused.bad_password ?? 0) >= 1);
    assert.ok((app.app.testApi.brokerStats().refused.unknown_device ?? 0) >= 1);
  });

  test("publishing to another device's topic disconnects the publisher and stores nothing", async () => {
    const password = await register(app, 'ACL-1');
    await register(app, 'ACL-2');
    const client = await connectDevice(app.url, 'ACL-1', password);
    const closed = new Promise((resolve) => client.once('close', () => resolve(null)));
    client.publish(upTopic('ACL-2'), JSON.stringify({ ts: deviceTs(app), seq: 1, v_raw: 1, temp: 25, bat: 90, rssi: -70, err: 0 }), { qos: 1 });
    await closed;
    client.end(true);
    assert.equal(storedReadings(app, 'ACL-2').length, 0);
    assert.equal(app.app.testApi.ingestStatsOf('ACL-1')?.dropped.acl_violation, 1);
  });

  test('malformed payloads are dropped and counted by reason, and the pipeline keeps going', async () => {
    const password = await register(app, 'BAD-1');
    const client = await connectDevice(app.url, 'BAD-1', password);
    const bad = [
      '{not json',
      '[1,2,3]',
      JSON.stringify({ ts: deviceTs(app), seq: 1, temp: 25, bat: 90, rssi: -70, err: 0 }), // no v_raw
      JSON.stringify({ ts: deviceTs(app), seq: 1, v_raw: 'NaN', temp: 25, bat: 90, rssi: -70, err: 0 }),
      `{"ts":${deviceTs(app)},"seq":1,"v_raw":1e999,"temp":25,"bat":90,"rssi":-70,"err":0}`,
      JSON.stringify({ ts: deviceTs(app), seq: 1, v_raw: 1, temp: 25, bat: 900, rssi: -70, err: 0 }),
      JSON.stringify({ ts: deviceTs(app), seq: 1, v_raw: 1, temp: 25, bat: 90, rssi: -70, err: 0, pad: 'x'.repeat(5000) }),
    ];
    for (const payload of bad) await publishReading(client, 'BAD-1', payload);
    await publishReading(client, 'BAD-1', { seq: 7, ts: deviceTs(app, 100), v_raw: 10 });
    await client.endAsync();
    const dropped = app.app.testApi.ingestStatsOf('BAD-1')!.dropped;
    assert.deepEqual(dropped, { bad_json: 1, not_object: 1, missing_field: 1, wrong_type: 2, out_of_range: 1, too_large: 1 });
    assert.equal(storedReadings(app, 'BAD-1').length, 1, 'the valid reading after the garbage is stored');
  });

  test('duplicates of a reconnect burst are stored once and a sequence gap is counted', async () => {
    const password = await register(app, 'DUP-1');
    let client = await connectDevice(app.url, 'DUP-1', password);
    for (const seq of [1, 2, 3, 6]) await publishReading(client, 'DUP-1', { seq, ts: deviceTs(app, seq * 10) });
    await client.endAsync();
    assert.equal(app.app.testApi.ingestStatsOf('DUP-1')!.gaps, 2, 'seq 4 and 5 missing');
    client = await connectDevice(app.url, 'DUP-1', password);
    // The detector resends its buffer after reconnecting: old readings again plus the missing ones.
    for (const seq of [2, 3, 4, 5, 6, 7]) await publishReading(client, 'DUP-1', { seq, ts: deviceTs(app, seq * 10) });
    await client.endAsync();
    const stats = app.app.testApi.ingestStatsOf('DUP-1')!;
    assert.deepEqual(storedReadings(app, 'DUP-1').map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(stats.duplicates, 3);
    assert.equal(stats.gaps, 0, 'the late readings filled the gap');
  });

  test('a device goes offline after the timeout (injected clock) and at once on its Last Will', async () => {
    const events: string[] = [];
    const off = app.app.bus.on('device_status', (e) => events.push(`${e.sn}:${e.status}:${e.reason}`));
    const password = await register(app, 'LIVE-1');
    const client = await connectDevice(app.url, 'LIVE-1', password, { keepalive: 0 });
    await publishReading(client, 'LIVE-1', { seq: 1 });
    assert.ok(app.app.testApi.isOnline('LIVE-1'));
    app.clock.advance(89_000);
    app.app.testApi.sweepOffline();
    assert.ok(app.app.testApi.isOnline('LIVE-1'), 'still online at 89 s');
    app.clock.advance(1_000);
    app.app.testApi.sweepOffline();
    assert.ok(!app.app.testApi.isOnline('LIVE-1'), 'offline at 90 s');
    await client.endAsync();

    const willClient = await connectDevice(app.url, 'LIVE-1', password, {
      will: { topic: statusTopic('LIVE-1'), payload: Buffer.from(JSON.stringify({ status: 'offline', ts: 1 })), qos: 1, retain: true },
    });
    await publishReading(willClient, 'LIVE-1', { seq: 2 });
    assert.ok(app.app.testApi.isOnline('LIVE-1'));
    (willClient as unknown as { stream: { destroy(): void } }).stream.destroy(); // network loss, no DISCONNECT
    await eventually(() => !app.app.testApi.isOnline('LIVE-1'), 3000, 'offline on will');
    willClient.end(true);
    off();
    assert.deepEqual(events.slice(0, 3), ['LIVE-1:online:reading', 'LIVE-1:offline:timeout', 'LIVE-1:online:reading']);
    assert.match(events[3], /^LIVE-1:offline:(will|disconnect)$/);
    await app.app.testApi.flush();
    assert.equal(app.app.testApi.storedDevice('LIVE-1')!.status, 'offline', 'the transition is persisted');
  });

  test('removing, disabling or re-keying a device ends its connection and refuses it at CONNECT', async () => {
    for (const change of ['remove', 'disable', 'reset'] as const) {
      const sn = `REVOKE-${change}`;
      const password = await register(app, sn);
      const client = await connectDevice(app.url, sn, password);
      const closed = new Promise((resolve) => client.once('close', () => resolve(null)));
      if (change === 'remove') app.app.testApi.removeDevice(sn);
      if (change === 'disable') app.app.testApi.updateDevice(sn, { enabled: false });
      if (change === 'reset') app.app.testApi.resetDevicePassword(sn);
      await closed;
      client.end(true);
      await assert.rejects(connectDevice(app.url, sn, password), /Not authorized|Bad username or password/, change);
    }
  });

  test('an empty client id with clean session 0 gets CONNACK 0x02 (MQTT-3.1.3-8)', async () => {
    const password = await register(app, 'CID-1');
    // mqtt.js refuses to send such a CONNECT, so the packet is written by hand.
    const socket = connect(Number(new URL(app.url).port), '127.0.0.1');
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const connack = new Promise<mqttPacket.IConnackPacket>((resolve) => parser.on('packet', (p) => resolve(p as mqttPacket.IConnackPacket)));
    socket.on('data', (chunk) => parser.parse(chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(connectPacketWithEmptyClientId('device_CID-1', password));
    assert.equal((await connack).returnCode, 2);
    await closed;
  });

  test('an MQTT 5 client gets the unacceptable protocol version refusal', async () => {
    const password = await register(app, 'V5-1');
    await assert.rejects(connectDevice(app.url, 'V5-1', password, { protocolVersion: 5 }));
    const client = await connectDevice(app.url, 'V5-1', password); // 3.1.1 still fine
    await client.endAsync();
  });

  test('an unregistered serial with its factory password is listed as pending, stored only once adopted (ING-3)', async () => {
    const sn = 'MCS-NEW-0001';
    const client = await connectDevice(app.url, sn, derivedDevicePassword(sn, FACTORY_SECRET));
    await publishReading(client, sn, { seq: 1 });
    await app.app.testApi.flush();
    assert.equal(storedReadings(app, sn).length, 0);
    assert.equal(app.app.testApi.pendingDevices()[0]?.sn, sn);
    await app.app.testApi.adoptDevice({ sn, name: 'new one', high_limit: 1000 });
    await publishReading(client, sn, { seq: 2 });
    await client.endAsync();
    assert.equal(storedReadings(app, sn).length, 1);
    assert.equal(app.app.testApi.pendingDevices().length, 0);
  });

  test('a device may subscribe to its own command topic and the broadcast only', async () => {
    const password = await register(app, 'SUB-1');
    const client = await connectDevice(app.url, 'SUB-1', password);
    const granted = await client.subscribeAsync(['mcs/SUB-1/cmd', 'mcs/broadcast/cmd'], { qos: 1 });
    assert.deepEqual(granted.map((g) => g.qos), [1, 1]);
    await assert.rejects(client.subscribeAsync('mcs/#', { qos: 1 }), /Subscribe error/);
    await assert.rejects(client.subscribeAsync('mcs/OTHER/cmd', { qos: 1 }), /Subscribe error/);
    assert.ok(app.app.testApi.brokerStats().deniedSubscriptions >= 2);
    const received = new Promise<string>((resolve) => client.once('message', (_t, payload) => resolve(payload.toString())));
    await app.app.testApi.sendCommand('SUB-1', { cmd: 'debug', duration: 600 });
    assert.deepEqual(JSON.parse(await received), { cmd: 'debug', duration: 600 });
    await client.endAsync();
  });
});

describe('when the disk is full', () => {
  test('a reading that cannot be committed is not acknowledged and the device is disconnected', async () => {
    const app = await startApp({}, { maxPageCount: 40, allowErrors: [/^group commit failed/] });
    try {
      const { password } = await app.app.testApi.addDevice({ sn: 'FULL-1', high_limit: 50_000 });
      const client = await connectDevice(app.url, 'FULL-1', password!);
      let acked = 0;
      let closed = false;
      client.on('close', () => (closed = true));
      for (let seq = 1; seq <= 3000 && !closed; seq++) {
        client.publish(upTopic('FULL-1'), JSON.stringify({ ts: deviceTs(app, seq), seq: seq % 65536, v_raw: seq, temp: 25, bat: 90, rssi: -70, err: 0 }), { qos: 1 }, (err) => {
          if (!err) acked++;
        });
        if (seq % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await eventually(() => closed, 5000, 'disconnect on store failure');
      client.end(true);
      assert.ok(app.app.testApi.ingestTotals().dropped.store_failed > 0, 'store failures counted');
      await app.app.testApi.flush();
      const stored = app.app.testApi.storedReadings('FULL-1').length;
      assert.ok(stored >= acked, `every acknowledged reading is stored (acked ${acked}, stored ${stored})`);
    } finally {
      await app.stop();
    }
  });
});

void mqtt;
