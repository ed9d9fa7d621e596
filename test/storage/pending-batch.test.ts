// ING-6: the batch being filled for the next group commit (storage/pending-batch.ts), a pure state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendReading, createBatchQueue, isEmpty, newBatch, type CommitCallback } from '../../appliance/storage/pending-batch.ts';
import { F_SEQ, F_SN_ID, ROW_FIELDS } from '../../appliance/storage/reading-row.ts';
import type { WriterUpdate } from '../../appliance/storage/reading-store.ts';

const fillReading = (snId: number, seq: number) => (rows: Float64Array, offset: number) => {
  rows[offset + F_SN_ID] = snId;
  rows[offset + F_SEQ] = seq;
};

test('a new batch is empty until it holds a reading or an update', () => {
  const batch = newBatch(4);
  assert.equal(batch.rows.length, 4 * ROW_FIELDS);
  assert.equal(isEmpty(batch), true);
  batch.updates.push({ op: 'status', sn: 'PB-1', status: 'offline', lastSeen: null, reason: 'test', at: 0 });
  assert.equal(isEmpty(batch), false, 'an update alone is work for the writer');
  const withReading = newBatch(4);
  appendReading(withReading, fillReading(1, 1), () => {});
  assert.equal(isEmpty(withReading), false);
});

test('readings are packed ROW_FIELDS slots apart in arrival order, each callback beside its reading', () => {
  const batch = newBatch(4);
  const callbacks: CommitCallback[] = [() => {}, () => {}, () => {}];
  const buffer = batch.rows;
  for (let i = 0; i < 3; i++) appendReading(batch, fillReading(7, 100 + i), callbacks[i]);
  assert.equal(batch.count, 3);
  assert.equal(batch.rows, buffer, 'within its capacity the batch allocates nothing per reading');
  assert.deepEqual([0, 1, 2].map((i) => batch.rows[i * ROW_FIELDS + F_SEQ]), [100, 101, 102]);
  assert.deepEqual(batch.callbacks, callbacks);
});

test('beyond its capacity the buffer doubles and keeps the readings already packed', () => {
  const batch = newBatch(2);
  for (let i = 0; i < 5; i++) appendReading(batch, fillReading(3, i), () => {});
  assert.equal(batch.count, 5);
  assert.equal(batch.rows.length, 8 * ROW_FIELDS, 'doubled twice: 2 → 4 → 8 readings');
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => batch.rows[i * ROW_FIELDS + F_SEQ]), [0, 1, 2, 3, 4]);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => batch.rows[i * ROW_FIELDS + F_SN_ID]), [3, 3, 3, 3, 3]);
  assert.equal(batch.callbacks.length, 5);
});

const update = (sn: string) => ({ op: 'status' as const, sn, status: 'offline' as const, lastSeen: null, reason: 'test', at: 0 });
const snsOf = (updates: WriterUpdate[]) => updates.map((u) => ('sn' in u ? u.sn : u.op));
const seqsOf = (batch: { rows: Float64Array; count: number }) => Array.from({ length: batch.count }, (_, i) => batch.rows[i * ROW_FIELDS + F_SEQ]);

test('STO-4: the line holds batches of at most maxRows readings, oldest first, in arrival order', () => {
  const queue = createBatchQueue(4);
  assert.equal(queue.take(), null, 'nothing waits');
  for (let seq = 0; seq < 10; seq++) queue.append(fillReading(1, seq), () => {});
  assert.equal(queue.count, 10);
  assert.equal(queue.hasFullBatch(), true, 'a full batch goes without waiting for company');
  const taken = [queue.take()!, queue.take()!, queue.take()!];
  assert.deepEqual(taken.map(seqsOf), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], 'no transaction grows past maxRows');
  assert.deepEqual(taken.map((b) => b.callbacks.length), [4, 4, 2], 'each reading keeps its callback');
  assert.equal(queue.count, 0);
  assert.equal(queue.isEmpty(), true);
  assert.equal(queue.take(), null);
  queue.append(fillReading(1, 10), () => {});
  assert.equal(queue.hasFullBatch(), false, 'a batch that is not full waits for company');
});

test('STO-4: an update commits with the readings queued before it; a failed commit’s updates go to the front', () => {
  const queue = createBatchQueue(2);
  for (let seq = 0; seq < 3; seq++) queue.append(fillReading(1, seq), () => {});
  queue.pushUpdate(update('LATE'));
  assert.equal(queue.isEmpty(), false);
  queue.requeueUpdates([update('FAILED-1'), update('FAILED-2')]);
  const first = queue.take()!;
  assert.deepEqual(snsOf(first.updates), ['FAILED-1', 'FAILED-2'], 'what failed goes again first');
  const second = queue.take()!;
  assert.deepEqual(seqsOf(second), [2]);
  assert.deepEqual(snsOf(second.updates), ['LATE'], 'not before the readings queued ahead of it');
  queue.pushUpdate(update('ALONE'));
  assert.equal(queue.count, 0);
  assert.equal(queue.isEmpty(), false, 'an update alone is work for the writer');
  assert.deepEqual(snsOf(queue.take()!.updates), ['ALONE']);
});
