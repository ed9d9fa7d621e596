// ALM-3…ALM-6 through the real parts: a leak from the simulator, the real broker and SQLite, the
// alarm engine, the outbox, a real SMTP server and a local DingTalk robot that checks signatures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../appliance/app.ts';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { createDetector } from '../../simulator/detector.ts';
import { createManualClock } from '../../simulator/clock.ts';
import { createRng } from '../../simulator/rng.ts';
import { leak } from '../../simulator/scenarios.ts';
import { connectDevice, eventually, publishReading, startApp, testConfig, type RunningApp } from '../helpers/appliance.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const SECRET = 'notify-factory-secret';
const DINGTALK_SECRET = 'SECdingtalk-test-secret';

interface Robot {
  url: string;
  requests: { body: { msgtype: string; markdown?: { title: string; text: string } }; signatureOk: boolean }[];
  hang: boolean;
  close(): Promise<void>;
}

/** A DingTalk robot: checks `sign` = base64 HMAC-SHA256(secret, `${timestamp}\n${secret}`). */
async function startDingTalkRobot(): Promise<Robot> {
  const robot: Robot = { url: '', requests: [], hang: false, close: async () => {} };
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const timestamp = url.searchParams.get('timestamp') ?? '';
      const expected = createHmac('sha256', DINGTALK_SECRET).update(`${timestamp}\n${DINGTALK_SECRET}`).digest('base64');
      robot.requests.push({ body: JSON.parse(body), signatureOk: url.searchParams.get('sign') === expected });
      if (robot.hang) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errcode: 0, errmsg: 'ok' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  robot.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/robot/send?access_token=t0ken`;
  robot.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return robot;
}

/** By default only HIGH is sent (a schedule never open, HIGH always-notify): devices going offline
 *  when a test disconnects them raise OFFLINE alarms that would otherwise be mailed too. */
function channelSettings(smtp: TestSmtp, robot: Robot, schedule: Record<string, unknown> = {}) {
  return {
    schedule: { notify_cleared: false, days: [], always_notify: ['HIGH'], ...schedule },
    channels: {
      email: { enabled: true, settings: { host: '127.0.0.1', port: smtp.port, from: 'alarm@plant.example', recipients: ['safety@plant.example'] } },
      dingtalk: { enabled: true, settings: { url: robot.url, secret: DINGTALK_SECRET } },
    },
  };
}

async function withPlant(body: (t: { app: RunningApp; smtp: TestSmtp; robot: Robot }) => Promise<void>) {
  const app = await startApp({ mqtt: { port: 0, host: '127.0.0.1', factory_secret: SECRET }, site: { timezone: 'Asia/Shanghai', language: 'en' } });
  const smtp = await startSmtp();
  const robot = await startDingTalkRobot();
  try {
    await body({ app, smtp, robot });
  } finally {
    await app.stop();
    await smtp.close();
    await robot.close();
  }
}

test("the simulator's leak is one HIGH record, one e-mail and one signed DingTalk message; a second excursion within the debounce only counts", async () => {
  await withPlant(async ({ app, smtp, robot }) => {
    const { testApi } = app.app;
    testApi.saveAlarmSettings(channelSettings(smtp, robot));
    await testApi.addDevice({ sn: 'LEAK-7', name: 'Boiler room', location: 'Hall 2', high_limit: 1000, credentials: 'factory' });
    const clock = createManualClock(app.clock.now());
    const detector = createDetector({
      sn: 'LEAK-7', url: app.url, password: derivedDevicePassword('LEAK-7', SECRET), intervalMs: 10_000, clock, rng: createRng(5),
      scenario: leak({ highLimit: 1000, startS: 20, rampS: 30, holdS: 20 }),
    });
    await detector.start();
    try {
      for (let i = 0; i <= 12; i++) {
        clock.advance(i === 0 ? 0 : 10_000);
        app.clock.advance(i === 0 ? 0 : 10_000);
        await eventually(() => detector.stats().acked === i + 1, 3000, `reading ${i}`);
      }
      await eventually(() => smtp.mails.length === 1 && robot.requests.length === 1, 5000, 'the notifications');
      const high = testApi.alarmRecords({ sn: 'LEAK-7', type: 'HIGH' }).items;
      assert.equal(high.length, 1);
      assert.equal(high[0].state, 'cleared', 'cleared once the ramp went back below the deadband');
      assert.ok(high[0].peak! >= 1400);
      assert.match(smtp.mails[0].raw, /Boiler room/);
      assert.deepEqual(smtp.mails[0].to, ['safety@plant.example']);
      assert.equal(robot.requests[0].signatureOk, true, 'DingTalk signature verifies');
      assert.match(robot.requests[0].body.markdown!.text, /Hall 2/);
    } finally {
      await detector.stop();
    }
    // A second excursion five minutes later, within the 10-minute debounce.
    app.clock.advance(5 * 60_000);
    const client = await connectDevice(app.url, 'LEAK-7', derivedDevicePassword('LEAK-7', SECRET));
    await publishReading(client, 'LEAK-7', { seq: 100, ts: Math.floor(app.clock.now() / 1000), v_raw: 1800 });
    await client.endAsync();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = testApi.alarmRecords({ sn: 'LEAK-7', type: 'HIGH' }).items;
    assert.deepEqual([again.length, again[0].state, again[0].repeat_count], [1, 'active', 1]);
    assert.equal(smtp.mails.length, 1, 'no second e-mail');
    assert.equal(robot.requests.length, 1, 'no second DingTalk message');
  });
});

test('outside the schedule an alarm is recorded, not sent; HIGH marked always-notify is sent', async () => {
  await withPlant(async ({ app, smtp, robot }) => {
    const { testApi } = app.app;
    // A schedule that is never open: no weekday at all.
    testApi.saveAlarmSettings(channelSettings(smtp, robot, { always_notify: [] }));
    const { password } = await testApi.addDevice({ sn: 'SCHED-1', high_limit: 1000 });
    const client = await connectDevice(app.url, 'SCHED-1', password!);
    await publishReading(client, 'SCHED-1', { seq: 1, ts: Math.floor(app.clock.now() / 1000), v_raw: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(testApi.alarmRecords({ sn: 'SCHED-1', type: 'HIGH' }).total, 1, 'recorded');
    assert.equal(testApi.outboxBacklog() + smtp.mails.length, 0, 'not sent');

    testApi.saveAlarmSettings(channelSettings(smtp, robot));
    await publishReading(client, 'SCHED-1', { seq: 2, ts: Math.floor(app.clock.now() / 1000), v_raw: 100 }); // clears
    app.clock.advance(11 * 60_000); // past the debounce: a new alarm
    await publishReading(client, 'SCHED-1', { seq: 3, ts: Math.floor(app.clock.now() / 1000), v_raw: 5000 });
    await client.endAsync();
    await eventually(() => smtp.mails.length === 1, 5000, 'the always-notify e-mail');
  });
});

test('with the SMTP server down, the e-mail is retried and delivered when it is back; every attempt is recorded; the failing channel is a system alarm meanwhile', async () => {
  await withPlant(async ({ app, smtp, robot }) => {
    const { testApi } = app.app;
    testApi.saveAlarmSettings({ ...channelSettings(smtp, robot), channels: { email: channelSettings(smtp, robot).channels.email } });
    const port = smtp.port;
    await smtp.close();
    const { password } = await testApi.addDevice({ sn: 'DOWN-1', high_limit: 1000 });
    const client = await connectDevice(app.url, 'DOWN-1', password!);
    await publishReading(client, 'DOWN-1', { seq: 1, ts: Math.floor(app.clock.now() / 1000), v_raw: 5000 });
    await client.endAsync();
    const [alarm] = testApi.alarmRecords({ sn: 'DOWN-1', type: 'HIGH' }).items;
    const row = () => testApi.outboxRows(alarm.id)[0];
    const attempts = () => testApi.deliveryAttempts(row()?.id ?? -1);
    await eventually(() => attempts().length === 1, 5000, 'the first attempt');
    assert.equal(row().status, 'pending');
    for (const backoff of [10_000, 20_000]) {
      app.clock.advance(backoff);
      await testApi.deliverDueNotifications();
    }
    const channelAlarm = () => testApi.activeAlarms().find((a) => a.type === 'CHANNEL' && a.source === 'channel:email');
    await testApi.flush(); // the CHANNEL condition is committed with the writer's next batch
    assert.ok(channelAlarm(), 'three failures in a row raise a CHANNEL system alarm');
    const back = await startSmtp(port);
    try {
      app.clock.advance(40_000); // the third backoff
      await testApi.deliverDueNotifications();
      assert.equal(row().status, 'sent');
      assert.deepEqual(attempts().map((a) => a.ok), [0, 0, 0, 1]);
      assert.match(attempts()[0].detail!, /ECONNREFUSED|connect/i);
      assert.equal(back.mails.length, 1);
      await testApi.flush();
      assert.equal(channelAlarm(), undefined, 'and it clears when the channel delivers again');
    } finally {
      await back.close();
    }
  });
});

test('a webhook that never answers does not hold up ingestion', async () => {
  await withPlant(async ({ app, smtp, robot }) => {
    const { testApi } = app.app;
    robot.hang = true;
    testApi.saveAlarmSettings({ ...channelSettings(smtp, robot), channels: { dingtalk: channelSettings(smtp, robot).channels.dingtalk } });
    const clients = [];
    for (let d = 0; d < 10; d++) {
      const { password } = await testApi.addDevice({ sn: `HANG-${d}`, high_limit: 1000 });
      clients.push(await connectDevice(app.url, `HANG-${d}`, password!));
    }
    const ts = Math.floor(app.clock.now() / 1000) - 200;
    // Every device goes into alarm (ten notifications to the hung robot), then keeps reporting.
    await Promise.all(clients.map((c, d) => publishReading(c, `HANG-${d}`, { seq: 0, ts, v_raw: 5000 })));
    await eventually(() => robot.requests.length >= 2, 5000, 'the robot is being called');
    await Promise.all(clients.map(async (c, d) => {
      for (let seq = 1; seq <= 100; seq++) await publishReading(c, `HANG-${d}`, { seq, ts: ts + seq, v_raw: 5000 });
    }));
    for (const c of clients) await c.endAsync();
    assert.equal(testApi.ingestTotals().stored, 10 * 101, 'every reading acknowledged and stored while the webhook hangs');
    assert.equal(testApi.alarmRecords({ type: 'HIGH' }).total, 10);
  });
});

test('after a restart active and acknowledged alarms are as they were and nothing is sent again', async () => {
  const app = await startApp({ site: { timezone: 'UTC', language: 'zh-CN' } });
  const smtp = await startSmtp();
  const robot = await startDingTalkRobot();
  const config = testConfig(app.dataDir, { site: { timezone: 'UTC', language: 'zh-CN' } });
  try {
    app.app.testApi.saveAlarmSettings(channelSettings(smtp, robot));
    const { password } = await app.app.testApi.addDevice({ sn: 'KEEP-1', high_limit: 1000, name: '锅炉房' });
    const client = await connectDevice(app.url, 'KEEP-1', password!);
    await publishReading(client, 'KEEP-1', { seq: 1, ts: Math.floor(app.clock.now() / 1000), v_raw: 5000 });
    await eventually(() => smtp.mails.length === 1 && robot.requests.length === 1, 5000, 'the notifications');
    assert.match(robot.requests[0].body.markdown!.text, /锅炉房/);
    const [alarm] = app.app.testApi.alarmRecords({ type: 'HIGH' }).items;
    await app.app.testApi.acknowledge([alarm.id], 'operator', '已处理');
    const before = app.app.testApi.alarmRecords().items;
    client.end(true);
    await app.app.stop();
    const again = createApp({ config, log: silentLogger() });
    await again.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = again.testApi.alarmRecords().items;
      assert.deepEqual(after, before);
      assert.deepEqual(again.testApi.activeAlarms().map((a) => [a.id, a.ack_by]), [[alarm.id, 'operator']]);
      assert.equal(smtp.mails.length, 1);
      assert.equal(robot.requests.length, 1);
    } finally {
      await again.stop();
    }
  } finally {
    await app.stop().catch(() => {});
    await smtp.close();
    await robot.close();
  }
});

/** Percent-encoding of Aliyun's signature rules (RFC 3986 unreserved kept, upper-case hex). */
const aliyunEncode = (value: string) =>
  [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

test('Aliyun SMS: the gateway checks the request signature; a throttled send is retried and recorded, then delivered', async () => {
  await withPlant(async ({ app, smtp, robot }) => {
    const { testApi } = app.app;
    const verdicts: string[] = [];
    const gateway = createServer((req, res) => {
      const query = (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1);
      const params = new Map(query.split('&').map((pair) => pair.split('=').map(decodeURIComponent) as [string, string]));
      const signature = params.get('Signature');
      params.delete('Signature');
      const canonical = [...params.keys()].sort().map((k) => `${aliyunEncode(k)}=${aliyunEncode(params.get(k)!)}`).join('&');
      const expected = createHmac('sha1', 'sms-secret&').update(`GET&${aliyunEncode('/')}&${aliyunEncode(canonical)}`).digest('base64');
      const ok = signature === expected && params.get('PhoneNumbers') === '13800000000' && params.get('Action') === 'SendSms';
      const answer = !ok ? { Code: 'SignatureDoesNotMatch' } : verdicts.length === 0 ? { Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' } : { Code: 'OK', Message: 'OK' };
      verdicts.push(answer.Code);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/`;
      testApi.saveAlarmSettings({
        ...channelSettings(smtp, robot),
        channels: {
          sms: { enabled: true, settings: {
            access_key_id: 'LTAI-test', access_key_secret: 'sms-secret', sign_name: '元芯传感', template_code: 'SMS_0001',
            phone_numbers: ['13800000000'], endpoint,
          } },
        },
      });
      const { password } = await testApi.addDevice({ sn: 'SMS-1', high_limit: 1000 });
      const client = await connectDevice(app.url, 'SMS-1', password!);
      await publishReading(client, 'SMS-1', { seq: 1, ts: Math.floor(app.clock.now() / 1000), v_raw: 5000 });
      await client.endAsync();
      const [alarm] = testApi.alarmRecords({ sn: 'SMS-1', type: 'HIGH' }).items;
      const row = () => testApi.outboxRows(alarm.id)[0];
      await eventually(() => row() !== undefined && testApi.deliveryAttempts(row().id).length === 1, 5000, 'the first SMS attempt');
      assert.equal(row().status, 'pending');
      assert.match(row().last_error!, /Throttling\.User/);
      app.clock.advance(10_000);
      await testApi.deliverDueNotifications();
      assert.equal(row().status, 'sent');
      assert.deepEqual(verdicts, ['Throttling.User', 'OK'], 'both requests carried a valid signature');
      assert.deepEqual(testApi.deliveryAttempts(row().id).map((a) => a.ok), [0, 1]);
    } finally {
      gateway.closeAllConnections();
      await new Promise((resolve) => gateway.close(resolve));
    }
  });
});

test('a flapping reading sends the raise and its first clearing, and nothing for the repeats', async () => {
  await withPlant(async ({ app, smtp, robot }) => {
    const { testApi } = app.app;
    testApi.saveAlarmSettings({ ...channelSettings(smtp, robot, { notify_cleared: true }), channels: { email: channelSettings(smtp, robot).channels.email } });
    const { password } = await testApi.addDevice({ sn: 'FLAP-1', high_limit: 1000 });
    const client = await connectDevice(app.url, 'FLAP-1', password!);
    const ts = Math.floor(app.clock.now() / 1000) - 100;
    for (const [seq, vRaw] of [1200, 500, 1300, 400, 1250, 300].entries()) {
      await publishReading(client, 'FLAP-1', { seq, ts: ts + seq * 10, v_raw: vRaw });
    }
    await client.endAsync();
    await eventually(() => smtp.mails.length === 2, 5000, 'raise and clearing');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(smtp.mails.length, 2, 'the repeats and their clearings sent nothing');
    const [alarm] = testApi.alarmRecords({ sn: 'FLAP-1', type: 'HIGH' }).items;
    assert.equal(alarm.repeat_count, 2);
  });
});
