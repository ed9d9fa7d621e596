// Issue 16, the broker side, through the real parts: raw TCP sockets and real mqtt clients against
// the appliance's aedes on an ephemeral loopback port. Packet size and CONNECT time (1), the
// connection counts (2), a detector taking over its own session (3), retained readings (9).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { generate as selfSigned } from 'selfsigned';
import * as mqttPacket from 'mqtt-packet';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceUsername, statusTopic, upTopic } from '../../appliance/contract/topics.ts';
import { connectDevice, eventually, publishReading, startApp, tempDir, type RunningApp } from '../helpers/appliance.ts';

const ADMIN_PASSWORD = 'admin-debug-password';
const MAX_REMAINING_LENGTH = 268_435_455;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const mqttSettings = (app: Record<string, unknown> = {}) => ({ mqtt: { port: 0, host: '127.0.0.1', admin_password: ADMIN_PASSWORD, ...app } });
const portOf = (app: RunningApp) => Number(new URL(app.url).port);

async function register(app: RunningApp, sn: string) {
  const { password } = await app.app.testApi.addDevice({ sn, high_limit: 1000 });
  return password!;
}

/** A raw TCP connection to the broker; what the broker sends is read and discarded (so its close is seen). */
function openSocket(app: RunningApp): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(portOf(app), '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
    socket.resume();
  });
}

const closeOf = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

const connectPacket = (sn: string, password: string, clientId = sn) =>
  mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 30, username: deviceUsername(sn), password: Buffer.from(password) });

/**
 * A socket that announces the largest MQTT packet there is (remaining length 268,435,455) and then
 * streams its body as fast as the appliance reads, up to `cap` bytes (so a regression cannot take
 * the test machine's memory). Resolves with what was written and how long the socket lived.
 */
async function announceHugePacket(app: RunningApp, kind: 'publish' | 'connect', cap: number): Promise<{ sent: number; aliveMs: number }> {
  const socket = await openSocket(app);
  const opened = Date.now();
  const length = varByteInt(MAX_REMAINING_LENGTH); // ff ff ff 7f
  const header = kind === 'connect'
    ? Buffer.from([0x10, ...length, 0, 4, ...Buffer.from('MQTT'), 4, 0xc2, 0, 30])
    : Buffer.from([0x30, ...length, 0, 8, ...Buffer.from('mcs/X/up')]);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  socket.on('error', () => {});
  const pump = () => {
    while (!socket.destroyed && sent < cap) {
      const part = sent === 0 ? Buffer.concat([header, chunk]) : chunk;
      sent += part.length;
      if (!socket.write(part)) return;
    }
  };
  socket.on('drain', pump);
  pump();
  const closed = closeOf(socket);
  const timedOut = await Promise.race([closed.then(() => false), sleep(10_000).then(() => true)]);
  socket.destroy();
  assert.ok(!timedOut, `the ${kind} socket was still open after 10 s (${sent} bytes written)`);
  return { sent, aliveMs: Date.now() - opened };
}

describe('packets above mqtt.max_packet_bytes and slow CONNECTs (issue 16.1)', () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp(mqttSettings({ connect_timeout_s: 1 }));
  });
  after(() => app.stop());

  test('50 sockets announcing a 256 MB PUBLISH or CONNECT are closed at once and memory stays bounded', async (t) => {
    const rssBefore = process.memoryUsage.rss();
    const cap = 8 * 1024 * 1024; // a broker that buffers would keep 400 MB of these
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => announceHugePacket(app, i % 2 ? 'connect' : 'publish', cap)));
    const rssAfter = process.memoryUsage.rss();
    const growthMb = (rssAfter - rssBefore) / 1e6;
    const aliveMax = Math.max(...results.map((r) => r.aliveMs));
    const sentMax = Math.max(...results.map((r) => r.sent));
    t.diagnostic(`50 sockets: RSS ${Math.round(rssBefore / 1e6)} → ${Math.round(rssAfter / 1e6)} MB, open at most ${aliveMax} ms, at most ${(sentMax / 1e6).toFixed(2)} MB written each`);
    assert.ok(aliveMax < 2000, `every socket closed within 2 s (slowest ${aliveMax} ms)`);
    assert.ok(sentMax < cap, `no socket could stream its body (at most ${sentMax} bytes written)`);
    assert.ok(growthMb < 150, `RSS grew by ${growthMb.toFixed(0)} MB`);
    assert.equal(app.app.testApi.brokerStats().refused.too_large, 50);
    assert.equal(app.app.testApi.brokerStats().connected, 0);
  });

  test('a packet just under the limit is still read; one byte over it is refused before its body arrives', async () => {
    // A PUBLISH before CONNECT is a protocol error either way; what differs is when the socket closes.
    const limit = app.app.testApi.maxPacketBytes();
    const refusedBefore = app.app.testApi.brokerStats().refused.too_large ?? 0;
    const over = await openSocket(app);
    over.on('error', () => {});
    const overClosed = closeOf(over);
    // Only the fixed header of a packet one byte over the limit: refused without waiting for the body.
    over.write(Buffer.from([0x30, ...varByteInt(limit + 1)]));
    await overClosed;
    assert.equal(app.app.testApi.brokerStats().refused.too_large, refusedBefore + 1);
    const under = await openSocket(app);
    under.on('error', () => {});
    const underClosed = closeOf(under);
    under.write(Buffer.from([0x30, ...varByteInt(limit)]));
    await sleep(200);
    assert.ok(!under.destroyed, 'a header at the limit waits for its body');
    under.destroy();
    await underClosed;
    assert.equal(app.app.testApi.brokerStats().refused.too_large, refusedBefore + 1);
  });

  test('a socket that sends no CONNECT, or sends it too slowly, is closed after mqtt.connect_timeout_s', async () => {
    const silent = await openSocket(app);
    const slow = await openSocket(app);
    slow.on('error', () => {});
    const opened = Date.now();
    const packet = connectPacket('SLOW-1', 'whatever-password');
    let sentBytes = 0;
    const drip = setInterval(() => {
      if (sentBytes < packet.length && !slow.destroyed) slow.write(packet.subarray(sentBytes, ++sentBytes));
    }, 100);
    try {
      await Promise.all([closeOf(silent), closeOf(slow)]);
    } finally {
      clearInterval(drip);
    }
    const elapsed = Date.now() - opened;
    assert.ok(elapsed >= 900 && elapsed < 3000, `closed after ${elapsed} ms (connect_timeout_s 1)`);
    assert.ok(sentBytes < packet.length, 'the slow CONNECT never completed');
    assert.equal(app.app.testApi.brokerStats().refused.connect_timeout, 2);
  });

  test("a logged-in detector's publish over the limit is not acknowledged, ends its connection and is counted too_large", async () => {
    const password = await register(app, 'BIG-1');
    const client = await connectDevice(app.url, 'BIG-1', password);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let acked = false;
    client.publish(upTopic('BIG-1'), Buffer.alloc(64 * 1024, 0x20), { qos: 1 }, (err) => (acked = !err));
    await closed;
    client.end(true);
    assert.equal(acked, false, 'no PUBACK for the oversized publish');
    assert.equal(app.app.testApi.ingestStatsOf('BIG-1')?.dropped.too_large, 1);
    // The detector comes back and its normal readings are stored.
    const again = await connectDevice(app.url, 'BIG-1', password);
    await publishReading(again, 'BIG-1', { seq: 1 });
    await again.endAsync();
    assert.equal(app.app.testApi.storedReadings('BIG-1').length, 1);
  });
});

test('over TLS too: a handshake that never comes and an oversized packet after it are cut short', async () => {
  const certs = tempDir();
  const pems = await selfSigned([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec' });
  writeFileSync(join(certs.dir, 'server.crt'), pems.cert);
  writeFileSync(join(certs.dir, 'server.key'), pems.private);
  const app = await startApp(mqttSettings({ connect_timeout_s: 1, tls_port: 0, tls_cert: join(certs.dir, 'server.crt'), tls_key: join(certs.dir, 'server.key') }));
  try {
    const port = app.app.testApi.ports.mqtts;
    // A TCP connection to the TLS port that never says hello: closed by the handshake timeout.
    const silent = connect(port, '127.0.0.1');
    silent.on('error', () => {});
    silent.resume();
    const opened = Date.now();
    await Promise.race([closeOf(silent), sleep(5000)]);
    const elapsed = Date.now() - opened;
    silent.destroy();
    assert.ok(elapsed >= 900 && elapsed < 3000, `closed after ${elapsed} ms (connect_timeout_s 1)`);
    assert.equal(app.app.testApi.brokerStats().refused.connect_timeout, 1);
    // After the handshake, the largest PUBLISH there is: closed at its header.
    const secure = connectTls({ port, host: '127.0.0.1', ca: pems.cert, servername: 'localhost' });
    secure.on('error', () => {});
    secure.resume();
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    const sentAt = Date.now();
    secure.write(Buffer.from([0x30, ...varByteInt(MAX_REMAINING_LENGTH), 0, 8, ...Buffer.from('mcs/X/up'), ...Buffer.alloc(60_000)]));
    await new Promise((resolve) => (secure.destroyed ? resolve(null) : secure.once('close', resolve)));
    assert.ok(Date.now() - sentAt < 1000, 'closed before the connect timeout');
    assert.equal(app.app.testApi.brokerStats().refused.too_large, 1);
  } finally {
    await app.stop();
    certs.remove();
  }
});

/** MQTT's variable byte integer (the remaining length of a fixed header). */
function varByteInt(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return bytes;
}

describe('connection counts (issue 16.2)', () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp(mqttSettings(), { devLicenseDevices: 3 });
  });
  after(() => app.stop());

  const counts = () => ({ connected: app.app.testApi.brokerStats().connected, devices: app.app.testApi.connectedDevices() });

  async function metricConnections(): Promise<number> {
    const metrics = await app.app.api.inject({ method: 'GET', url: '/metrics' });
    return Number(/^mcs_mqtt_connections (\d+)$/m.exec(metrics.body)![1]);
  }

  test('connections closed during their CONNECT steps leave the counts at zero', async () => {
    const passwords = new Map<string, string>();
    for (const sn of ['DRIFT-1', 'DRIFT-2', 'DRIFT-3']) passwords.set(sn, await register(app, sn));
    // a) The trigger: CONNECT, then (in its own segment, while the login is checked) a
    //    publish outside the ACL, which aedes reads right after the CONNACK, refuses and closes on.
    for (let i = 0; i < 5; i++) {
      const socket = await openSocket(app);
      socket.on('error', () => {});
      socket.write(connectPacket('DRIFT-1', passwords.get('DRIFT-1')!));
      await new Promise((resolve) => setImmediate(resolve));
      socket.write(mqttPacket.generate({ cmd: 'publish', topic: upTopic('DRIFT-2'), payload: Buffer.from('{}'), qos: 0, retain: false, dup: false }));
      await closeOf(socket);
    }
    // b) real mqtt clients that publish outside their ACL the moment the CONNACK arrives.
    for (let i = 0; i < 10; i++) {
      const client = mqtt.connect(app.url, { username: deviceUsername('DRIFT-2'), password: passwords.get('DRIFT-2'), clientId: 'DRIFT-2', protocolVersion: 4, reconnectPeriod: 0 });
      client.on('error', () => {});
      client.once('connect', () => client.publish(upTopic('DRIFT-3'), '{}', { qos: 1 }));
      await new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.end(true);
    }
    // c) a socket that goes away right after its CONNECT: aedes reports 'clientReady' after
    //    'clientDisconnect' for it (what made the old counter drift on this machine).
    for (let i = 0; i < 5; i++) {
      const socket = await openSocket(app);
      socket.on('error', () => {});
      socket.write(connectPacket('DRIFT-3', passwords.get('DRIFT-3')!));
      await new Promise((resolve) => setImmediate(resolve));
      socket.destroy();
    }
    await eventually(() => app.app.testApi.ingestStatsOf('DRIFT-2')?.dropped.acl_violation === 10, 3000, 'ACL violations counted');
    await sleep(300); // whatever aedes still finishes of those CONNECTs
    assert.deepEqual(counts(), { connected: 0, devices: 0 });
    assert.equal(await metricConnections(), 0);
    for (const sn of passwords.keys()) assert.equal(app.app.testApi.isConnected(sn), false, sn);
    // LIC-5 (3 devices): the three detectors all get in, and the counts follow them.
    const clients: MqttClient[] = [];
    for (const sn of passwords.keys()) clients.push(await connectDevice(app.url, sn, passwords.get(sn)!));
    await eventually(() => app.app.testApi.brokerStats().connected === 3, 2000, 'three connections');
    assert.deepEqual(counts(), { connected: 3, devices: 3 });
    assert.equal(await metricConnections(), 3);
    for (const client of clients) await client.endAsync();
    await eventually(() => counts().connected === 0 && counts().devices === 0, 2000, 'counts back to zero');
  });
});

describe('a detector taking over its own session (issue 16.3)', () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp({ ...mqttSettings(), ingest: { offline_grace_s: 0 } }); // a real loss is OFFLINE at once (no issue 15.4 grace)
  });
  after(() => app.stop());

  const will = (sn: string) => ({ topic: statusTopic(sn), payload: Buffer.from(JSON.stringify({ status: 'offline', ts: 1 })), qos: 1 as const, retain: true });

  test("the old connection's Last Will raises no OFFLINE; the device stays online; a real loss still does", async () => {
    const sn = 'TAKE-1';
    const password = await register(app, sn);
    const events: string[] = [];
    const off = app.app.bus.on('device_status', (e) => events.push(`${e.sn}:${e.status}:${e.reason}`));
    try {
      const first = await connectDevice(app.url, sn, password, { will: will(sn) });
      await publishReading(first, sn, { seq: 1 });
      const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
      // The 4G modem lost its link and dials in again while the broker still holds the old socket.
      const second = await connectDevice(app.url, sn, password, { will: will(sn) });
      await firstClosed; // aedes decides on the old connection's Will before it closes the socket
      first.end(true);
      await app.app.testApi.flush();
      assert.deepEqual(events, [`${sn}:online:reading`]);
      assert.ok(app.app.testApi.isOnline(sn));
      assert.equal(app.app.testApi.alarmRecords({ type: 'OFFLINE' }).total, 0, 'no OFFLINE alarm record');
      assert.equal(app.app.testApi.isConnected(sn), true);
      assert.equal(app.app.testApi.connectedDevices(), 1);
      await publishReading(second, sn, { seq: 2 });

      // The current connection's own loss still goes through its Will (or its disconnect).
      (second as unknown as { stream: { destroy(): void } }).stream.destroy();
      await eventually(() => !app.app.testApi.isOnline(sn), 3000, 'offline on the real loss');
      second.end(true);
      await app.app.testApi.flush();
      assert.match(events[1], new RegExp(`^${sn}:offline:(will|disconnect)$`));
      assert.equal(app.app.testApi.alarmRecords({ type: 'OFFLINE' }).total, 1);
    } finally {
      off();
    }
  });
});

describe('retained messages (issue 16.9)', () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp(mqttSettings());
  });
  after(() => app.stop());

  async function adminSubscriber(topic: string) {
    const client = await mqtt.connectAsync(app.url, { username: 'admin', password: ADMIN_PASSWORD, protocolVersion: 4, reconnectPeriod: 0 });
    const received: { topic: string; payload: string; retain: boolean }[] = [];
    client.on('message', (t, payload, packet) => received.push({ topic: t, payload: payload.toString(), retain: packet.retain }));
    await client.subscribeAsync(topic, { qos: 1 });
    return { client, received };
  }

  test('a retained reading is stored but not kept: a later subscriber gets no reading replayed', async () => {
    const sn = 'RET-1';
    const password = await register(app, sn);
    const device = await connectDevice(app.url, sn, password);
    await device.publishAsync(upTopic(sn), JSON.stringify({ ts: Math.floor(Date.now() / 1000) - 60, seq: 1, v_raw: 10, temp: 25, bat: 90, rssi: -70, err: 0 }), { qos: 1, retain: true });
    assert.equal(app.app.testApi.storedReadings(sn).length, 1, 'the reading itself is stored');
    const { client, received } = await adminSubscriber(`mcs/${sn}/#`);
    // A marker after the SUBACK: anything retained would have been delivered before it.
    await device.publishAsync(statusTopic(sn), JSON.stringify({ status: 'online' }), { qos: 1 });
    await eventually(() => received.some((m) => m.topic === statusTopic(sn)), 2000, 'the marker');
    assert.deepEqual(received.filter((m) => m.topic === upTopic(sn)), [], 'no retained reading replayed');
    await client.endAsync();
    await device.endAsync();
  });

  test('a retained status is kept (DEV-1); an empty retained status clears it and is not a dropped reading', async () => {
    const sn = 'RET-2';
    const password = await register(app, sn);
    const device = await connectDevice(app.url, sn, password);
    await device.publishAsync(statusTopic(sn), JSON.stringify({ status: 'online' }), { qos: 1, retain: true });
    const first = await adminSubscriber(statusTopic(sn));
    await eventually(() => first.received.length === 1, 2000, 'the retained status');
    assert.equal(first.received[0].retain, true);
    await first.client.endAsync();

    const droppedBefore = { ...app.app.testApi.ingestTotals().dropped };
    await device.publishAsync(statusTopic(sn), Buffer.alloc(0), { qos: 1, retain: true }); // the device clears it
    assert.deepEqual(app.app.testApi.ingestTotals().dropped, droppedBefore, 'nothing counted as dropped');
    assert.deepEqual(app.app.testApi.ingestStatsOf(sn)?.dropped ?? {}, {});
    assert.ok(app.app.testApi.isOnline(sn), 'clearing the retained status says nothing about presence');
    const second = await adminSubscriber(statusTopic(sn));
    await device.publishAsync(upTopic(sn), JSON.stringify({ ts: Math.floor(Date.now() / 1000) - 60, seq: 1, v_raw: 10, temp: 25, bat: 90, rssi: -70, err: 0 }), { qos: 1 });
    await sleep(100);
    assert.deepEqual(second.received, [], 'the retained status is gone');
    await second.client.endAsync();
    await device.endAsync();
  });
});


describe('MQTT 3.1.1 behaviour the hardening keeps', () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp(mqttSettings());
  });
  after(() => app.stop());

  /** A raw 3.1.1 session: packets written by hand, the broker's answers parsed. */
  async function rawSession() {
    const socket = await openSocket(app);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const received: mqttPacket.Packet[] = [];
    parser.on('packet', (packet) => received.push(packet));
    socket.on('data', (chunk) => parser.parse(chunk));
    const next = async (cmd: string) => {
      await eventually(() => received.some((p) => p.cmd === cmd), 2000, cmd);
      return received.splice(received.findIndex((p) => p.cmd === cmd), 1)[0];
    };
    return { socket, next, send: (packet: mqttPacket.Packet) => socket.write(mqttPacket.generate(packet)) };
  }

  test('a QoS 2 reading resent with DUP before PUBREL is stored once', async () => {
    const sn = 'QOS2-1';
    const password = await register(app, sn);
    const session = await rawSession();
    session.socket.write(connectPacket(sn, password));
    assert.equal((await session.next('connack') as mqttPacket.IConnackPacket).returnCode, 0);
    const payload = Buffer.from(JSON.stringify({ ts: Math.floor(Date.now() / 1000) - 60, seq: 9, v_raw: 10, temp: 25, bat: 90, rssi: -70, err: 0 }));
    const publish = { cmd: 'publish', topic: upTopic(sn), payload, qos: 2, messageId: 7, retain: false, dup: false } as const;
    session.send(publish);
    await session.next('pubrec');
    session.send({ ...publish, dup: true });
    await session.next('pubrec');
    session.send({ cmd: 'pubrel', messageId: 7 });
    await session.next('pubcomp');
    session.socket.destroy();
    assert.equal(app.app.testApi.storedReadings(sn).length, 1);
    // aedes asks authorizePublish again for the resend (its QoS 2 store is checked after it): ING-4 keeps it once.
    assert.equal(app.app.testApi.ingestStatsOf(sn)?.duplicates, 1);
  });

  test('an MQTT 5 CONNECT gets CONNACK 0x01 (unacceptable protocol version)', async () => {
    const password = await register(app, 'V5-2');
    const socket = await openSocket(app);
    const answer = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'V5-2', keepalive: 30, username: deviceUsername('V5-2'), password: Buffer.from(password) }));
    assert.deepEqual([...(await answer)], [0x20, 0x02, 0x00, 0x01]);
    await closeOf(socket);
  });
});
