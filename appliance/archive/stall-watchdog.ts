// ARC-1/ARC-2: an archive run never hangs. The export thread and the upload wait on each other
// (credit, parts); whatever the cause, a day whose export+upload stops moving is stopped and fails
// the run (ARCHIVE alarm, retried next run) instead of holding it forever. The incident: a run that
// sat idle for 13 minutes with 5 MB uploaded (a lost wake-up in the export thread).
import { ArchiveFailure } from './archive-failure.ts';

/**
 * A day's export+upload that moves nothing for this long has stalled: it is stopped and fails the run
 * (ARCHIVE alarm, retried next run) instead of waiting forever. Progress is a chunk from the export
 * thread, a read by the upload or a stored part; with two 5 MB parts in flight this allows uplinks
 * down to ~35 KB/s. Above S3_TIMEOUTS.idleMs, so a lost S3 response fails as that first.
 */
export const STALL_TIMEOUT_MS = 300_000;

/**
 * Fails a phase that stops moving: `stalled` rejects (and `signal` aborts) after `limitMs` without a
 * pulse. Real elapsed time, like the S3 timeouts — a hang is a matter of wall-clock seconds.
 */
export function createStallWatchdog(limitMs: number, describe: (idleMs: number) => string) {
  const controller = new AbortController();
  let last = performance.now();
  let fail!: (err: Error) => void;
  const stalled = new Promise<never>((_, reject) => (fail = reject));
  stalled.catch(() => {});
  const timer = setInterval(() => {
    const idle = performance.now() - last;
    if (idle < limitMs) return;
    clearInterval(timer);
    const err = new ArchiveFailure(describe(idle));
    controller.abort(err);
    fail(err);
  }, Math.max(20, Math.min(limitMs / 4, 5_000)));
  return {
    signal: controller.signal,
    stalled,
    pulse: () => {
      last = performance.now();
    },
    stop: () => clearInterval(timer),
  };
}
export type StallWatchdog = ReturnType<typeof createStallWatchdog>;
