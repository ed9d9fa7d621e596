// Issue 15.1 through the real parts: the real broker and an MQTT client publishing a bump-test
// ramp, SQLite, the writer thread, the outbox and a real SMTP server. Under a mask the bump test is
// recorded and journaled as masked and nobody is mailed; after the mask expired (injected clock)
// the same gas is mailed as ever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectDevice, eventually, publishReading, startApp } from '../helpers/appliance.ts';
import { startSmtp } from '../helpers/smtp.ts';

const MINUTE = 60_000;

/**
 * The appliance, a real SMTP server it mails every HIGH alarm to (no quiet days, returns not
 * mailed), and one detector registered and connected over MQTT; `stop` ends all three.
 */
async function startWithMailedDetector(device: { sn: string; name: string; high_limit: number; high2_limit?: number }) {
  const app = await startApp({ mqtt: { port: 0, host: '127.0.0.1' }, site: { timezone: 'UTC', language: 'en' } });
  const smtp = await startSmtp();
  const stopServers = async () => {
    await app.stop();
    await smtp.close();
  };
  try {
    app.app.testApi.saveAlarmSettings({
      schedule: { notify_cleared: false, days: [], always_notify: ['HIGH'] },
      channels: { email: { enabled: true, settings: { host: '127.0.0.1', port: smtp.port, from: 'alarm@plant.example', recipients: ['safety@plant.example'] } } },
    });
    const { password } = await app.app.testApi.addDevice(device);
    const client = await connectDevice(app.url, device.sn, password!);
    const stop = async () => {
      try {
        await client.endAsync();
      } finally {
        await stopServers();
      }
    };
    return { app, smtp, client, stop };
  } catch (err) {
    await stopServers();
    throw err;
  }
}

test('a bump test under a mask gives journal entries and no e-mail; the same gas after the mask expired is mailed', async () => {
  const { app, smtp, client, stop } = await startWithMailedDetector({ sn: 'BUMP-1', name: 'Compressor', high_limit: 1000, high2_limit: 2000 });
  try {
    const { testApi } = app.app;
    const [mask] = await testApi.maskDevices(['BUMP-1'], 20, 'bump test', 'operator');
    assert.equal(mask.until, app.clock.now() + 20 * MINUTE);
    let seq = 0;
    const publish = async (vRaw: number) => {
      app.clock.advance(10_000);
      await publishReading(client, 'BUMP-1', { seq: ++seq, ts: Math.floor(app.clock.now() / 1000), v_raw: vRaw });
    };
    // The bump test: test gas up through both levels and back down (a PUBACK means it is all stored).
    for (const vRaw of [100, 800, 1500, 2500, 1800, 600, 100]) await publish(vRaw);
    const [bump] = testApi.alarmRecords({ sn: 'BUMP-1', type: 'HIGH' }).items;
    assert.equal(bump.state, 'cleared');
    const journal = testApi.alarmJournal(bump.id);
    assert.ok(journal.filter((e) => e.kind === 'masked').length >= 3, 'raise, level and clear journaled as masked');
    assert.equal(journal.filter((e) => e.kind === 'notification').length, 0);
    assert.equal(testApi.outboxBacklog(), 0, 'no outbox rows');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(smtp.mails.length, 0, 'no e-mail for the bump test');

    // The mask expires (the injected clock); the writer judges it by the reading's time, and the
    // expiry ends it.
    app.clock.advance(20 * MINUTE);
    await testApi.expireMasks();
    assert.deepEqual(testApi.openMasks(), []);
    // A real leak afterwards (past the debounce window) is mailed as ever.
    app.clock.advance(10 * MINUTE);
    await publish(1500);
    await eventually(() => smtp.mails.length === 1, 5000, 'the e-mail of the leak after the mask');
    assert.match(smtp.mails[0].raw, /Compressor/);
  } finally {
    await stop();
  }
});

test('a mask that ends by hand while the detector is in alarm: the alarm is mailed then', async () => {
  const { app, smtp, client, stop } = await startWithMailedDetector({ sn: 'BUMP-2', name: 'Pump house', high_limit: 1000 });
  try {
    const { testApi } = app.app;
    await testApi.maskDevices(['BUMP-2'], undefined, 'maintenance', 'operator');
    app.clock.advance(10_000);
    await publishReading(client, 'BUMP-2', { seq: 1, ts: Math.floor(app.clock.now() / 1000), v_raw: 1500 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(smtp.mails.length, 0);
    const [ended] = await testApi.unmaskDevices(['BUMP-2'], 'operator');
    assert.equal(ended.sn, 'BUMP-2');
    await eventually(() => smtp.mails.length === 1, 5000, 'the e-mail at the unmask');
    const [alarm] = testApi.alarmRecords({ sn: 'BUMP-2', type: 'HIGH' }).items;
    const entries = testApi.alarmJournal(alarm.id);
    const unmasked = entries.findIndex((e) => e.kind === 'unmasked');
    assert.ok(unmasked > entries.findIndex((e) => e.kind === 'masked'), 'masked, then unmasked');
    assert.match(entries[unmasked + 1].detail ?? '', /^raised: queued \(mask unmasked\)$/, 'queued in the unmasking transaction');
  } finally {
    await stop();
  }
});
