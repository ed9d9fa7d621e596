// Issue 15.4 through the real parts, the other half of a storm: 500 detectors on real MQTT
// connections drop at once, then come back at once (the cell is back) → 500 OFFLINE records
// cleared, each with its journal, and exactly one grouped "back online" notice per enabled channel
// (a real SMTP server and a real webhook receiver) — not 500 "cleared" messages. One detector that
// stayed away and comes back alone later still gets its own one-detector clearing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlarmNotice } from '../../appliance/notify/message.ts';
import { eventually } from '../helpers/appliance.ts';
import { startStormGround, unfoldQuotedPrintable } from './storm-support.ts';

const FLEET = 500;

test('500 detectors back online at once after an offline storm: one grouped "back online" notice per channel; a late one alone gets its own', { timeout: 240_000 }, async () => {
  const ground = await startStormGround({ prefix: 'BACK', secret: 'storm-returns-secret', detectors: FLEET, notifyCleared: true });
  const { app, smtp, receiver, sn, connectAndReport } = ground;
  try {
    const { testApi } = app.app;
    const deliverAll = async () => {
      await testApi.deliverDueNotifications();
      await new Promise((resolve) => setTimeout(resolve, 1000)); // a straggler would come with the next poll
      await testApi.deliverDueNotifications();
    };

    const fleet = await connectAndReport(1, FLEET, 1);
    await eventually(() => testApi.presenceCounts().online === FLEET, 20_000, 'the fleet online');

    // The storm: every connection drops at once; its grouped OFFLINE notices go out after the hold.
    for (const client of fleet) client.stream.destroy();
    await eventually(() => testApi.activeAlarms().filter((a) => a.type === 'OFFLINE').length === FLEET, 30_000, '500 OFFLINE alarms');
    await testApi.flush();
    app.clock.advance(10_000);
    await deliverAll();
    assert.deepEqual([smtp.mails.length, receiver.received.length], [1, 1], 'the storm itself: one notice per channel');

    // Two minutes on, the cell is back: all but the last detector reconnect and report at once.
    app.clock.advance(2 * 60_000);
    await connectAndReport(1, FLEET - 1, 2);
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
    await connectAndReport(FLEET, FLEET, 2);
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
    await ground.stop();
  }
});
