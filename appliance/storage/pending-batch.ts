// ING-6: the batches waiting for the next group commits (a line of them, createBatchQueue below),
// the last one being filled. A batch's readings are packed into one growing Float64Array
// (ROW_FIELDS slots each, reading-row.ts) so the whole batch crosses to the writer thread as one
// transferred buffer; beside it the readings' callbacks, in the same order, and the queued
// status / pending-device / system-alarm changes that commit with it. Growing doubles the buffer,
// so appending allocates nothing per reading.
import { ROW_FIELDS } from './reading-row.ts';
import type { WriterUpdate } from './reading-store.ts';

/** Called once per reading once its batch committed (or failed): `inserted` false means a duplicate already stored (ING-4). */
export type CommitCallback = (error: Error | null, inserted: boolean) => void;

export interface PendingBatch {
  rows: Float64Array;
  count: number;
  callbacks: CommitCallback[];
  updates: WriterUpdate[];
}

/** An empty batch with room for `capacity` readings before it grows. */
export function newBatch(capacity: number): PendingBatch {
  return { rows: new Float64Array(capacity * ROW_FIELDS), count: 0, callbacks: [], updates: [] };
}

export const isEmpty = (batch: PendingBatch): boolean => batch.count === 0 && batch.updates.length === 0;

/** Adds one reading: `fill` writes its ROW_FIELDS slots at `offset` of `rows`; `callback` hears how its commit went. */
export function appendReading(batch: PendingBatch, fill: (rows: Float64Array, offset: number) => void, callback: CommitCallback): void {
  if ((batch.count + 1) * ROW_FIELDS > batch.rows.length) {
    const grown = new Float64Array(batch.rows.length * 2);
    grown.set(batch.rows);
    batch.rows = grown;
  }
  fill(batch.rows, batch.count * ROW_FIELDS);
  batch.count++;
  batch.callbacks.push(callback);
}

/**
 * The readings waiting for the writer: a line of batches of at most `maxRows` readings
 * (`ingest.commit_max_rows`), oldest first, the last one filling. A transaction holds one batch,
 * so behind a slow or full disk the line grows (up to the queue limit), never one transaction:
 * - STO-4: what one commit adds to the WAL stays one batch, the room the disk reserve keeps past
 *   the writer's WAL bound. A backlog of 200,000 readings in one transaction wrote some 10 MB of
 *   WAL at once, past the whole reserve of a small disk (the small-disk test's own prefill of
 *   40,000 readings reached 2.3–2.8 MB of its 3 MB reserve).
 * - ALM-8: the oldest readings of a backlog, and the alarms they raise, are committed and
 *   acknowledged after one batch, not after the whole backlog.
 */
export function createBatchQueue(maxRows: number) {
  const batches: PendingBatch[] = [newBatch(256)];
  let count = 0;
  const filling = () => batches[batches.length - 1];
  const empty = () => batches.length === 1 && isEmpty(batches[0]);
  return {
    /** Readings waiting (not in flight). */
    get count(): number {
      return count;
    },
    isEmpty: empty,
    /** A batch is full: it should go without waiting for company. */
    hasFullBatch: (): boolean => batches[0].count >= maxRows,
    append(fill: (rows: Float64Array, offset: number) => void, callback: CommitCallback): void {
      if (filling().count >= maxRows) batches.push(newBatch(Math.min(maxRows, 4096)));
      appendReading(filling(), fill, callback);
      count++;
    },
    /** A status, pending-device or system-alarm change: it commits with the readings queued so far. */
    pushUpdate(update: WriterUpdate): void {
      filling().updates.push(update);
    },
    /** The changes of a failed commit go back to the front of the line. */
    requeueUpdates(updates: WriterUpdate[]): void {
      batches[0].updates.unshift(...updates);
    },
    /** The oldest batch, out of the line; null when nothing waits. */
    take(): PendingBatch | null {
      if (empty()) return null;
      const batch = batches.shift()!;
      if (!batches.length) batches.push(newBatch(Math.max(256, Math.min(batch.count, maxRows))));
      count -= batch.count;
      return batch;
    },
  };
}
export type BatchQueue = ReturnType<typeof createBatchQueue>;
