import assert from 'node:assert/strict';
import { beforeEach, afterEach, describe, test } from 'node:test';
import { archiveKey } from '../../appliance/archive/archiver.ts';
import { CSV_HEADER } from '../../appliance/archive/export.ts';
import { createS3 } from '../../appliance/archive/s3.ts';
import { siteDayRange } from '../../appliance/core/site-day.ts';
import { s3ForSuite } from '../helpers/s3.ts';
import { fixture, objectLines, HOUR, JAN5, TZ, type Fixture } from './support.ts';

const DAY = 24 * HOUR;
const day = (n: number) => siteDayRange(`2026-01-0${n}`, TZ);

describe('archive (ARC-1, ARC-2, ARC-5) against a real S3-compatible server', () => {
  const s3 = s3ForSuite();
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture(1);
    // Jan 5, 6 and 7 (site days), 3 devices, a reading every 10 min; now is Jan 10 00:00 → 5..8 due.
    f.insert(['D-002', 'D-001', 'D-003'], JAN5, 3 * 144, 10 * 60_000);
    f.insert(['D-001'], day(9).start + HOUR, 10, 60_000); // Jan 9: inside retention
  });
  afterEach(async () => {
    await f.close();
  });

  test('a day is archived: the object decompresses to exactly the rows deleted locally, with the seed header; other days are untouched', async () => {
    const jan5 = f.rowsIn(day(5).start, day(5).end);
    const jan9 = f.rowsIn(day(9).start, day(9).end);
    assert.equal(jan5.length, 3 * 144);
    f.settings.save(s3().settings());
    const result = await f.archiver().run();
    assert.equal(result.failed, null);
    assert.deepEqual(result.archived.map((a) => a.day), ['2026-01-05', '2026-01-06', '2026-01-07']);
    assert.deepEqual(f.rowsIn(day(5).start, day(8).end), [], 'archived days are gone locally');
    assert.deepEqual(f.rowsIn(day(9).start, day(9).end), jan9, 'a day inside retention is untouched');
    const lines = await objectLines(await createS3(f.settings.current()).get(archiveKey('2026-01-05')));
    assert.equal(lines[0], CSV_HEADER);
    assert.equal(lines[0], 'time,sn,v_raw,ppm,temp,humi,bat,rssi,seq');
    assert.deepEqual(lines.slice(1), jan5);
    assert.equal(archiveKey('2026-01-05'), 'archive/2026/01/sensor_data_20260105.csv.gz');
    const listed = f.archiver().list();
    assert.deepEqual(listed.map((e) => [e.day, e.part, e.rows, e.local_rows_deleted]), [
      ['2026-01-07', 1, 432, true], ['2026-01-06', 1, 432, true], ['2026-01-05', 1, 432, true],
    ]);
    const download = await f.archiver().download('2026-01-05');
    assert.equal(download.fileName, 'sensor_data_20260105.csv.gz');
    assert.deepEqual(await objectLines(download.stream), [CSV_HEADER, ...jan5]);
    assert.equal(f.alarms.raised.length, 0);
    assert.equal(f.archiver().status().pending_days, 0);
    const inBucket = await f.archiver().listBucket();
    assert.deepEqual(inBucket.map((o) => [o.day, o.part, o.key]), listed.map((e) => [e.day, e.part, e.key]));
    assert.deepEqual(inBucket.map((o) => o.bytes), listed.map((e) => e.bytes));
  });

  test('a day not yet rolled up stays until the roll-ups have passed it (STO-3 charts keep it)', async () => {
    f.settings.save(s3().settings());
    let watermark = day(6).start + 3_600_000; // roll-ups are behind, inside Jan 6
    const archiver = f.archiver({ rolledUpTo: () => watermark });
    assert.deepEqual((await archiver.run()).archived.map((a) => a.day), ['2026-01-05']);
    assert.equal(f.rowsIn(day(6).start, day(8).end).length, 2 * 432);
    await assert.rejects(archiver.archiveDayNow('2026-01-06'), /not rolled up yet/);
    watermark = day(9).start;
    assert.deepEqual((await archiver.run()).archived.map((a) => a.day), ['2026-01-06', '2026-01-07']);
  });

  test('without storage settings nothing is archived or deleted and the status says archiving is off (ARC-5)', async () => {
    const before = f.rowsIn(0, Number.MAX_SAFE_INTEGER);
    const archiver = f.archiver();
    const result = await archiver.run();
    assert.equal(result.enabled, false);
    assert.deepEqual(f.rowsIn(0, Number.MAX_SAFE_INTEGER), before);
    const status = archiver.status();
    assert.equal(status.enabled, false);
    assert.equal(status.pending_days, 3);
    await assert.rejects(archiver.download('2026-01-05'), { code: 60001 });
  });

  for (const [name, overrides] of [
    ['a wrong access key', { access_key_id: 'WRONG' }],
    ['a missing bucket', { bucket: 'no-such-bucket' }],
    ['an unreachable endpoint', { endpoint: 'http://127.0.0.1:9' }],
  ] as const) {
    test(`with ${name} nothing is deleted, the attempt is logged with 60002 and an ARCHIVE alarm is raised`, async () => {
      const before = f.rowsIn(0, Number.MAX_SAFE_INTEGER);
      f.settings.save(s3().settings(overrides));
      const archiver = f.archiver();
      const result = await archiver.run();
      assert.equal(result.failed?.day, '2026-01-05');
      assert.deepEqual(f.rowsIn(0, Number.MAX_SAFE_INTEGER), before);
      const [attempt] = archiver.attempts();
      assert.equal(attempt.status, 'failed');
      assert.equal(attempt.error_code, 60002);
      assert.ok(attempt.error);
      assert.equal(f.alarms.raised.length, 1);
      assert.match(f.alarms.raised[0], /2026-01-05/);
      assert.deepEqual(archiver.list(), []);
      assert.equal(archiver.status().last_attempt?.status, 'failed');
    });
  }

  test('the server dying mid-upload deletes nothing; the next run catches up every missed day in order', async () => {
    // A bigger day so the upload takes a while: 30 devices at 10 s.
    f.insert(Array.from({ length: 30 }, (_, i) => `BIG-${i}`), day(5).start, 8640, 10_000);
    const before = f.rowsIn(0, Number.MAX_SAFE_INTEGER);
    const jan5 = f.rowsIn(day(5).start, day(5).end);
    f.settings.save(s3().settings());
    let killed = false;
    s3().onRequest((req) => {
      if (!killed && req.method === 'PUT' && req.url?.includes('sensor_data_20260105')) {
        killed = true;
        void s3().kill();
      }
    });
    const archiver = f.archiver();
    const failed = await archiver.run();
    assert.ok(killed, 'the server died during the upload');
    assert.equal(failed.failed?.day, '2026-01-05');
    assert.deepEqual(f.rowsIn(0, Number.MAX_SAFE_INTEGER), before);
    assert.equal(f.alarms.raised.length, 1);
    // Offline for days: two more days became due meanwhile.
    f.clock.advance(2 * DAY);
    await s3().revive();
    const caughtUp = await archiver.run();
    assert.equal(caughtUp.failed, null);
    assert.deepEqual(caughtUp.archived.map((a) => a.day), ['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-09']);
    assert.equal(caughtUp.archived[0].rows, 432 + 30 * 8640);
    assert.equal(f.alarms.cleared, 1);
    const lines = await objectLines(await createS3(f.settings.current()).get(archiveKey('2026-01-05')));
    assert.deepEqual(lines.slice(1), jan5);
    assert.deepEqual(f.rowsIn(0, Number.MAX_SAFE_INTEGER), []);
  });
});
