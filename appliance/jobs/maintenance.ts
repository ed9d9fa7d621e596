// OPS-2 nightly database maintenance (04:00): roll-up retention (STO-3: 1-minute buckets kept
// rollup_1m_days, 1-hour buckets rollup_1h_days), then PRAGMA optimize and a TRUNCATE checkpoint.
// All of it runs on the writer thread, one device per step, so commits interleave.
import type { Clock } from '../core/clock.ts';
import type { Db } from '../storage/db.ts';

const DAY_MS = 86_400_000;

export interface MaintenanceDeps {
  db: Db;
  writer: {
    pruneRollup(table: 'readings_1m' | 'readings_1h', snId: number, before: number): Promise<number>;
    maintenance(): Promise<unknown>;
  };
  clock: Clock;
  rollup1mDays: number;
  rollup1hDays: number;
}

export function createMaintenance({ db, writer, clock, rollup1mDays, rollup1hDays }: MaintenanceDeps) {
  const serials = db.prepare('SELECT id FROM serials ORDER BY id').pluck();
  return {
    async run() {
      const now = clock.now();
      const minuteBefore = now - rollup1mDays * DAY_MS;
      const hourBefore = now - rollup1hDays * DAY_MS;
      let minutes = 0;
      let hours = 0;
      for (const id of serials.all() as number[]) {
        minutes += await writer.pruneRollup('readings_1m', id, minuteBefore);
        hours += await writer.pruneRollup('readings_1h', id, hourBefore);
      }
      const database = await writer.maintenance();
      return { pruned_1m: minutes, pruned_1h: hours, database };
    },
  };
}
