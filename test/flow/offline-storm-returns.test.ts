// Issue 15.4 through the real parts, the other half of a storm: 500 detectors on real MQTT
// connections drop at once, then come back at once (the cell is back) → 500 OFFLINE records
// cleared, each with its journal, and exactly one grouped "back online" notice per enabled channel
// (a real SMTP server and a real webhook receiver) — not 500 "cleared" messages. One detector that
// stayed away and comes back alone later still gets its own one-detector clearing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import type { AlarmNotice } from '../../appliance/notify/message.ts';
import { connectDevice, eventually, publishReading, startApp, type RunningApp } from '../helpers/appliance.ts';
import { startSmtp } from '../helpers/smtp.ts';
import { startHttpServer } from '../notify/support.ts';

const SECRET = 'storm-returns-secret';
const FLEET = 500;
const sn = (i: number) => `BACK-${String(i).padStart(3, '0')}`;
/** The mail's text as written: quoted-printable soft line breaks removed, `=XX` decoded. */
const unfoldQuotedPrintable = (raw: string) =>
  Buffer.from(raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');

/** Connects detectors first..last (50 at a time) and has each send one reading with `seq`. */
async function connectAndReport(app: RunningApp, first: number, last: number, seq: number): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  const ts = Math.floor(app.clock.now() / 1000);
  for (let start = first; start <= last; start += 50) {
    const sns = Array.from({ length: Math.min(50, last - start + 1) }, (_, k) => sn(start + k));
    const batch = await Promise.all(sns.map((each) => connectDevice(app.url, each, derivedDevicePassword(each, SECRET))));
    await Promise.all(batch.map((client, k) => publishReading(client, sns[k], { seq, ts, v_raw: 100 })));
    clients.push(...batch);
  }
  return clients;
}

test('500 detectors back online at once after an offline storm: one grouped "back online" notice per channel; a late one alone gets its own', { timeout: 240_000 }, async () => {
  const app = await startApp(
    { mqtt: { port: 0, host: '127.0.0.1', factory_secret: SECRET }, ingest: { offline_grace_s: 0 }, site: { timezone: 'Asia/Shanghai', language: 'en' } },
    { devLicenseDevices: FLEET + 10 },
  );
  const smtp = await startSmtp();
  const receiver = await startHttpServer(() => ({ status: 200, json: { ok: true } }));
  const clients: MqttClient[] = [];
  try {
    const { testApi } = app.app;
    testApi.saveAlarmSettings({
      schedule: { notify_cleared: true }, // every day, all day, returns included
      offline_storm: { threshold: 5, window_s: 60, hold_s: 10 },
      channels: {
        email: { enabled: true, settings: { host: '127.0.0.1', port: smtp.port, from: 'alarm@plant.example', recipients: ['safety@plant.example'] } },
        webhook: { enabled: true, settings: { url: `${receiver.url}/alarms` } },
        dingtalk: { enabled: false, settings: { url: `${receiver.url}/never` } },
      },
    });
    for (let i = 1; i <= FLEET; i++) {
      await testApi.addDevice({ sn: sn(i), name: `Detector ${i}`, location: `Zone ${1 + (i % 4)}`, high_limit: 1000, credentials: 'factory' });
    }
    const deliverAll = async () => {
      await testApi.deliverDueNotifications();
      await new Promise((resolve) => setTimeout(resolve, 1000)); // a straggler would come with the next poll
      await testApi.deliverDueNotifications();
    };

    clients.push(...await connectAndReport(app, 1, FLEET, 1));
    await eventually(() => testApi.presenceCounts().online === FLEET, 20_000, 'the fleet online');

    // The storm: every connection drops at once; its grouped OFFLINE notices go out after the hold.
    for (const client of clients.splice(0)) client.stream.destroy();
    await eventually(() => testApi.activeAlarms().filter((a) => a.type === 'OFFLINE').length === FLEET, 30_000, '500 OFFLINE alarms');
    await testApi.flush();
    app.clock.advance(10_000);
    await deliverAll();
    assert.deepEqual([smtp.mails.length, receiver.received.length], [1, 1], 'the storm itself: one notice per channel');

    // Two minutes on, the cell is back: all but the last detector reconnect and report at once.
    app.clock.advance(2 * 60_000);
    clients.push(...await connectAndReport(app, 1, FLEET - 1, 2));
    const stillOffline = () => testApi.activeAlarms().filter((a) => a.type === 'OFFLINE').length;
    await eventually(() => stillOffline() === 1, 30_000, '499 OFFLINE alarms cleared');
    await testApi.flush();
    assert.equal(testApi.outboxBacklog(), (FLEET - 1) * 2, 'one "cleared" outbox row per alarm and enabled channel');

    await deliverAll();
    assert.deepEqual([smtp.mails.length, receiver.received.length], [1, 1], 'the returns are held while they gather');
    app.clock.advance(10_000); // the hold
    await deliverAll();
    assert.equal(smtp.mails.length, 2, 'exactly one more e-mail for 499 returns');
    assert.equal(receiver.received.length, 2, 'exactly one more webhook call for 499 returns');
    assert.equal(testApi.outboxBacklog(), 0, 'every row settled by the two deliveries');

    const mail = unfoldQuotedPrintable(smtp.mails[1].raw);
    assert.match(mail, /Subject: \[CLEARED\] \[medium\] Device offline - 499 detectors/);
    assert.match(mail, /State: cleared/);
    assert.match(mail, /came back online together/);
    for (const i of [1, 250, FLEET - 1]) assert.match(mail, new RegExp(`- Detector ${i} \\(${sn(i)}\\), Zone ${1 + (i % 4)}`));
    assert.doesNotMatch(mail, new RegExp(`\\(${sn(FLEET)}\\)`), 'the one still away is not listed as back');
    const hook = JSON.parse(receiver.received[1].body) as { notice: AlarmNotice; title: string };
    assert.equal(hook.title, '[CLEARED] [medium] Device offline - 499 detectors');
    assert.equal(hook.notice.event, 'cleared');
    assert.deepEqual(new Set(hook.notice.group!.map((d) => d.sn)), new Set(Array.from({ length: FLEET - 1 }, (_, k) => sn(k + 1))));
    const clearedAt = app.clock.now() - 10_000;
    assert.ok(hook.notice.group!.every((d) => Math.abs(d.at - clearedAt) < 60_000), 'each listed at its return, not its departure');

    // Records and journals stay per detector: each cleared alarm carries both channels' one result.
    const cleared = testApi.alarmRecords({ type: 'OFFLINE', limit: 1000 }).items.filter((r) => r.state === 'cleared');
    assert.equal(new Set(cleared.map((r) => r.sn)).size, FLEET - 1);
    for (const record of cleared) {
      const sent = testApi.alarmJournal(record.id).filter((j) => j.kind === 'notification' && j.detail?.startsWith('cleared ('));
      assert.deepEqual(sent.map((j) => j.actor).sort(), ['email', 'webhook'], `journal of ${record.sn}`);
      assert.ok(sent.every((j) => /^cleared \(one grouped notice for 499 detectors back online\): sent/.test(j.detail ?? '')), `journal of ${record.sn}`);
    }

    // Ten minutes on, the last one comes back alone: its usual one-detector clearing.
    app.clock.advance(10 * 60_000);
    clients.push(...await connectAndReport(app, FLEET, FLEET, 2));
    await eventually(() => stillOffline() === 0, 5000, 'the last OFFLINE cleared');
    await testApi.flush();
    app.clock.advance(10_000);
    await deliverAll();
    assert.deepEqual([smtp.mails.length, receiver.received.length], [3, 3]);
    assert.match(unfoldQuotedPrintable(smtp.mails[2].raw), new RegExp(`Subject: \\[CLEARED\\] \\[medium\\] Device offline - Detector ${FLEET} \\(${sn(FLEET)}\\)`));
    const single = JSON.parse(receiver.received[2].body) as { notice: AlarmNotice };
    assert.equal(single.notice.sn, sn(FLEET));
    assert.equal(single.notice.group, undefined);
  } finally {
    for (const client of clients) client.end(true);
    await app.stop();
    await smtp.close();
    await receiver.close();
  }
});
