// API-6 through the real parts: a simulated detector publishes over MQTT, a real `ws` client on
// /ws/dashboard gets the snapshot, `realtime` within 2 s, `alarm` at once, `history` on
// subscribe; a bad token is closed with 4401. A command sent through the API reaches the device
// on mcs/{sn}/cmd at QoS 1, and an offline device gets 40003.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerMessage } from '../../appliance/contract/live.ts';
import { cmdTopic } from '../../appliance/contract/topics.ts';
import { openDashboard, startApi, type ApiApp } from '../helpers/api.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';

let api: ApiApp;
let password: string;
const SN = 'LIVE-1';

before(async () => {
  api = await startApi();
  const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: SN, high_limit: 1000, name: 'Tank', pos_x: 10, pos_y: 20 } });
  password = created.body.password;
});
after(() => api.stop());

const openSocket = (token: string) => openDashboard(api, token);

test('a reading reaches the kiosk as realtime within 2 s, an alarm at once, and subscribe answers the last hour', async () => {
  const kiosk = openSocket(api.tokens.viewer);
  await eventually(() => kiosk.of('snapshot').length === 1, 3000, 'snapshot');
  const [snapshot] = kiosk.of('snapshot');
  assert.deepEqual(snapshot.data.devices.map((d) => [d.sn, d.name, d.pos_x, d.pos_y, d.status]), [[SN, 'Tank', 10, 20, 'offline']]);

  const device = await connectDevice(api.url, SN, password);
  const second = Math.floor(api.clock.now() / 1000);
  const sentAt = Date.now();
  await publishReading(device, SN, { seq: 1, ts: second, v_raw: 500 });
  await eventually(() => kiosk.of('realtime').some((m) => m.data.some((d) => d.sn === SN && d.ppm === 500)), 2000, 'realtime within 2 s');
  const realtime = kiosk.of('realtime').find((m) => m.data.some((d) => d.ppm === 500))!;
  assert.equal(realtime.data[0].status, 'ok');
  assert.equal(realtime.counts.online, 1);
  assert.ok(Date.now() - sentAt < 2000);
  await eventually(() => kiosk.of('device_status').some((m) => m.data.some((d) => d.sn === SN && d.status === 'online')), 1000, 'device_status online');

  const alarmSentAt = Date.now();
  await publishReading(device, SN, { seq: 2, ts: second + 1, v_raw: 1500 });
  await eventually(() => kiosk.of('alarm').some((m) => m.data.type === 'HIGH'), 2000, 'alarm');
  assert.ok(Date.now() - alarmSentAt < 500, 'the alarm does not wait for the realtime batch');
  const alarm = kiosk.of('alarm').find((m) => m.data.type === 'HIGH')!;
  assert.equal(alarm.kind, 'raised');
  assert.equal(alarm.data.sn, SN);
  await eventually(() => kiosk.of('realtime').some((m) => m.data.some((d) => d.sn === SN && d.status === 'alarm')), 2000, 'red marker');

  api.clock.advance(5000); // the readings' seconds are now in the past of the hand-driven clock
  kiosk.socket.send(JSON.stringify({ type: 'subscribe', sn: SN }));
  kiosk.socket.send(JSON.stringify({ type: 'ping' }));
  kiosk.socket.send('{nonsense');
  await eventually(() => kiosk.of('history').length === 1 && kiosk.of('pong').length === 1 && kiosk.of('error').length === 1, 2000, 'answers');
  const [history] = kiosk.of('history');
  assert.equal(history.sn, SN);
  assert.equal(history.points.reduce((max, p) => Math.max(max, p.max), 0), 1500);
  kiosk.socket.close();
  await device.endAsync();
});

test('a missing, bad or revoked token is closed with 4401', async () => {
  for (const token of ['', 'not-a-jwt']) {
    const { closed } = openSocket(token);
    assert.equal((await closed).code, 4401);
  }
});

test('a command through the API arrives on mcs/{sn}/cmd at QoS 1; an offline device gets 40003', async () => {
  const device = await connectDevice(api.url, SN, password, { clean: true });
  const received: { topic: string; qos: number; payload: unknown }[] = [];
  device.on('message', (topic, payload, packet) => received.push({ topic, qos: packet.qos, payload: JSON.parse(String(payload)) }));
  await device.subscribeAsync(cmdTopic(SN), { qos: 1 });
  const sent = await api.call('POST', `/api/devices/${SN}/command`, { token: api.tokens.operator, body: { cmd: 'debug', duration: 600 } });
  assert.equal(sent.status, 200, sent.text);
  await eventually(() => received.length === 1, 2000, 'command');
  assert.deepEqual(received[0], { topic: cmdTopic(SN), qos: 1, payload: { cmd: 'debug', duration: 600 } });
  const tooLong = await api.call('POST', `/api/devices/${SN}/command`, { token: api.tokens.operator, body: { cmd: 'debug', duration: 601 } });
  assert.equal(tooLong.status, 400);
  assert.equal(tooLong.body.code, 40004);
  await device.endAsync();
  await eventually(() => !api.app.testApi.isConnected(SN), 2000, 'disconnect');
  const offline = await api.call('POST', `/api/devices/${SN}/command`, { token: api.tokens.operator, body: { cmd: 'reboot', delay: 5 } });
  assert.equal(offline.status, 409);
  assert.equal(offline.body.code, 40003);
  const audit = await api.call('GET', `/api/system/logs?action=device.command&target=${SN}`, { token: api.tokens.admin });
  assert.deepEqual(audit.body.data.map((e: { after: unknown }) => e.after), [{ cmd: 'debug', duration: 600 }]);
});
