// DEV-1, DEV-5, DEV-6 and issues 16.2/16.3 through broker/broker.ts alone: the real aedes broker on
// an ephemeral loopback port with real MQTT clients, the real device table (SQLite in a temp dir)
// and the real ingest pipeline and presence behind it; only the group-commit writer is an
// in-memory one that commits at once (the pipeline and group-commit tests cover the writer).
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { createBroker, type Broker } from '../../appliance/broker/broker.ts';
import { CONNACK } from '../../appliance/broker/authenticate.ts';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { cmdTopic, deviceUsername, statusTopic, upTopic } from '../../appliance/contract/topics.ts';
import { createBus, type DeviceStatusEvent } from '../../appliance/core/bus.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { createDeviceCache, type DeviceCache } from '../../appliance/devices/cache.ts';
import { createDeviceService, type DeviceService } from '../../appliance/devices/service.ts';
import { createIngest, type Ingest } from '../../appliance/ingest/pipeline.ts';
import { createPresence } from '../../appliance/ingest/presence.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import type { CommitCallback, GroupCommitWriter } from '../../appliance/storage/group-commit.ts';
import { createPendingRepository } from '../../appliance/storage/pending.ts';
import * as R from '../../appliance/storage/reading-row.ts';
import { eventually, reading, tempDir } from '../helpers/appliance.ts';

const SECRET = 'factory-secret-for-broker-tests';
const ADMIN_PASSWORD = 'debug-pass';

/** Commits each reading at once, keyed like the readings table (sn_id, ts). */
function immediateWriter() {
  const keys = new Set<string>();
  const writer = {
    enqueue(fill: (rows: Float64Array, offset: number) => void, callback: CommitCallback) {
      const row = new Float64Array(R.ROW_FIELDS);
      fill(row, 0);
      const key = `${row[R.F_SN_ID]}:${row[R.F_TS]}`;
      const inserted = !keys.has(key);
      keys.add(key);
      setImmediate(() => callback(null, inserted));
    },
    enqueueUpdate() {},
  };
  return writer as unknown as GroupCommitWriter;
}

let temp: ReturnType<typeof tempDir>;
let db: Db;
let cache: DeviceCache;
let service: DeviceService;
let ingest: Ingest;
let broker: Broker;
let statuses: DeviceStatusEvent[];
let clients: MqttClient[];

beforeEach(async () => {
  temp = tempDir();
  db = openDb(dbFileIn(temp.dir));
  const devices = createDeviceRepository(db);
  cache = createDeviceCache(devices);
  service = createDeviceService({ devices, pending: createPendingRepository(db), clock: manualClock(), onChange: () => cache.reload() });
  cache.reload();
  const bus = createBus();
  const clock = manualClock(Date.now());
  statuses = [];
  bus.on('device_status', (event) => statuses.push(event));
  const presence = createPresence({ bus, clock, timeoutMs: 90_000 });
  ingest = createIngest({ devices: cache, writer: immediateWriter(), presence, bus, clock, log: silentLogger(), clockSkewMs: 60_000 });
  broker = createBroker({ devices: cache, ingest, log: silentLogger(), host: '127.0.0.1', port: 0, factorySecret: SECRET, adminPassword: ADMIN_PASSWORD });
  await broker.start();
  clients = [];
});

afterEach(async () => {
  for (const client of clients) client.end(true);
  await broker.stop();
  db.close();
  temp.remove();
});

const url = () => `mqtt://127.0.0.1:${broker.ports.mqtt}`;

async function connect(username: string, password: string, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url(), { username, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  clients.push(client);
  return client;
}

/** The CONNACK return code of a refused CONNECT (0: accepted). */
function connackCode(username: string, password: string): Promise<number> {
  return connect(username, password).then(
    async (client) => {
      await client.endAsync();
      return 0;
    },
    (err: { code?: number }) => err.code ?? -1,
  );
}

async function addDevice(sn: string): Promise<{ sn: string; password: string }> {
  const { password } = await service.add({ sn, high_limit: 1000 });
  return { sn, password: password! };
}

const connectDevice = (device: { sn: string; password: string }, options: mqtt.IClientOptions = {}) =>
  connect(deviceUsername(device.sn), device.password, { clientId: device.sn, ...options });

const closed = (client: MqttClient) => new Promise<void>((resolve) => (client.disconnected ? resolve() : client.once('close', () => resolve())));

describe('broker: authentication at CONNECT (DEV-5)', () => {
  test('wrong credentials are refused with their CONNACK code and counted; none of them is a connection', async () => {
    const a1 = await addDevice('A1');
    await service.add({ sn: 'D1', high_limit: 1000, enabled: false });
    assert.equal(await connackCode(deviceUsername('A1'), a1.password + 'x'), CONNACK.BAD_USERNAME_OR_PASSWORD);
    assert.equal(await connackCode('not-a-device', 'whatever'), CONNACK.BAD_USERNAME_OR_PASSWORD);
    assert.equal(await connackCode(deviceUsername('NEW-1'), 'guess'), CONNACK.NOT_AUTHORIZED);
    assert.equal(await connackCode(deviceUsername('D1'), derivedDevicePassword('D1', SECRET)), CONNACK.NOT_AUTHORIZED);
    assert.equal(await connackCode('admin', 'wrong'), CONNACK.BAD_USERNAME_OR_PASSWORD);
    assert.deepEqual(broker.stats.refused, { bad_password: 2, bad_username: 1, unknown_device: 1, disabled: 1 });
    assert.equal(broker.stats.connects, 0);
    assert.equal(broker.stats.connected, 0);
  });

  test('the right credentials connect: a device, a pending serial with its factory password, the admin user', async () => {
    const a1 = await addDevice('A1');
    assert.equal(await connackCode(deviceUsername('A1'), a1.password), 0);
    assert.equal(await connackCode(deviceUsername('NEW-1'), derivedDevicePassword('NEW-1', SECRET)), 0);
    assert.equal(await connackCode('admin', ADMIN_PASSWORD), 0);
    assert.equal(broker.stats.connects, 3);
  });
});

describe('broker: ACL (DEV-6)', () => {
  test('a device publishing its own reading gets the PUBACK once ingest stored it', async () => {
    const a1 = await addDevice('A1');
    const client = await connectDevice(a1);
    await client.publishAsync(upTopic('A1'), JSON.stringify(reading({ seq: 1 })), { qos: 1 });
    assert.equal(ingest.totals.stored, 1, 'stored before the PUBACK arrived');
    assert.equal(broker.stats.aclViolations, 0);
  });

  for (const [what, topic] of [
    ["another device's readings", upTopic('B2')],
    ["another device's status", statusTopic('B2')],
    ['its own command topic', cmdTopic('A1')],
    ['a topic outside the scheme', 'some/topic'],
  ]) {
    test(`publishing to ${what} ends the connection and is counted against the device`, async () => {
      const a1 = await addDevice('A1');
      await addDevice('B2');
      const client = await connectDevice(a1);
      const gone = closed(client);
      client.publish(topic!, JSON.stringify(reading({ seq: 1 })), { qos: 1 });
      await gone;
      assert.equal(broker.stats.aclViolations, 1);
      assert.deepEqual(ingest.perDevice.get('A1')!.dropped, { acl_violation: 1 });
      assert.equal(ingest.totals.stored, 0, 'nothing reached the writer');
      assert.equal(ingest.perDevice.get('B2'), undefined, 'nothing was counted for the device it pretended to be');
    });
  }

  test('a device may subscribe only to its command topic and the broadcast: SUBACK 0x80 for every other filter', async () => {
    const a1 = await addDevice('A1');
    const client = await connectDevice(a1);
    const filters = [cmdTopic('A1'), 'mcs/broadcast/cmd', cmdTopic('B2'), upTopic('A1'), 'mcs/#', '#', 'mcs/+/cmd'];
    // The SUBACK itself (mqtt.js turns a 0x80 into an error of the whole subscribe).
    const suback = new Promise<number[]>((resolve) =>
      client.on('packetreceive', (packet) => packet.cmd === 'suback' && resolve(packet.granted as number[])));
    client.subscribe(filters, { qos: 1 }, () => {});
    assert.deepEqual(await suback, [1, 1, 128, 128, 128, 128, 128]);
    assert.equal(broker.stats.deniedSubscriptions, 5);
    assert.equal(client.connected, true, 'a refused subscription does not end the connection');
  });

  test('a command sent by the appliance reaches the device subscribed to its topic, and no other', async () => {
    const a1 = await addDevice('A1');
    const b2 = await addDevice('B2');
    const clientA = await connectDevice(a1);
    const clientB = await connectDevice(b2);
    await clientA.subscribeAsync(cmdTopic('A1'), { qos: 1 });
    await clientB.subscribeAsync(cmdTopic('B2'), { qos: 1 });
    const receivedB: string[] = [];
    clientB.on('message', (topic) => receivedB.push(topic));
    const received = new Promise<[string, string]>((resolve) => clientA.once('message', (topic, body) => resolve([topic, body.toString()])));
    await broker.sendCommand('A1', { cmd: 'reboot', delay: 5 });
    assert.deepEqual(await received, [cmdTopic('A1'), '{"cmd":"reboot","delay":5}']);
    assert.deepEqual(receivedB, []);
  });
});

describe('broker: connections (issues 16.2, 16.3)', () => {
  test('the connection counts follow the open connections, however they close', async () => {
    const a1 = await addDevice('A1');
    const b2 = await addDevice('B2');
    const clientA = await connectDevice(a1);
    const clientB = await connectDevice(b2);
    const admin = await connect('admin', ADMIN_PASSWORD);
    await connect(deviceUsername('NEW-1'), derivedDevicePassword('NEW-1', SECRET), { clientId: 'NEW-1' });
    for (const [client, sn] of [[clientA, 'A1'], [clientB, 'B2']] as const) {
      await client.publishAsync(upTopic(sn), JSON.stringify(reading({ seq: 1 })), { qos: 1 }); // online (ING-7)
    }
    await eventually(() => broker.stats.connected === 4, 5_000, 'four connections');
    assert.equal(broker.connectedDevices(), 2, 'registered devices only: not the admin, not a pending serial');
    assert.equal(broker.isConnected('A1'), true);

    await clientA.endAsync(); // DISCONNECT
    (clientB.stream as unknown as { destroy(): void }).destroy(); // the network went away
    await admin.endAsync();
    await eventually(() => broker.stats.connected === 1, 5_000, 'one connection left');
    assert.equal(broker.connectedDevices(), 0);
    assert.equal(broker.isConnected('A1'), false);
    assert.equal(broker.stats.connects, 4);
    await eventually(() => statuses.filter((s) => s.status === 'offline').length === 2, 5_000, 'two devices offline');
    assert.deepEqual(statuses.filter((s) => s.status === 'offline').map((s) => [s.sn, s.reason]).sort(), [['A1', 'disconnect'], ['B2', 'disconnect']]);
  });

  test('a reconnect with the same client id closes the old connection without OFFLINE, and its Will is not passed on', async () => {
    const a1 = await addDevice('A1');
    const will = { topic: statusTopic('A1'), payload: Buffer.from('{"status":"offline"}'), qos: 1 as const, retain: true };
    const first = await connectDevice(a1, { will });
    await first.publishAsync(upTopic('A1'), JSON.stringify(reading({ seq: 1 })), { qos: 1 });
    assert.deepEqual(statuses.map((s) => [s.status, s.reason]), [['online', 'reading']]);

    const firstClosed = closed(first);
    const second = await connectDevice(a1, { will });
    await firstClosed;
    await second.publishAsync(upTopic('A1'), JSON.stringify(reading({ seq: 2 })), { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // let any late disconnect or Will of the first arrive
    assert.deepEqual(statuses.map((s) => [s.status, s.reason]), [['online', 'reading']], 'no OFFLINE for the replaced connection');
    assert.equal(broker.stats.connected, 1);
    assert.equal(broker.isConnected('A1'), true);

    // A watcher (the admin user) sees no retained "offline" for a connected device.
    const admin = await connect('admin', ADMIN_PASSWORD);
    const retained: string[] = [];
    admin.on('message', (_topic, body) => retained.push(body.toString()));
    await admin.subscribeAsync(statusTopic('A1'), { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(retained, []);

    // The current connection's end is the device going away.
    const secondClosed = closed(second);
    (second.stream as unknown as { destroy(): void }).destroy();
    await secondClosed;
    await eventually(() => statuses.length === 2, 5_000, 'offline');
    assert.deepEqual(statuses[1]!.status, 'offline');
  });
});
