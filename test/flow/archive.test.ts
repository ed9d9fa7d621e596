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
    const { testApi } = app.app;
    assert.deepEqual(testApi.jobs().map((j) => j.name), [
      'offline-sweep', 'health', 'rollup', 'archive', 'license-check-in', 'maintenance', 'backup', 'calibration-due', 'exposure',
    ]);
    // Readings of two days ago, sent while the clock said so.
    const now = app.clock.now();
    const dayStart = now - (now % DAY) - 2 * DAY;
    app.clock.set(dayStart + 3_600_000);
    const { password } = await testApi.addDevice({ sn: 'ARC-1', high_limit: 1000 });
    const client = await connectDevice(app.url, 'ARC-1', password!);
    for (let i = 0; i < 20; i++) {
      await publishReading(client, 'ARC-1', { seq: i, ts: Math.floor(app.clock.now() / 1000), v_raw: 100 + i });
      app.clock.advance(10_000);
    }
    await client.endAsync();
    await testApi.flush();
    app.clock.set(now);
    const history = testApi.storedReadings('ARC-1', dayStart, dayStart + DAY);
    assert.equal(history.length, 20);

    // ARC-5: not configured → the job runs, nothing is deleted, the status says archiving is off.
    assert.equal((await testApi.runJob('archive')).ok, true);
    assert.equal(testApi.archiveStatus().enabled, false);
    assert.equal(testApi.storedReadings('ARC-1', dayStart, dayStart + DAY).length, 20);

    // Raw rows leave only once rolled up (STO-3): here the roll-up job has not run yet.
    testApi.saveStorageSettings(s3.settings());
    assert.equal((await testApi.runJob('archive')).ok, true);
    assert.equal(testApi.storedReadings('ARC-1', dayStart, dayStart + DAY).length, 20, 'kept until rolled up');
    assert.equal((await testApi.runJob('rollup')).ok, true);

    // Settings: the secret is sealed at rest and redacted on read.
    testApi.saveStorageSettings(s3.settings({ bucket: 'wrong-bucket' }));
    assert.equal(testApi.shownStorageSettings().secret_access_key, '******');
    const failing = await testApi.testStorageConnection();
    assert.deepEqual([failing.ok, failing.code, failing.step], [false, 60001, 'write']);
    await testApi.runJob('archive');
    await testApi.flush(); // the ARCHIVE condition is committed with the writer's next batch
    const archiveAlarm = testApi.activeAlarms().find((a) => a.type === 'ARCHIVE');
    assert.ok(archiveAlarm, 'ARCHIVE system alarm raised');
    assert.equal(testApi.storedReadings('ARC-1', dayStart, dayStart + DAY).length, 20, 'nothing deleted');
    const job = testApi.jobs().find((j) => j.name === 'archive')!;
    assert.equal(job.last_ok, false);
    assert.match((job.last_result as { error: string }).error, new RegExp(`archive of ${new Date(dayStart).toISOString().slice(0, 10)} failed: NoSuchBucket`));

    // A redacted secret sent back keeps the stored one.
    testApi.saveStorageSettings({ ...s3.settings(), secret_access_key: '******' });
    assert.equal((await testApi.testStorageConnection()).ok, true);
    assert.equal((await testApi.testStorageConnection({ ...s3.settings(), bucket: 'other-bucket' })).ok, false);
    await testApi.runJob('archive');
    await testApi.flush();
    assert.equal(testApi.activeAlarms().some((a) => a.type === 'ARCHIVE'), false, 'alarm cleared');
    assert.equal(testApi.storedReadings('ARC-1', dayStart, dayStart + DAY).length, 0);
    const [entry] = testApi.archivedDays();
    assert.equal(entry.rows, 20);
    const download = await testApi.downloadArchive(entry.day);
    const lines = gunzipSync(Buffer.concat(await download.stream.toArray())).toString().trimEnd().split('\n');
    assert.equal(lines[0], CSV_HEADER);
    assert.equal(lines.length, 21);
    assert.match(lines[1], /^\d{4}-\d\d-\d\dT01:00:00.000Z,ARC-1,100,100,25,50,90,-70,0$/);

    // The other jobs run too.
    const backup = await testApi.runJob('backup');
    assert.equal(backup.ok, true);
    assert.equal((await testApi.backups())[0].uploaded_key?.startsWith('backups/'), true);
    const checkIn = await testApi.runJob('license-check-in');
    assert.deepEqual([checkIn.ok, checkIn.result], [true, null], 'evaluation mode: no license to check in');
    for (const name of ['maintenance', 'health', 'rollup', 'offline-sweep']) {
      const outcome = await testApi.runJob(name);
      assert.equal(outcome.ok, true, `${name}: ${outcome.error}`);
    }
  } finally {
    await app.stop();
    await s3.stop();
  }
});
