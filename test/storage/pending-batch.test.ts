// ING-6: the batch being filled for the next group commit (storage/pending-batch.ts), a pure state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendReading, isEmpty, newBatch, type CommitCallback } from '../../appliance/storage/pending-batch.ts';
import { F_SEQ, F_SN_ID, ROW_FIELDS } from '../../appliance/storage/reading-row.ts';

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
