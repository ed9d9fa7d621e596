import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createDiskGuard } from '../../appliance/archive/disk-guard.ts';
import { archiveKey } from '../../appliance/archive/archiver.ts';
import { createS3 } from '../../appliance/archive/s3.ts';
import { siteDayRange } from '../../appliance/core/site-day.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { s3ForSuite } from '../helpers/s3.ts';
import { fixture, JAN5, TZ, type Fixture } from './support.ts';

const day = (n: number) => siteDayRange(`2026-01-${String(n).padStart(2, '0')}`, TZ);
const ALL = [0, Number.MAX_SAFE_INTEGER] as const;

describe('disk guard (STO-4) on a small artificial disk', () => {
  const s3 = s3ForSuite();
  let f: Fixture;
  let diskFreeBlocks: number;
  beforeEach(async () => {
    f = await fixture(3); // now Jan 10 00:00: Jan 5 and 6 are due for archive, 7..9 are hot
    // Jan 5..9, 4 devices at 10 s: ~170k rows.
    f.insert(['A', 'B', 'C', 'D'], JAN5, 5 * 8640, 10_000);
    diskFreeBlocks = 0; // the file system is full; only the database's free pages count
  });
  afterEach(async () => {
    await f.close();
  });

  const guard = (lowMb: number, criticalMb: number) => {
    const archiver = f.archiver();
    return createDiskGuard({
      db: f.db, dataDir: f.dir, lowFreeMb: lowMb, criticalFreeMb: criticalMb, writer: f.writer, archiver,
      archivingEnabled: () => f.settings.enabled(), reportCondition: f.alarms.report, clock: f.clock, log: silentLogger(), timezone: TZ,
      statfs: async () => ({ bavail: diskFreeBlocks, bsize: 4096 }),
    });
  };

  test('above the low-water mark nothing happens; below it a DISK alarm and nothing is deleted', async () => {
    const before = f.rowsIn(...ALL).length;
    diskFreeBlocks = 1024 * 1024; // 4 GB
    assert.equal((await guard(2, 1).check()).state, 'ok');
    diskFreeBlocks = 384; // 1.5 MB
    const low = await guard(2, 1).check();
    assert.equal(low.state, 'low');
    assert.match(f.alarms.active.get('DISK/disk') ?? '', /below 2 MB/);
    assert.equal(f.rowsIn(...ALL).length, before);
    diskFreeBlocks = 1024 * 1024;
    await guard(2, 1).check();
    assert.equal(f.alarms.active.size, 0, 'the alarm clears when space is back');
  });

  test('critical with archiving on: the due days are archived and deleted first; hot unarchived data is untouched', async () => {
    f.settings.save(s3().settings());
    const hot = f.rowsIn(day(7).start, day(10).start);
    const result = await guard(2, 1).check();
    assert.equal(result.state, 'critical');
    assert.equal(result.pruned_unarchived_rows, 0);
    assert.ok(result.free_mb >= 1, `freed enough (${result.free_mb} MB)`);
    assert.deepEqual(f.rowsIn(...ALL), hot, 'only the archived days left');
    const head = await createS3(f.settings.current()).head(archiveKey('2026-01-06'));
    assert.ok(head && head.bytes > 0);
    assert.equal(f.alarms.active.has('DISK/disk:pruned'), false);
  });

  test('critical with archiving on, still critical after the due days: the oldest complete days are archived early, then deleted', async () => {
    f.settings.save(s3().settings());
    const result = await guard(6, 5).check();
    assert.deepEqual(result.archived_days.slice(0, 1), ['2026-01-07']);
    assert.equal(result.pruned_unarchived_rows, 0);
    const head = await createS3(f.settings.current()).head(archiveKey('2026-01-07'));
    assert.ok(head, 'archived before deleted');
    assert.deepEqual(f.rowsIn(day(5).start, day(8).start), []);
  });

  for (const [name, storage] of [['archiving off (ARC-5)', null], ['the bucket unreachable', { endpoint: 'http://127.0.0.1:9' }]] as const) {
    test(`critical with ${name}: the oldest unarchived hours go, oldest first, with an alarm saying so`, async () => {
      if (storage) f.settings.save(s3().settings(storage));
      const before = f.rowsIn(...ALL);
      const result = await guard(2, 1).check();
      assert.equal(result.state, 'critical');
      assert.ok(result.pruned_unarchived_rows > 0);
      const after = f.rowsIn(...ALL);
      assert.equal(before.length - after.length, result.pruned_unarchived_rows);
      // Exactly the oldest rows went: what is left is the newest tail of what was there.
      const cut = new Date(result.pruned_before!).toISOString();
      assert.ok(after.every((line) => line.slice(0, 24) >= cut));
      assert.ok(before.filter((line) => line.slice(0, 24) < cut).length === result.pruned_unarchived_rows);
      assert.match(f.alarms.active.get('DISK/disk:pruned') ?? '', /deleted \d+ unarchived readings older than/);
      assert.ok(result.free_mb >= 1);
      assert.ok(result.pruned_before! <= day(6).end, 'pruned no more than needed');
    });
  }
});
