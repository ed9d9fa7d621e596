// ING-6 / ALM-8: settling a batch the writer thread answered. A committed batch: its counts go to
// the stats, each reading the alarm evaluation refused is said, the commit's alarm events go to the
// main thread's alarm picture, and only then does each reading's callback run (its PUBACK), once,
// in the order the readings came: stored, a duplicate already stored (ING-4), or refused (not
// acknowledged: the detector resends). A failed batch: it is said, the failed-commit listeners
// hear it (STO-4: the disk guard looks at once), its status / OFFLINE / system-alarm changes go
// back to the front of the queue, and every reading's callback gets the error (no PUBACK).
import type { AlarmEvent } from '../contract/alarm.ts';
import type { Logger } from '../core/log.ts';
import type { GroupCommitStats } from './group-commit.ts';
import type { PendingBatch } from './pending-batch.ts';
import { REFUSED, STORED, type WriterUpdate } from './reading-store.ts';
import type { WriterResponse } from './writer-protocol.ts';

/** The writer thread's answer to a batch. */
export type BatchReply = Extract<WriterResponse, { type: 'batch' }>;

export interface BatchSettlementOptions {
  stats: GroupCommitStats;
  log: Logger;
  /** The committed alarm events, before the readings' callbacks (ALM-8). */
  onAlarms: (events: AlarmEvent[]) => void;
  /** Puts a failed batch's updates back at the front of the queue (the queue as it is then). */
  requeueUpdates: (updates: WriterUpdate[]) => void;
}

export function createBatchSettlement({ stats, log, onAlarms, requeueUpdates }: BatchSettlementOptions) {
  const failedCommitListeners: ((error: Error) => void)[] = [];
  return {
    /** STO-4: `listener` hears every failed commit. */
    onFailed(listener: (error: Error) => void): void {
      failedCommitListeners.push(listener);
    },

    committed(batch: PendingBatch, reply: BatchReply): void {
      stats.batches++;
      stats.lastBatchRows = batch.count;
      stats.lastCommitMs = reply.ms;
      for (const refused of reply.refused) {
        if (refused.storedAnyway) stats.storedUnjudged++;
        else stats.refusedReadings++;
        log.error({ sn: refused.sn, reason: refused.reason, stored_with_fault: refused.storedAnyway }, 'alarm evaluation failed');
      }
      if (reply.alarms.length) onAlarms(reply.alarms);
      const refusal = new Error('alarm evaluation failed; reading not acknowledged');
      for (let i = 0; i < batch.count; i++) {
        const code = reply.inserted[i];
        if (code === REFUSED) {
          stats.failedRows++;
          batch.callbacks[i](refusal, false);
          continue;
        }
        if (code === STORED) stats.rowsCommitted++;
        else stats.duplicates++;
        batch.callbacks[i](null, code === STORED);
      }
    },

    /** `error` null: the writer answered something other than a batch result. */
    failed(batch: PendingBatch, error: Error | null): void {
      stats.failedRows += batch.count;
      log.error({ err: error, rows: batch.count, updates: batch.updates.length }, 'group commit failed; readings not acknowledged');
      for (const listener of failedCommitListeners) listener(error ?? new Error('writer failed'));
      // Status changes, OFFLINE and system alarms are not lost with the batch: they go again first.
      requeueUpdates(batch.updates);
      for (const callback of batch.callbacks) callback(error ?? new Error('writer failed'), false);
    },
  };
}
export type BatchSettlement = ReturnType<typeof createBatchSettlement>;
