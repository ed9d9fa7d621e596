// ARC-1..ARC-5 and OPS-2 through the real appliance: detector → broker → SQLite → archive job →
// S3-compatible server (s3rver), with the real alarm engine, scheduler and storage settings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { CSV_HEADER } from '../../appliance/archive/export.ts';
import { connectDevice, publishReading, startApp } from '../helpers/appliance.ts';
import { startS3 } from '../helpers/s3.ts';

const DAY = 86_400_000;

test('the appliance archives a past day to S3 through its jobs; failures raise an ARCHIVE alarm that clears on success', async () => {
  const s3 = await startS3();
  // The failing archive run (no such bucket) is logged as an error on purpose.
  const app = await startApp({ site: { timezone: 'UTC', language: 'en' }, storage: { retention_days: 1 } }, { allowErrors: [/^archive failed/, /^job failed$/] });
  try {
    const { parts } = app.app;
    assert.deepEqual(parts.scheduler.status().map((j) => j.name), [
      'offline-sweep', 'health', 'rollup', 'archive', 'license-check-in', 'maintenance', 'backup', 'calibration-due', 'exposure',
    ]);
    // Readings of two days ago, sent while the clock said so.
    const now = app.clock.now();
    const dayStart = now - (now % DAY) - 2 * DAY;
    app.clock.set(dayStart + 3_600_000);
    const { password } = await parts.devices.add({ sn: 'ARC-1', high_limit: 1000 });
    const client = await connectDevice(app.url, 'ARC-1', password!);
    for (let i = 0; i < 20; i++) {
      await publishReading(client, 'ARC-1', { seq: i, ts: Math.floor(app.clock.now() / 1000), v_raw: 100 + i });
      app.clock.advance(10_000);
    }
    await client.endAsync();
    await parts.writer.flush();
    app.clock.set(now);
    const history = parts.readings.raw('ARC-1', dayStart, dayStart + DAY);
    assert.equal(history.length, 20);

    // ARC-5: not configured → the job runs, nothing is deleted, the status says archiving is off.
    assert.equal((await parts.scheduler.runNow('archive')).ok, true);
    assert.equal(parts.archiver.status().enabled, false);
    assert.equal(parts.readings.raw('ARC-1', dayStart, dayStart + DAY).length, 20);

    // Raw rows leave only once rolled up (STO-3): here the roll-up job has not run yet.
    parts.storageSettings.save(s3.settings());
    assert.equal((await parts.scheduler.runNow('archive')).ok, true);
    assert.equal(parts.readings.raw('ARC-1', dayStart, dayStart + DAY).length, 20, 'kept until rolled up');
    assert.equal((await parts.scheduler.runNow('rollup')).ok, true);

    // Settings: the secret is sealed at rest and redacted on read.
    parts.storageSettings.save(s3.settings({ bucket: 'wrong-bucket' }));
    assert.equal(parts.storageSettings.redacted().secret_access_key, '******');
    const failing = await parts.storageSettings.testConnection();
    assert.deepEqual([failing.ok, failing.code, failing.step], [false, 60001, 'write']);
    await parts.scheduler.runNow('archive');
    await parts.writer.flush(); // the ARCHIVE condition is committed with the writer's next batch
    const archiveAlarm = parts.alarms.active().find((a) => a.type === 'ARCHIVE');
    assert.ok(archiveAlarm, 'ARCHIVE system alarm raised');
    assert.equal(parts.readings.raw('ARC-1', dayStart, dayStart + DAY).length, 20, 'nothing deleted');
    const job = parts.scheduler.status().find((j) => j.name === 'archive')!;
    assert.equal(job.last_ok, false);
    assert.match((job.last_result as { error: string }).error, new RegExp(`archive of ${new Date(dayStart).toISOString().slice(0, 10)} failed: NoSuchBucket`));

    // A redacted secret sent back keeps the stored one.
    parts.storageSettings.save({ ...s3.settings(), secret_access_key: '******' });
    assert.equal((await parts.storageSettings.testConnection()).ok, true);
    assert.equal((await parts.storageSettings.testConnection({ ...s3.settings(), bucket: 'other-bucket' })).ok, false);
    await parts.scheduler.runNow('archive');
    await parts.writer.flush();
    assert.equal(parts.alarms.active().some((a) => a.type === 'ARCHIVE'), false, 'alarm cleared');
    assert.equal(parts.readings.raw('ARC-1', dayStart, dayStart + DAY).length, 0);
    const [entry] = parts.archiver.list();
    assert.equal(entry.rows, 20);
    const download = await parts.archiver.download(entry.day);
    const lines = gunzipSync(Buffer.concat(await download.stream.toArray())).toString().trimEnd().split('\n');
    assert.equal(lines[0], CSV_HEADER);
    assert.equal(lines.length, 21);
    assert.match(lines[1], /^\d{4}-\d\d-\d\dT01:00:00.000Z,ARC-1,100,100,25,50,90,-70,0$/);

    // The other jobs run too.
    const backup = await parts.scheduler.runNow('backup');
    assert.equal(backup.ok, true);
    assert.equal((await parts.backups.list())[0].uploaded_key?.startsWith('backups/'), true);
    const checkIn = await parts.scheduler.runNow('license-check-in');
    assert.deepEqual([checkIn.ok, checkIn.result], [true, null], 'evaluation mode: no license to check in');
    for (const name of ['maintenance', 'health', 'rollup', 'offline-sweep']) {
      const outcome = await parts.scheduler.runNow(name);
      assert.equal(outcome.ok, true, `${name}: ${outcome.error}`);
    }
  } finally {
    await app.stop();
    await s3.stop();
  }
});
