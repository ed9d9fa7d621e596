import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMaintenance } from '../../appliance/jobs/maintenance.ts';
import { fixture, JAN5 } from '../archive/support.ts';

const DAY = 86_400_000;

test('maintenance prunes roll-ups past their retention (STO-3), keeps the rest, and optimizes + checkpoints', async () => {
  const f = await fixture();
  try {
    f.insert(['A', 'B'], JAN5, 1, 60_000); // serials
    const now = f.clock.now();
    const put = (table: string, ts: number) => f.db.prepare(`INSERT INTO ${table} VALUES (1, ?, 1, 1, 1, 1), (2, ?, 1, 1, 1, 1)`).run(ts, ts);
    put('readings_1m', now - 31 * DAY);
    put('readings_1m', now - 29 * DAY);
    put('readings_1h', now - 731 * DAY);
    put('readings_1h', now - 31 * DAY);
    const result = await createMaintenance({ db: f.db, writer: f.writer, clock: f.clock, rollup1mDays: 30, rollup1hDays: 730 }).run();
    assert.equal(result.pruned_1m, 2);
    assert.equal(result.pruned_1h, 2);
    assert.deepEqual(f.db.prepare('SELECT ts FROM readings_1m').pluck().all(), [now - 29 * DAY, now - 29 * DAY]);
    assert.deepEqual(f.db.prepare('SELECT ts FROM readings_1h').pluck().all(), [now - 31 * DAY, now - 31 * DAY]);
    assert.equal((result.database as { optimized: boolean }).optimized, true);
  } finally {
    await f.close();
  }
});
