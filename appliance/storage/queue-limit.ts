// Issue 16.8: the bound of the group-commit queue (`ingest.queue_limit`). A reading that would take
// the readings queued or in flight to the limit is refused at once with QUEUE_FULL: no PUBACK, so
// the detector resends later, rather than memory growing without end behind a slow disk. Each
// refusal is counted (`queueRefused`: metrics and health); the start and the end of a spell of
// refusals are said once each, not once per reading.
import type { Logger } from '../core/log.ts';
import type { CommitCallback } from './pending-batch.ts';

/** The error code of a reading refused because the group-commit queue is at `queueLimit`. */
export const QUEUE_FULL = 'QUEUE_FULL';

export interface QueueLimitOptions {
  /** Readings queued or in flight at most (Infinity: unbounded). */
  limit: number;
  /** Where refusals are counted (the writer's GroupCommitStats). */
  stats: { queueRefused: number };
  log: Logger;
}

export function createQueueLimit({ limit, stats, log }: QueueLimitOptions) {
  /** Refusing since the queue reached its limit (the count of refusals then): said once when it starts and once when it ends. */
  let refusingSince = 0;
  return {
    /** Whether a reading may join `backlog` readings queued or in flight; if not, `callback` is refused at once. */
    admits(backlog: number, callback: CommitCallback): boolean {
      if (backlog >= limit) {
        stats.queueRefused++;
        if (!refusingSince) {
          refusingSince = stats.queueRefused;
          log.warn({ queue_limit: limit, backlog }, 'ingest queue full; readings refused (not acknowledged) until the writer catches up');
        }
        callback(Object.assign(new Error(`ingest queue full (${limit} readings waiting); reading not acknowledged`), { code: QUEUE_FULL }), false);
        return false;
      }
      if (refusingSince) {
        log.warn({ refused: stats.queueRefused - refusingSince + 1 }, 'ingest queue below its limit again; readings accepted');
        refusingSince = 0;
      }
      return true;
    },
  };
}
