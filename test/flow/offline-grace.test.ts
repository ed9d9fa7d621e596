// Issue 15.4 through the real parts (broker, MQTT clients, SQLite, alarm engine, outbox, SMTP): a
// detector that leaves and is back within `ingest.offline_grace_s` raises nothing; one still away
// when the grace ends raises one OFFLINE, committed by the writer and mailed; a `reboot` command
// sent through the API gives that detector `ingest.reboot_grace_s`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { cmdTopic, statusTopic } from '../../appliance/contract/topics.ts';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const GRACE_S = 60; // the defaults, not set here on purpose
const REBOOT_GRACE_S = 180;

interface Plant {
  app: ApiApp;
  smtp: TestSmtp;
  /** Every device status transition on the bus, as `sn:status:reason`. */
  transitions: string[];
  /** A registered detector, connected with its Last Will, that has sent one reading. */
  detector(sn: string): Promise<{ client: MqttClient; reconnect(): Promise<MqttClient> }>;
  /** Moves the appliance's clock and runs the presence sweep (as its 5 s timer does), then commits. */
  advance(ms: number): Promise<void>;
  offlineAlarms(sn: string): { state: string }[];
}

/** OFFLINE is mailed even outside the schedule, so a raised OFFLINE shows as a mail. */
async function withPlant(body: (plant: Plant) => Promise<void>) {
  const app = await startApi({ mqtt: { port: 0, host: '127.0.0.1' }, site: { language: 'en' } });
  const smtp = await startSmtp();
  const transitions: string[] = [];
  const off = app.app.bus.on('device_status', (e) => transitions.push(`${e.sn}:${e.status}:${e.reason}`));
  const clients: MqttClient[] = [];
  const { testApi } = app.app;
  testApi.saveAlarmSettings({
    schedule: { notify_cleared: false, days: [], always_notify: ['OFFLINE'] },
    channels: { email: { enabled: true, settings: { host: '127.0.0.1', port: smtp.port, from: 'alarm@plant.example', recipients: ['safety@plant.example'] } } },
  });
  let seq = 0;
  const plant: Plant = {
    app, smtp, transitions,
    async detector(sn) {
      const { password } = await testApi.addDevice({ sn, high_limit: 1000 });
      const open = async () => {
        const client = await connectDevice(app.url, sn, password!, {
          will: { topic: statusTopic(sn), payload: Buffer.from(JSON.stringify({ status: 'offline', ts: 1 })), qos: 1, retain: true },
        });
        clients.push(client);
        await publishReading(client, sn, { seq: ++seq, ts: Math.floor(app.clock.now() / 1000) });
        return client;
      };
      return { client: await open(), reconnect: open };
    },
    async advance(ms) {
      app.clock.advance(ms);
      testApi.sweepOffline();
      await testApi.flush();
    },
    offlineAlarms: (sn) => testApi.alarmRecords({ sn, type: 'OFFLINE' }).items,
  };
  try {
    await body(plant);
  } finally {
    off();
    for (const client of clients) client.end(true);
    await app.stop();
    await smtp.close();
  }
}

/** The 4G link drops: no DISCONNECT, so the broker publishes the Last Will. */
function dropLink(client: MqttClient) {
  (client as unknown as { stream: { destroy(): void } }).stream.destroy();
}

test('a detector that disconnects cleanly, then loses its link, and is back within the grace each time raises no OFFLINE and sends nothing', async () => {
  await withPlant(async ({ app, smtp, transitions, detector, advance, offlineAlarms }) => {
    const { testApi } = app.app;
    const sn = 'GRACE-1';
    const device = await detector(sn);

    await device.client.endAsync(); // a clean reboot: DISCONNECT, no Will
    await eventually(() => testApi.awayUntil(sn) !== null, 3000, 'the departure');
    await advance((GRACE_S - 1) * 1000);
    const back = await device.reconnect();
    assert.equal(testApi.awayUntil(sn), null, 'back within the grace');

    dropLink(back); // the link drops: its Last Will
    await eventually(() => testApi.awayUntil(sn) !== null, 3000, 'the Last Will');
    await advance((GRACE_S - 1) * 1000);
    await device.reconnect();
    await advance(60_000); // past where the grace would have ended, and past any OFFLINE storm hold
    await testApi.flush();

    assert.deepEqual(transitions, [`${sn}:online:reading`], 'online throughout');
    assert.deepEqual(offlineAlarms(sn), [], 'no OFFLINE record');
    assert.equal(testApi.storedDevice(sn)!.status, 'online');
    // The same appliance does mail an OFFLINE (the next test); give a wrong one the time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(smtp.mails.length, 0, 'no notification');
  });
});

test('a detector still away when the grace ends raises one OFFLINE through the writer, mailed, cleared when it returns', async () => {
  await withPlant(async ({ app, smtp, transitions, detector, advance, offlineAlarms }) => {
    const { testApi } = app.app;
    const sn = 'GRACE-2';
    const device = await detector(sn);
    dropLink(device.client);
    await eventually(() => testApi.awayUntil(sn) !== null, 3000, 'the Last Will');
    await advance((GRACE_S - 1) * 1000);
    assert.deepEqual(offlineAlarms(sn), [], 'nothing yet within the grace');

    await advance(1_000);
    assert.deepEqual(transitions, [`${sn}:online:reading`, `${sn}:offline:will`]);
    assert.deepEqual(offlineAlarms(sn).map((a) => a.state), ['active']);
    assert.equal(testApi.storedDevice(sn)!.status, 'offline', 'status and alarm committed together');

    await advance(60_000); // past the OFFLINE storm hold (a lone OFFLINE notice waits for company first)
    assert.equal(offlineAlarms(sn).length, 1, 'one record, not one per sweep');
    await eventually(() => smtp.mails.length === 1, 5000, 'the OFFLINE mail');
    assert.match(smtp.mails[0].raw, /GRACE-2/);
    await device.reconnect();
    await testApi.flush();
    assert.deepEqual(offlineAlarms(sn).map((a) => a.state), ['cleared']);
  });
});

test('a reboot command through the API lets the detector stay away for the reboot grace, then OFFLINE applies again', async () => {
  await withPlant(async ({ app, detector, advance, offlineAlarms }) => {
    const { testApi } = app.app;
    const sn = 'GRACE-3';
    const device = await detector(sn);
    const commands: unknown[] = [];
    device.client.on('message', (_topic, payload) => commands.push(JSON.parse(String(payload))));
    await device.client.subscribeAsync(cmdTopic(sn), { qos: 1 });
    const sent = await app.call('POST', `/api/devices/${sn}/command`, { token: app.tokens.operator, body: { cmd: 'reboot', delay: 0 } });
    assert.equal(sent.status, 200, sent.text);
    await eventually(() => commands.length === 1, 3000, 'the reboot command');

    await device.client.endAsync(); // the detector reboots
    await eventually(() => testApi.awayUntil(sn) !== null, 3000, 'the departure');
    await advance((REBOOT_GRACE_S - 10) * 1000); // long past the ordinary grace
    assert.deepEqual(offlineAlarms(sn), [], 'no OFFLINE within the reboot grace');
    const back = await device.reconnect();

    // The reboot grace was for that reboot: the next loss has the ordinary grace.
    dropLink(back);
    await eventually(() => testApi.awayUntil(sn) !== null, 3000, 'the Last Will');
    await advance(GRACE_S * 1000);
    assert.deepEqual(offlineAlarms(sn).map((a) => a.state), ['active']);
  });
});
