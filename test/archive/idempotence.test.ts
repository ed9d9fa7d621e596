import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { archiveKey } from '../../appliance/archive/archiver.ts';
import { CSV_HEADER } from '../../appliance/archive/export.ts';
import { createS3 } from '../../appliance/archive/s3.ts';
import { siteDayRange } from '../../appliance/core/site-day.ts';
import { s3ForSuite } from '../helpers/s3.ts';
import { fixture, objectLines, HOUR, JAN5, TZ, type Fixture } from './support.ts';

const jan5 = siteDayRange('2026-01-05', TZ);
const ALL = [0, Number.MAX_SAFE_INTEGER] as const;

describe('archive idempotence (ARC-2): crashes and late readings neither lose nor duplicate data', () => {
  const s3 = s3ForSuite();
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture(1);
    f.insert(['A', 'B', 'C', 'D'], JAN5, 144, 10 * 60_000);
    f.settings.save(s3().settings());
  });
  afterEach(async () => {
    await f.close();
  });

  test('a crash between upload and delete (mid-deletion): the re-run verifies the object again and finishes the deletion, no second part', async () => {
    const rows = f.rowsIn(...ALL);
    let calls = 0;
    const crashing = {
      flush: () => f.writer.flush(),
      async deleteRange(...args: [number, number, number, number]) {
        if (++calls === 3) throw new Error('power cut');
        return f.writer.deleteRange(...args);
      },
    };
    const first = await f.archiver({ writer: crashing }).run();
    assert.match(first.failed?.error ?? '', /power cut/);
    assert.equal(f.rowsIn(...ALL).length, 2 * 144, 'two devices deleted before the crash');
    // After the restart: a new archiver on the same database.
    const second = await f.archiver().run();
    assert.equal(second.failed, null);
    assert.equal(second.resumed, 1);
    assert.deepEqual(second.archived, [], 'nothing exported again');
    assert.deepEqual(f.rowsIn(...ALL), []);
    const lines = await objectLines(await createS3(f.settings.current()).get(archiveKey('2026-01-05')));
    assert.deepEqual(lines, [CSV_HEADER, ...rows]);
    const log = f.archiver().attempts();
    assert.deepEqual(log.map((e) => [e.part, e.status, e.deleted_rows]), [[1, 'done', 4 * 144]]);
    assert.equal(f.archiver().list().length, 1);
  });

  test('a crash after the upload but before verification: the attempt is redone over the same object', async () => {
    const rows = f.rowsIn(...ALL);
    // Simulate the crash: upload done, process gone before 'verified' was written.
    f.db.prepare(`INSERT INTO archive_log (day, part, object_key, status, day_start, day_end, received_before, started_at)
      VALUES ('2026-01-05', 1, ?, 'running', ?, ?, ?, ?)`).run(archiveKey('2026-01-05'), jan5.start, jan5.end, f.clock.now(), f.clock.now());
    const result = await f.archiver().run();
    assert.equal(result.failed, null);
    assert.deepEqual(result.archived.map((a) => [a.day, a.part, a.rows]), [['2026-01-05', 1, 4 * 144]]);
    const lines = await objectLines(await createS3(f.settings.current()).get(archiveKey('2026-01-05')));
    assert.deepEqual(lines, [CSV_HEADER, ...rows]);
    assert.deepEqual(f.archiver().attempts().map((e) => e.status), ['done', 'failed']);
  });

  test('a verified object that vanished before the deletion finished: rows are kept and archived as the next part', async () => {
    let calls = 0;
    const crashing = {
      flush: () => f.writer.flush(),
      async deleteRange(...args: [number, number, number, number]) {
        if (++calls === 2) throw new Error('crash');
        return f.writer.deleteRange(...args);
      },
    };
    await f.archiver({ writer: crashing }).run();
    const left = f.rowsIn(...ALL);
    assert.equal(left.length, 3 * 144);
    await createS3(f.settings.current()).delete(archiveKey('2026-01-05'));
    const result = await f.archiver().run();
    assert.equal(result.resumed, 0);
    assert.deepEqual(result.archived.map((a) => [a.part, a.rows]), [[2, 3 * 144]]);
    const part2 = await objectLines(await createS3(f.settings.current()).get(archiveKey('2026-01-05', 2)));
    assert.deepEqual(part2, [CSV_HEADER, ...left]);
  });

  test('readings of an archived day that arrive later go to part 2, never over part 1', async () => {
    const first = f.rowsIn(...ALL);
    await f.archiver().run();
    // A detector back after days offline resends its buffer of Jan 5.
    f.clock.advance(HOUR);
    f.insert(['B'], JAN5 + 5_000, 3, 60_000, 5 * 24 * HOUR);
    const late = f.rowsIn(...ALL);
    assert.equal(late.length, 3);
    const result = await f.archiver().run();
    assert.deepEqual(result.archived.map((a) => [a.day, a.part, a.rows]), [['2026-01-05', 2, 3]]);
    const s3c = createS3(f.settings.current());
    assert.deepEqual(await objectLines(await s3c.get(archiveKey('2026-01-05'))), [CSV_HEADER, ...first]);
    assert.deepEqual(await objectLines(await s3c.get(archiveKey('2026-01-05', 2))), [CSV_HEADER, ...late]);
    assert.equal(archiveKey('2026-01-05', 2), 'archive/2026/01/sensor_data_20260105_2.csv.gz');
    const download = await f.archiver().download('2026-01-05', 2);
    assert.deepEqual(await objectLines(download.stream), [CSV_HEADER, ...late]);
    await assert.rejects(f.archiver().download('2026-01-05', 3), { code: 60003 });
    await assert.rejects(f.archiver().download('2026-02-30'), { code: 60003 });
  });

  test('rows received after the export started are not deleted: they wait for the next part', async () => {
    const before = f.rowsIn(...ALL);
    // Rows of Jan 5 whose receive time is after "now" (received while the export ran).
    f.insert(['A'], JAN5 + 1000, 2, 60_000, 10 * 24 * HOUR);
    const result = await f.archiver().run();
    assert.equal(result.archived[0].rows, before.length);
    assert.equal(f.rowsIn(...ALL).length, 2);
  });
});
