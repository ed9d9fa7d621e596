// SYNC-4: the Aliyun IoT Platform transport. Its CONNECT signature against the worked example of
// Aliyun's documentation, and a real Mosquitto whose password file holds the signed password
// (computed here by the openssl CLI from the documented rule), so the broker itself checks it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { Value } from '@sinclair/typebox/value';
import { AliyunTargetSchema, CloudCommandSchema, type AliyunTarget, type UplinkFrame } from '../../../appliance/contract/uplink.ts';
import { createTransport } from '../../../appliance/sync/transports/index.ts';
import { aliyunEndpoint } from '../../../appliance/sync/transports/aliyun.ts';
import { ALINK_LIMITS, aliyunMqttCredentials, alinkMessages, type AlinkGateway } from '../../../appliance/sync/transports/alink.ts';
import { startMosquitto, type TestMosquitto } from '../../helpers/mosquitto.ts';
import { BOX, T0, aggregate, alarm, deviceEvent, gap, keepLog, nextState, opensslDigest, reading, waitUntil } from './support.ts';

test("the signature matches the worked example of Aliyun's documentation (MQTT-TCP connection, document 73742)", () => {
  // Documented: clientId 12345, deviceName device, productKey pk, timestamp 789, signmethod hmacsha1,
  // deviceSecret secret, over TCP → mqttClientId "12345|securemode=3,signmethod=hmacsha1,timestamp=789|",
  // mqttUsername "device&pk", mqttPassword FAFD82A3D602B37FB0FA8B7892F24A477F851A14 (hex; today's page
  // masks the last four digits as ****, earlier editions print them). Aliyun prints no full
  // HMAC-SHA256 example (its signing tools' outputs are masked), hence the openssl check below.
  const documented = { clientId: '12345', deviceName: 'device', productKey: 'pk', timestamp: 789, deviceSecret: 'secret', tls: false };
  const sha1 = aliyunMqttCredentials({ ...documented, signMethod: 'hmacsha1' });
  assert.equal(sha1.clientId, '12345|securemode=3,signmethod=hmacsha1,timestamp=789|');
  assert.equal(sha1.username, 'device&pk');
  assert.equal(sha1.password.toUpperCase(), 'FAFD82A3D602B37FB0FA8B7892F24A477F851A14');
  // HMAC-SHA256 (what the box uses) over the same documented content, by an independent implementation.
  const sha256 = aliyunMqttCredentials({ ...documented, tls: true });
  assert.equal(sha256.clientId, '12345|securemode=2,signmethod=hmacsha256,timestamp=789|');
  assert.equal(sha256.password, opensslDigest(['-sha256', '-hmac', 'secret'], 'clientId12345deviceNamedeviceproductKeypktimestamp789'));
  assert.match(sha256.password, /^[0-9a-f]{64}$/);
});

test('the endpoint is the public instance of the region unless a host is set', () => {
  assert.deepEqual(aliyunEndpoint({ host: '', product_key: 'a1B2c3D4e5F', region: 'cn-shanghai' }), { host: 'a1B2c3D4e5F.iot-as-mqtt.cn-shanghai.aliyuncs.com', port: 1883 });
  assert.deepEqual(aliyunEndpoint({ host: 'iot-06z00.mqtt.iothub.aliyuncs.com:8883', product_key: 'x', region: 'cn-shanghai' }), { host: 'iot-06z00.mqtt.iothub.aliyuncs.com', port: 8883 });
});

test('Alink batches keep to the documented limits: 20 sub-devices and 200 properties per message, one value per property', () => {
  let id = 0;
  const gateway: AlinkGateway = { productKey: 'pk', deviceName: 'gw', subProductKey: 'sub', nextId: () => String(++id) };
  const many = Array.from({ length: 45 }, (_, i) => reading(`D${i}`, 1));
  const live = alinkMessages(gateway, { kind: 'reading', historical: false, records: many }).map((m) => JSON.parse(m.body));
  assert.deepEqual(live.map((body) => body.params.subDevices.length), [20, 20, 5]);
  // The same device twice in a frame: never twice in one message.
  const twice = alinkMessages(gateway, { kind: 'reading', historical: false, records: [reading('A', 1), reading('A', 2), reading('B', 1)] });
  assert.deepEqual(twice.map((m) => JSON.parse(m.body).params.subDevices.map((s: { identity: { deviceName: string } }) => s.identity.deviceName)), [['A', 'B'], ['A']]);
  // History: 7 properties a reading → 28 readings (196 values) a message.
  const backlog = Array.from({ length: 60 }, (_, i) => reading('A', i, { historical: true }));
  const history = alinkMessages(gateway, { kind: 'reading', historical: true, records: backlog }).map((m) => JSON.parse(m.body));
  assert.deepEqual(history.map((body) => body.params[0].properties.length), [28, 28, 4]);
  for (const body of history) assert.ok(body.params[0].properties.length * 7 <= ALINK_LIMITS.properties);
  const alarms = alinkMessages(gateway, { kind: 'alarm', historical: true, records: Array.from({ length: 25 }, (_, i) => alarm(i)) });
  assert.deepEqual(alarms.map((m) => JSON.parse(m.body).params[0].events.length), [20, 5]);
  assert.equal(new Set([...live, ...history].map((body) => body.id)).size, live.length + history.length, 'message ids are unique');
});

// --- Against a real broker ----------------------------------------------------------------------

const PK = 'a1B2c3D4e5F';
const DN = 'mcs-box-7';
const SUB_PK = 'a1SubDet3ct';
const SECRET = 'q8ZCw0Xz2Tn4LhJm5yKd7Vb1Pa3Rs6Uv';
const AT = T0 + 123; // the transport's clock: the signature of every CONNECT is for this time
// Computed from Aliyun's documented rule by openssl, not by the code under test.
const SIGNED = opensslDigest(['-sha256', '-hmac', SECRET], `clientId${PK}.${DN}deviceName${DN}productKey${PK}timestamp${AT}`);

let broker: TestMosquitto;
let cloud: MqttClient;
const received: Array<{ topic: string; body: string }> = [];

before(async () => {
  broker = await startMosquitto({ users: { [`${DN}&${PK}`]: SIGNED, cloud: 'cloud-pass' }, plain: true });
  cloud = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.plainPort}`, { username: 'cloud', password: 'cloud-pass', protocolVersion: 4, reconnectPeriod: 0 });
  await cloud.subscribeAsync('/sys/#', { qos: 1 });
  cloud.on('message', (topic, payload) => received.push({ topic, body: payload.toString('utf8') }));
});

after(async () => {
  await cloud?.endAsync();
  await broker?.stop();
});

function aliyunTarget(overrides: Partial<AliyunTarget> = {}): AliyunTarget {
  const target = Value.Default(AliyunTargetSchema, {
    id: 'aliyun', kind: 'aliyun', product_key: PK, device_name: DN, device_secret: SECRET,
    host: `127.0.0.1:${broker.tlsPort}`, tls: true, ca: broker.pki.ca, sub_product_key: SUB_PK, ...overrides,
  }) as AliyunTarget;
  assert.ok(Value.Check(AliyunTargetSchema, target));
  return target;
}

function open(target: AliyunTarget) {
  const kept = keepLog();
  const transport = createTransport(target, { boxId: BOX, log: kept.log, clock: { now: () => AT }, backoff: { baseMs: 200, capMs: 1000 } });
  return { transport, ...kept };
}

const bodiesOn = (topic: string) => received.filter((m) => m.topic === topic).map((m) => m.body);

test('the box signs in to a broker that checks the signed password, and posts live telemetry, backfill and events as Alink', async () => {
  const { transport, text } = open(aliyunTarget());
  try {
    transport.start();
    await nextState(transport, (state) => state.connected, 5000);
    assert.ok(broker.log().includes(`as ${PK}.${DN}|securemode=2,signmethod=hmacsha256,timestamp=${AT}| (p2, c1, k60, u'${DN}&${PK}')`), broker.log());

    const live: UplinkFrame = { kind: 'reading', historical: false, records: [reading('GT-001', 1), reading('GT-002', 1, { humi: null, ppm: 12.5 }), reading('GT-001', 2)] };
    const backfill: UplinkFrame = { kind: 'aggregate', historical: true, records: [aggregate('GT-001', 1), aggregate('GT-001', 2)] };
    const bytes = await transport.send(live);
    await transport.send(backfill);
    await transport.send({ kind: 'alarm', historical: false, records: [alarm(1)] });
    await transport.send({ kind: 'device', historical: false, records: [deviceEvent(1)] });
    await transport.send({ kind: 'gap', historical: true, records: [gap(1)] });
    await waitUntil(() => received.length >= 6, 3000, 'six Alink messages');

    const pack = bodiesOn(`/sys/${PK}/${DN}/thing/event/property/pack/post`);
    assert.equal(pack.length, 2, 'GT-001 twice: two messages');
    assert.ok(bytes > pack.reduce((sum, body) => sum + body.length, 0));
    const first = JSON.parse(pack[0]);
    assert.equal(first.method, 'thing.event.property.pack.post');
    assert.equal(first.version, '1.0');
    assert.deepEqual(first.sys, { ack: 0 });
    assert.match(first.id, /^\d{1,10}$/);
    assert.deepEqual(first.params.subDevices.map((s: { identity: unknown }) => s.identity), [
      { productKey: SUB_PK, deviceName: 'GT-001' },
      { productKey: SUB_PK, deviceName: 'GT-002' },
    ]);
    const ts = reading('GT-001', 1).ts;
    assert.deepEqual(first.params.subDevices[0].properties, {
      ppm: { value: 25, time: ts }, temp: { value: 21.5, time: ts }, humi: { value: 40, time: ts },
      bat: { value: 90, time: ts }, rssi: { value: -61, time: ts }, err: { value: 0, time: ts }, overrange: { value: 0, time: ts },
    });
    assert.equal(first.params.subDevices[1].properties.humi, undefined, 'an unknown humidity is left out');
    assert.ok(pack[0].includes(`"ppm":{"value":25.0,"time":${ts}}`), 'a float keeps its decimal point (Alink)');

    const [history] = bodiesOn(`/sys/${PK}/${DN}/thing/event/property/history/post`).map((body) => JSON.parse(body));
    assert.equal(history.method, 'thing.event.property.history.post');
    assert.deepEqual(history.params[0].identity, { productKey: SUB_PK, deviceName: 'GT-001' });
    assert.deepEqual(history.params[0].properties[1], {
      ppm_min: { value: 20, time: T0 + 120_000 }, ppm_max: { value: 31.5, time: T0 + 120_000 }, ppm_avg: { value: 25, time: T0 + 120_000 }, ppm_count: { value: 6, time: T0 + 120_000 },
    });

    const [event] = bodiesOn(`/sys/${PK}/${DN}/thing/event/gasAlarm/post`).map((body) => JSON.parse(body));
    assert.equal(event.method, 'thing.event.gasAlarm.post');
    assert.equal(event.params.time, T0 + 1000);
    assert.deepEqual(event.params.value, {
      event_id: `${BOX}:j1`, historical: 0, clock_unsynced: 0, alarm_id: 41, event: 'raised', at: String(T0 + 1000), sn: 'GT-001',
      source: 'device', type: 'high', level: 1, priority: 'high', state: 'active', value: 52, threshold: 50,
    });
    const [state] = bodiesOn(`/sys/${PK}/${DN}/thing/event/deviceState/post`).map((body) => JSON.parse(body));
    assert.equal(state.params.value.clock_unsynced, 1);
    assert.equal(state.params.value.event, 'offline');
    // A gap from the backlog: an event of the gateway in a history post.
    const gapPost = JSON.parse(bodiesOn(`/sys/${PK}/${DN}/thing/event/property/history/post`)[1]);
    assert.deepEqual(gapPost.params[0].identity, { productKey: PK, deviceName: DN });
    assert.equal(gapPost.params[0].events[0].dataGap.value.reason, 'backlog limit');

    // The test button of the running target answers from its connection: a second one with the same
    // client id would take the session over (Aliyun forces the first device offline).
    const before = (broker.log().match(/New client connected/g) ?? []).length;
    assert.match(await transport.test(), new RegExp(`^OK: signed in to Aliyun IoT at 127\\.0\\.0\\.1:\\d+ as gateway ${DN} of product ${PK} \\(TLS\\) \\(the running connection, up for \\d+ s\\) / 成功：`));
    assert.equal((broker.log().match(/New client connected/g) ?? []).length, before, 'no second connection');
    assert.ok(!text().includes(SECRET) && !text().includes(SIGNED), 'neither the secret nor the signed password is logged');
  } finally {
    await transport.close();
  }
});

test('without TLS the signature says securemode=3; a wrong DeviceSecret is refused in words', async () => {
  const plain = open(aliyunTarget({ host: `127.0.0.1:${broker.plainPort}`, tls: false, ca: '' }));
  const wrong = open(aliyunTarget({ device_secret: 'not-the-device-secret' }));
  try {
    assert.match(await plain.transport.test(), /^OK: .*\(no TLS\)/);
    assert.ok(broker.log().includes(`as ${PK}.${DN}|securemode=3,signmethod=hmacsha256,timestamp=${AT}|`));
    wrong.transport.start();
    const state = await nextState(wrong.transport, (s) => s.lastError !== null, 5000);
    assert.match(state.lastError!, /not authorised .* \/ 服务器拒绝连接：未授权/);
    await assert.rejects(wrong.transport.send({ kind: 'alarm', historical: false, records: [alarm(5)] }), /not authorised/);
  } finally {
    await plain.transport.close();
    await wrong.transport.close();
  }
});

test('cloud commands: the ack and resend service calls become CloudCommands and are answered on _reply', async () => {
  const { transport, lines } = open(aliyunTarget({ cloud_commands: true }));
  const commands: unknown[] = [];
  transport.onCommand((command) => commands.push(command));
  try {
    transport.start();
    await nextState(transport, (state) => state.connected, 5000);
    await broker.waitForLog(new RegExp(`1 /sys/${PK}/${DN}/thing/service/\\+`));
    const service = `/sys/${PK}/${DN}/thing/service`;
    const call = (id: string, name: string, params: unknown) => cloud.publishAsync(`${service}/${name}`, JSON.stringify({ id, version: '1.0', params, method: `thing.service.${name}` }), { qos: 1 });
    await call('1001', 'ack', { alarm_ids: '41,42', by: 'ops-center' });
    await call('1002', 'resend', { from: String(T0), to: String(T0 + 3_600_000), sns: ['GT-001'] });
    await call('1003', 'reboot', {});
    await call('1004', 'ack', { alarm_ids: [41] }); // no "by": not handed over, the cloud hears 460
    await cloud.publishAsync(`${service}/ack`, '{ broken', { qos: 1 });
    await waitUntil(() => bodiesOn(`${service}/ack_reply`).length === 2 && bodiesOn(`${service}/reboot_reply`).length === 1, 3000, 'the replies');
    assert.deepEqual(commands, [
      { cmd: 'ack', alarm_ids: [41, 42], by: 'ops-center', comment: '' },
      { cmd: 'resend', from: T0, to: T0 + 3_600_000, sns: ['GT-001'] },
    ]);
    for (const command of commands) assert.ok(Value.Check(CloudCommandSchema, command), 'the contract shape');
    assert.deepEqual(JSON.parse(bodiesOn(`${service}/ack_reply`)[0]), { id: '1001', code: 200, data: {} });
    assert.deepEqual(JSON.parse(bodiesOn(`${service}/resend_reply`)[0]), { id: '1002', code: 200, data: {} });
    assert.equal(JSON.parse(bodiesOn(`${service}/reboot_reply`)[0]).code, 460);
    const refused = JSON.parse(bodiesOn(`${service}/ack_reply`)[1]);
    assert.equal(refused.id, '1004');
    assert.equal(refused.code, 460);
    assert.match(refused.message, /invalid parameters: .*by/);
    await waitUntil(() => lines.some((line) => line.msg === 'cloud service call is not JSON; ignored'), 2000, 'the warning');
  } finally {
    await transport.close();
  }
});
