// ING-6: the batch being filled for the next group commit. Readings are packed into one growing
// Float64Array (ROW_FIELDS slots each, reading-row.ts) so the whole batch crosses to the writer
// thread as one transferred buffer; beside it the readings' callbacks, in the same order, and the
// queued status / pending-device / system-alarm changes that commit with it. Growing doubles the
// buffer, so appending allocates nothing per reading.
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
