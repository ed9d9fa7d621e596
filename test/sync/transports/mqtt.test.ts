// SYNC-4: the MQTT transport against a real Mosquitto (Debian's package) with a password file and
// TLS, a real subscriber (the mqtt client) and a TCP proxy that cuts and freezes the link.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { Value } from '@sinclair/typebox/value';
import {
  MqttTargetSchema,
  UplinkEnvelopeSchema,
  type MqttTarget,
  type UplinkFrame,
  type UplinkTransport,
} from '../../../appliance/contract/uplink.ts';
import { createTransport, type TransportContext } from '../../../appliance/sync/transports/index.ts';
import { frameMessages } from '../../../appliance/sync/transports/mqtt.ts';
import { startMosquitto, type TestMosquitto } from '../../helpers/mosquitto.ts';
import { startTcpProxy } from '../../helpers/tcp-proxy.ts';
import { BOX, alarm, gap, keepLog, nextState, reading, waitUntil } from './support.ts';

const BOX_PASSWORD = 'box-pa55:w/ord';
let broker: TestMosquitto;
let cloud: MqttClient;
const received: Array<{ topic: string; body: string }> = [];

before(async () => {
  broker = await startMosquitto({ users: { box: BOX_PASSWORD, cloud: 'cloud-pass' } });
  cloud = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.tlsPort}`, {
    username: 'cloud', password: 'cloud-pass', ca: broker.pki.ca, protocolVersion: 4, reconnectPeriod: 0, clientId: 'cloud-subscriber',
  });
  await cloud.subscribeAsync(['mcs/#', 'plants/#'], { qos: 1 });
  cloud.on('message', (topic, payload) => received.push({ topic, body: payload.toString('utf8') }));
});

after(async () => {
  await cloud?.endAsync();
  await broker?.stop();
});

function mqttTarget(overrides: Partial<MqttTarget> = {}): MqttTarget {
  const target = Value.Default(MqttTargetSchema, {
    id: 'emqx', kind: 'mqtt', url: `mqtts://127.0.0.1:${broker.tlsPort}`, username: 'box', password: BOX_PASSWORD, ca: broker.pki.ca, keepalive_s: 5, ...overrides,
  }) as MqttTarget;
  assert.ok(Value.Check(MqttTargetSchema, target), 'a valid target');
  return target;
}

function open(target: MqttTarget, context: Partial<TransportContext> = {}) {
  const kept = keepLog();
  const transport = createTransport(target, { boxId: BOX, log: kept.log, backoff: { baseMs: 200, capMs: 1600, random: () => 1 }, ...context });
  return { transport, ...kept };
}

async function connected(transport: UplinkTransport): Promise<void> {
  if (!transport.state().connected) await nextState(transport, (state) => state.connected, 10_000);
}

const messagesOn = (topic: string) => received.filter((message) => message.topic === topic);

test('a frame reaches a real subscriber as the documented envelope; send resolves on the PUBACK with the bytes written', async () => {
  const { transport, text } = open(mqttTarget());
  try {
    transport.start();
    await connected(transport);
    const frame: UplinkFrame = { kind: 'alarm', historical: false, records: [alarm(1), alarm(2, { event: 'cleared', state: 'cleared' })] };
    const bytes = await transport.send(frame);
    await waitUntil(() => messagesOn(`mcs/${BOX}/alarm`).length === 1, 3000, 'the alarm message');
    const [message] = messagesOn(`mcs/${BOX}/alarm`);
    const envelope = JSON.parse(message.body);
    assert.ok(Value.Check(UplinkEnvelopeSchema, envelope), 'the documented payload schema v1');
    assert.deepEqual(envelope, { v: 1, box: BOX, records: frame.records });
    // The PUBLISH packet: header, topic, packet id, payload.
    assert.ok(bytes > Buffer.byteLength(message.body) && bytes < Buffer.byteLength(message.body) + 40, `${bytes} bytes`);
    assert.deepEqual(transport.state(), { connected: true, lastError: null });

    assert.match(await transport.test(), /^OK: connected to mqtts:\/\/127\.0\.0\.1:\d+ as mcs-edge-plant-7\.box-2 \(MQTT 3\.1\.1, TLS\) \(the running connection, up for \d+ s\) \/ 成功：/);
    // A transport made for the test button (the unsaved form) connects once on its own.
    const form = open(mqttTarget());
    assert.match(await form.transport.test(), /^OK: connected to mqtts:\/\/127\.0\.0\.1:\d+ as mcs-edge-plant-7\.box-2 \(MQTT 3\.1\.1, TLS\) in \d+ ms \/ 成功：已以 mcs-edge-plant-7\.box-2 连接到/);
    await form.transport.close();
    assert.ok(!text().includes(BOX_PASSWORD), 'the password is never logged');
  } finally {
    await transport.close();
  }
});

test('a wrong password is refused in words, sends fail at once, and retries back off instead of storming', async () => {
  const { transport, lines } = open(mqttTarget({ password: 'not-the-password' }));
  try {
    transport.start();
    const state = await nextState(transport, (s) => s.lastError !== null, 5000);
    assert.equal(state.connected, false);
    assert.match(state.lastError!, /the broker refused the connection: not authorised \(check the user name, the password and the client id\) \/ 服务器拒绝连接：未授权/);
    await assert.rejects(transport.send({ kind: 'alarm', historical: false, records: [alarm(3)] }), /not authorised/);
    assert.match(await transport.test(), /^Failed: the broker refused the connection: not authorised .* \/ 失败：服务器拒绝连接：未授权/);
    // Waits of 200, 400, 800, 1600 ms: 4-5 refusals in 2.5 s (a fixed 200 ms period would make 12).
    const before = (broker.log().match(/disconnected, not authorised/g) ?? []).length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const attempts = (broker.log().match(/disconnected, not authorised/g) ?? []).length - before;
    assert.ok(attempts >= 2 && attempts <= 4, `${attempts} attempts in 2.5 s`);
    // The same failure is logged once at warn, not once per attempt.
    assert.equal(lines.filter((line) => line.msg === 'cloud link cannot connect').length, 1);
  } finally {
    await transport.close();
  }
});

test('with {sn} in the topic template a frame becomes one message per device (MQTT 5 too)', async () => {
  const { transport } = open(mqttTarget({ protocol_version: 5, topic_template: 'plants/{box}/{sn}/{kind}' }));
  try {
    transport.start();
    await connected(transport);
    const records = [reading('GT-001', 1), reading('GT-002', 1), reading('GT-001', 2)];
    await transport.send({ kind: 'reading', historical: false, records });
    await transport.send({ kind: 'gap', historical: true, records: [gap(1)] });
    await waitUntil(() => received.filter((m) => m.topic.startsWith(`plants/${BOX}/`)).length === 3, 3000, 'three messages');
    assert.deepEqual(JSON.parse(messagesOn(`plants/${BOX}/GT-001/reading`)[0].body).records, [records[0], records[2]]);
    assert.deepEqual(JSON.parse(messagesOn(`plants/${BOX}/GT-002/reading`)[0].body).records, [records[1]]);
    // A record of no one device (a box-wide gap) goes to the '_' level.
    assert.equal(JSON.parse(messagesOn(`plants/${BOX}/_/gap`)[0].body).records[0].id, `${BOX}:g1`);
  } finally {
    await transport.close();
  }
});

test('at most `inflight` publishes are unacknowledged: without PUBACKs the broker gets only that many', async () => {
  const proxy = await startTcpProxy({ port: broker.tlsPort });
  const { transport } = open(mqttTarget({ url: `mqtts://127.0.0.1:${proxy.port}`, inflight: 2, topic_template: 'mcs/{box}/window/{sn}' }));
  try {
    transport.start();
    await connected(transport);
    proxy.freeze('down'); // the broker receives, but its PUBACKs do not come back
    const records = ['A', 'B', 'C', 'D', 'E', 'F'].map((sn) => reading(`W-${sn}`, 1));
    let settled = false;
    const sending = transport.send({ kind: 'reading', historical: false, records }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 700));
    const windowed = () => received.filter((m) => m.topic.startsWith(`mcs/${BOX}/window/`)).length;
    assert.equal(windowed(), 2, 'two publishes in flight, the rest wait for their PUBACKs');
    assert.equal(settled, false, 'the frame is not acknowledged yet');
    proxy.restore();
    const bytes = await sending;
    assert.equal(windowed(), 6);
    assert.ok(bytes > 6 * 300);
  } finally {
    await transport.close();
    await proxy.close();
  }
});

test('a cut link fails the pending send, reconnects with growing jittered waits, then sends again', async (t) => {
  const proxy = await startTcpProxy({ port: broker.tlsPort });
  const { transport } = open(mqttTarget({ url: `mqtts://127.0.0.1:${proxy.port}` }));
  try {
    transport.start();
    await connected(transport);
    proxy.freeze('down');
    const pending = transport.send({ kind: 'alarm', historical: false, records: [alarm(10)] });
    const cutAt = Date.now();
    proxy.cut();
    await assert.rejects(pending, /connection reset by 127\.0\.0\.1:\d+ \/ 连接被 127\.0\.0\.1:\d+ 重置/);
    assert.ok(Date.now() - cutAt < 1000, 'the send fails when the link is declared down, not later');
    assert.equal(transport.state().connected, false);
    await assert.rejects(transport.send({ kind: 'alarm', historical: false, records: [alarm(11)] }), /connection reset/);

    // Attempts while cut, with the jitter pinned to the top of each window: 200, 400, 800, 1600 ms
    // apart (mqtt.js's own reconnect would come every reconnectPeriod, 1 s by default).
    await waitUntil(() => proxy.counters.refused >= 4, 5000, 'four reconnect attempts');
    const attempts = proxy.events.filter((event) => event.what === 'refused').map((event) => event.at);
    const since = attempts.slice(1, 4).map((at) => at - attempts[0]);
    t.diagnostic(`reconnect attempts while cut, after the first: ${since.join(', ')} ms (expected 400, 1200, 2800)`);
    for (const [i, expected] of [400, 1200, 2800].entries()) {
      assert.ok(Math.abs(since[i] - expected) < 250, `attempts at +${since.join(', +')} ms`);
    }
    proxy.restore();
    await nextState(transport, (state) => state.connected, 5000);
    await transport.send({ kind: 'alarm', historical: false, records: [alarm(12)] });
    await waitUntil(() => messagesOn(`mcs/${BOX}/alarm`).some((m) => m.body.includes(`"${BOX}:j12"`)), 3000, 'the alarm after the cut');
  } finally {
    await transport.close();
    await proxy.close();
  }
});

test('a frozen link (no reset) is found by keepalive within 1.5× keepalive, the send fails, and the link recovers', async (t) => {
  const proxy = await startTcpProxy({ port: broker.tlsPort });
  const { transport } = open(mqttTarget({ url: `mqtts://127.0.0.1:${proxy.port}`, keepalive_s: 5 }));
  try {
    transport.start();
    await connected(transport);
    await transport.send({ kind: 'alarm', historical: false, records: [alarm(20)] });
    proxy.freeze();
    const frozenAt = Date.now();
    const pending = transport.send({ kind: 'alarm', historical: false, records: [alarm(21)] });
    await assert.rejects(pending, /froze: no answer within 1\.5× the keepalive \/ .*链路冻结/);
    const detectedIn = Date.now() - frozenAt;
    t.diagnostic(`frozen link found after ${detectedIn} ms (keepalive 5 s)`);
    assert.ok(detectedIn <= 7500 + 500, `found after ${detectedIn} ms (keepalive 5 s)`);
    assert.equal(transport.state().connected, false);
    assert.equal(proxy.counters.reset, 0, 'nothing was reset: only the keepalive could tell');
    proxy.restore();
    await nextState(transport, (state) => state.connected, 8000);
    await transport.send({ kind: 'alarm', historical: false, records: [alarm(22)] });
    await waitUntil(() => messagesOn(`mcs/${BOX}/alarm`).some((m) => m.body.includes(`"${BOX}:j22"`)), 3000, 'the alarm after the freeze');
  } finally {
    await transport.close();
    await proxy.close();
  }
});

test('mutual TLS: a client certificate signed by the CA gets in; without one the test button says TLS failed', async () => {
  const strict = await startMosquitto({ users: { box: BOX_PASSWORD }, requireClientCertificate: true });
  const withCert = open(mqttTarget({ url: `mqtts://127.0.0.1:${strict.tlsPort}`, ca: strict.pki.ca, cert: strict.pki.clientCert, key: strict.pki.clientKey }));
  const without = open(mqttTarget({ url: `mqtts://127.0.0.1:${strict.tlsPort}`, ca: strict.pki.ca }));
  const untrusted = open(mqttTarget({ url: `mqtts://127.0.0.1:${strict.tlsPort}`, ca: '' }));
  try {
    assert.match(await withCert.transport.test(), /^OK: .*\(MQTT 3\.1\.1, TLS, client certificate\)/);
    assert.match(await without.transport.test(), /^Failed: TLS failed: 127\.0\.0\.1:\d+ wants a client certificate/);
    assert.match(await untrusted.transport.test(), /^Failed: TLS failed: the certificate of 127\.0\.0\.1:\d+ is not trusted .* \/ 失败：TLS 失败/);
    assert.ok(!withCert.text().includes('PRIVATE KEY'), 'the key is never logged');
  } finally {
    await Promise.all([withCert.transport.close(), without.transport.close(), untrusted.transport.close()]);
    await strict.stop();
  }
});

test('cloud commands: each JSON message on the command topic reaches the handler; other text is logged and ignored', async () => {
  const { transport, lines } = open(mqttTarget({ cloud_commands: true }));
  const commands: unknown[] = [];
  transport.onCommand((command) => commands.push(command));
  try {
    transport.start();
    await connected(transport);
    await broker.waitForLog(/mcs-edge-plant-7\.box-2 1 mcs\/plant-7\.box-2\/cloud\/cmd/);
    const ack = { cmd: 'ack', alarm_ids: [41], by: 'ops-center', comment: 'seen' };
    await cloud.publishAsync(`mcs/${BOX}/cloud/cmd`, 'this is not JSON', { qos: 1 });
    await cloud.publishAsync(`mcs/${BOX}/cloud/cmd`, JSON.stringify(ack), { qos: 1 });
    await waitUntil(() => commands.length === 1, 3000, 'the command');
    assert.deepEqual(commands, [ack]);
    const warning = lines.find((line) => line.msg === 'cloud command is not JSON; ignored');
    assert.ok(warning && warning.level === 40, 'logged at warn');
    assert.equal(transport.state().connected, true, 'a bad message does not hurt the link');
  } finally {
    await transport.close();
  }
});

test('a large frame is split into envelopes under the size limit, every record once and in order; a wildcard template is refused in words', () => {
  const records = Array.from({ length: 50 }, (_, i) => reading('GT-001', i));
  const messages = frameMessages({ kind: 'reading', historical: false, records }, BOX, 'mcs/{box}/{kind}', 4000);
  assert.ok(messages.length > 1);
  for (const message of messages) {
    assert.ok(message.payload.length <= 4000, `${message.payload.length} bytes`);
    assert.ok(Value.Check(UplinkEnvelopeSchema, JSON.parse(message.payload.toString('utf8'))));
  }
  assert.deepEqual(messages.flatMap((m) => JSON.parse(m.payload.toString('utf8')).records), records);
  assert.throws(() => frameMessages({ kind: 'reading', historical: false, records }, BOX, 'mcs/+/{kind}'), /contains a wildcard \(\+ or #\) \/ 主题模板/);
});
