import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createScheduler } from '../../appliance/jobs/scheduler.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { createJobRunRepository } from '../../appliance/storage/job-runs.ts';
import { eventually } from '../helpers/appliance.ts';
import { tempDbForEachTest } from '../helpers/temp-db.ts';

describe('job scheduler (OPS-2)', () => {
  const sqlite = tempDbForEachTest();

  const make = (jobs: Parameters<typeof createScheduler>[0]['jobs'], clock = manualClock()) =>
    createScheduler({ jobs, timezone: 'Asia/Shanghai', clock, log: silentLogger(), runs: createJobRunRepository(sqlite.db) });

  test('runNow runs a job and records its start, duration and result', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const scheduler = make([{ name: 'rollup', schedule: '* * * * *', run: async () => ({ buckets: 3 }) }], clock);
    const outcome = await scheduler.runNow('rollup');
    assert.deepEqual({ ok: outcome.ok, result: outcome.result }, { ok: true, result: { buckets: 3 } });
    const [status] = scheduler.status();
    assert.equal(status.name, 'rollup');
    assert.equal(status.last_ok, true);
    assert.deepEqual(status.last_result, { buckets: 3 });
    assert.equal(status.last_started_at, Date.UTC(2026, 0, 1));
    assert.equal(status.runs, 1);
    assert.equal(typeof status.last_duration_ms, 'number');
  });

  test('a job never overlaps itself: a second start while it runs is skipped and counted', async () => {
    let release!: () => void;
    let calls = 0;
    const scheduler = make([{ name: 'archive', schedule: '0 2 * * *', run: () => { calls++; return new Promise<void>((r) => (release = r)); } }]);
    const first = scheduler.runNow('archive');
    const second = await scheduler.runNow('archive');
    assert.equal(second.skipped, 'already running');
    assert.equal(scheduler.status()[0].running, true);
    release();
    assert.equal((await first).ok, true);
    assert.equal(calls, 1);
    assert.equal(scheduler.status()[0].skipped_overlaps, 1);
    assert.equal(scheduler.status()[0].running, false);
  });

  test('a failing job is recorded as failed and never throws out of the scheduler', async () => {
    const scheduler = make([{ name: 'backup', schedule: '0 3 * * 0', run: async () => { throw new Error('disk gone'); } }]);
    const outcome = await scheduler.runNow('backup');
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error, 'disk gone');
    const [status] = scheduler.status();
    assert.equal(status.last_ok, false);
    assert.deepEqual(status.last_result, { error: 'disk gone' });
    assert.equal(status.failures, 1);
    await assert.rejects(scheduler.runNow('nope'), /no job 'nope'/);
  });

  test('the last runs survive a restart (job_runs)', async () => {
    const jobs = [{ name: 'maintenance', schedule: '0 4 * * *', run: async () => 'ok' }];
    await make(jobs).runNow('maintenance');
    await make(jobs).runNow('maintenance');
    const again = make(jobs);
    again.start();
    const [status] = again.status();
    await again.stop();
    assert.equal(status.runs, 2);
    assert.equal(status.last_result, 'ok');
  });

  test('schedules are site-time cron expressions: 02:00 Shanghai is 18:00 UTC; invalid ones are refused', async () => {
    const scheduler = make([{ name: 'archive', schedule: '0 2 * * *', run: async () => null }]);
    scheduler.start();
    const next = scheduler.status()[0].next_run!;
    await scheduler.stop();
    assert.equal(new Date(next).getUTCHours(), 18);
    assert.equal(new Date(next).getUTCMinutes(), 0);
    assert.throws(() => make([{ name: 'x', schedule: 'every day', run: async () => null }]), /invalid cron expression/);
  });

  test('a started scheduler fires its jobs from node-cron (every second here)', async () => {
    let fired = 0;
    const scheduler = make([{ name: 'tick', schedule: '* * * * * *', run: async () => ++fired }]);
    scheduler.start();
    try {
      await eventually(() => fired >= 1, 3000, 'a cron tick');
    } finally {
      await scheduler.stop();
    }
    assert.equal(scheduler.status()[0].last_ok, true);
  });
});
