// ARC-1 and STO-3: which site days leave now — a pure policy of the clock, retention_days and the
// 1-minute roll-up watermark. A day leaves once it is complete and ended retention_days ago, and
// only once the roll-ups have passed its end (long-range charts keep what was archived; a roll-up
// backlog, e.g. the first start on a full store, holds days back). Oldest first, so a run that
// fails part-way leaves no gap: the next run catches up in order.
import { siteDayOf, siteDayRange } from '../core/site-day.ts';

const DAY_MS = 86_400_000;

/** The instant a day must have ended by to be archived: retention_days before now, and not past the roll-ups. */
export function archiveCutoff(now: number, retentionDays: number, rolledUpTo = Number.MAX_SAFE_INTEGER): number {
  return Math.min(now - retentionDays * DAY_MS, rolledUpTo);
}

/**
 * The days to archive, oldest first: each site day (OPS-5: in the site's timezone) that holds a
 * reading and ended by `cutoff`. `oldestFrom(t)` is the oldest reading at or after t
 * (archive_log.oldestFrom), so days without readings cost nothing.
 */
export function* dueDays(oldestFrom: (from: number) => number | null, cutoff: number, timezone: string): Generator<string> {
  let cursor = 0;
  for (;;) {
    const oldest = oldestFrom(cursor);
    if (oldest === null) return;
    const day = siteDayOf(oldest, timezone);
    const { end } = siteDayRange(day, timezone);
    if (end > cutoff) return;
    yield day;
    cursor = end;
  }
}
