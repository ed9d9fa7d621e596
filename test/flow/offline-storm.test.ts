// Issue 15.4 through the real parts: 500 detectors on real MQTT connections drop at once (an area
// losing its cell) → 500 OFFLINE records, each with its journal, and exactly one grouped notice per
// enabled channel — a real SMTP server and a real webhook receiver; a single detector going offline
// afterwards still gets its own one-detector message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlarmNotice } from '../../appliance/notify/message.ts';
import { eventually } from '../helpers/appliance.ts';
import { startStormGround, unfoldQuotedPrintable } from './storm-support.ts';

const FLEET = 500;

test('500 detectors dropping at once: 500 OFFLINE records and one grouped notice per channel; then one detector alone gets its own message', { timeout: 180_000 }, async () => {
  // The fleet and one more detector, for the lone drop at the end; the returns are not what this test is about.
  const ground = await startStormGround({ prefix: 'STORM', secret: 'storm-factory-secret', detectors: FLEET + 1, notifyCleared: false });
  const { app, smtp, receiver, sn } = ground;
  try {
    const { testApi } = app.app;
    // The fleet connects and reports (online), 50 at a time.
    const clients = await ground.connectAndReport(1, FLEET, 1);
    await eventually(() => testApi.presenceCounts().online === FLEET, 20_000, 'the fleet online');

    // The cell goes: every connection drops at once, without a goodbye.
    for (const client of clients) client.stream.destroy();
    const offline = () => testApi.alarmRecords({ type: 'OFFLINE', limit: 1000 }).total;
    await eventually(() => offline() === FLEET, 30_000, '500 OFFLINE records');
    await testApi.flush();
    assert.equal(testApi.outboxBacklog(), FLEET * 2, 'one outbox row per alarm and enabled channel');

    await testApi.deliverDueNotifications();
    assert.deepEqual([smtp.mails.length, receiver.received.length], [0, 0], 'held while the storm gathers');

    app.clock.advance(10_000); // the hold
    await testApi.deliverDueNotifications();
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a straggler would come with the next poll
    await testApi.deliverDueNotifications();
    assert.equal(smtp.mails.length, 1, 'exactly one e-mail');
    assert.equal(receiver.received.length, 1, 'exactly one webhook call');
    assert.equal(testApi.outboxBacklog(), 0, 'every row settled by the two deliveries');

    const mail = unfoldQuotedPrintable(smtp.mails[0].raw);
    assert.match(mail, /Subject: \[ALARM\] \[medium\] Device offline - 500 detectors/);
    for (const i of [1, 250, 500]) assert.match(mail, new RegExp(`- Detector ${i} \\(${sn(i)}\\), Zone ${1 + (i % 4)}`));
    const hook = JSON.parse(receiver.received[0].body) as { notice: AlarmNotice; title: string };
    assert.equal(hook.title, '[ALARM] [medium] Device offline - 500 detectors');
    assert.equal(hook.notice.type, 'OFFLINE');
    assert.deepEqual(new Set(hook.notice.group!.map((d) => d.sn)), new Set(Array.from({ length: FLEET }, (_, k) => sn(k + 1))));

    // The records and journals stay per detector; each carries both channels' one result.
    const records = testApi.alarmRecords({ type: 'OFFLINE', limit: 1000 }).items;
    assert.equal(new Set(records.map((r) => r.sn)).size, FLEET);
    for (const record of records) {
      const notifications = testApi.alarmJournal(record.id).filter((j) => j.kind === 'notification');
      const sent = notifications.filter((j) => j.detail !== 'raised: queued');
      assert.equal(notifications.length - sent.length, 2, `queued for both channels: ${record.sn}`);
      assert.deepEqual(sent.map((j) => j.actor).sort(), ['email', 'webhook'], `journal of ${record.sn}`);
      assert.ok(sent.every((j) => /^raised \(one grouped notice for 500 offline detectors\): sent/.test(j.detail ?? '')), `journal of ${record.sn}`);
    }

    // Ten minutes on, one detector drops alone: its normal one-detector message.
    app.clock.advance(10 * 60_000);
    const lone = sn(FLEET + 1);
    const [client] = await ground.connectAndReport(FLEET + 1, FLEET + 1, 1);
    await eventually(() => testApi.isOnline(lone), 5000, 'the lone detector online');
    client.stream.destroy();
    await eventually(() => testApi.alarmRecords({ sn: lone, type: 'OFFLINE' }).total === 1, 5000, 'its OFFLINE record');
    await testApi.flush();
    app.clock.advance(10_000);
    await testApi.deliverDueNotifications();
    assert.deepEqual([smtp.mails.length, receiver.received.length], [2, 2]);
    assert.match(unfoldQuotedPrintable(smtp.mails[1].raw), new RegExp(`Subject: \\[ALARM\\] \\[medium\\] Device offline - Detector ${FLEET + 1} \\(${lone}\\)`));
    const single = JSON.parse(receiver.received[1].body) as { notice: AlarmNotice };
    assert.equal(single.notice.sn, lone);
    assert.equal(single.notice.group, undefined);
  } finally {
    await ground.stop();
  }
});
