// ING-6 / ALM-8: settling an answered batch (storage/batch-settlement.ts) on its own: stats, the
// order of alarm events before PUBACK callbacks, and what a failed batch gives back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlarmEvent } from '../../appliance/contract/alarm.ts';
import { createBatchSettlement, type BatchReply } from '../../appliance/storage/batch-settlement.ts';
import type { GroupCommitStats } from '../../appliance/storage/group-commit.ts';
import { appendReading, newBatch, type PendingBatch } from '../../appliance/storage/pending-batch.ts';
import { DUPLICATE, REFUSED, STORED, type WriterUpdate } from '../../appliance/storage/reading-store.ts';
import { captureLogger } from '../helpers/appliance.ts';

const emptyStats = (): GroupCommitStats => ({
  queued: 0, inFlight: 0, batches: 0, rowsCommitted: 0, duplicates: 0, failedRows: 0, refusedReadings: 0, storedUnjudged: 0,
  queueRefused: 0, lastBatchRows: 0, lastCommitMs: 0,
});

const raised: AlarmEvent = {
  kind: 'raised',
  alarm: {
    id: 1, sn: 'BS-1', source: 'BS-1', type: 'HIGH', state: 'active', level: 1, priority: 'high', latched: 0, value: 60, threshold: 50,
    peak: 60, detail: null, triggered_at: 1000, cleared_at: null, repeat_count: 0, notified_at: null, ack_at: null, ack_by: null,
    ack_comment: null, updated_at: 1000,
  },
};
const offline: WriterUpdate = { op: 'status', sn: 'BS-2', status: 'offline', lastSeen: null, reason: 'test', at: 0 };

/** A batch of `n` readings whose callbacks write what they heard into `heard`, in order. */
function batchOf(n: number, heard: string[]): PendingBatch {
  const batch = newBatch(n);
  for (let i = 0; i < n; i++) {
    appendReading(batch, () => {}, (error, inserted) => heard.push(`reading ${i}: ${error ? error.message : inserted ? 'stored' : 'duplicate'}`));
  }
  return batch;
}

function setup() {
  const { log, lines } = captureLogger();
  const stats = emptyStats();
  const heard: string[] = [];
  const requeued: WriterUpdate[][] = [];
  const settle = createBatchSettlement({
    stats, log,
    onAlarms: (events) => heard.push(`alarms: ${events.map((event) => event.kind).join(',')}`),
    requeueUpdates: (updates) => {
      heard.push('updates requeued');
      requeued.push(updates);
    },
  });
  return { settle, stats, heard, requeued, lines };
}

test('a committed batch: the alarm events first, then each reading once in order: stored, duplicate, or refused (not acknowledged)', () => {
  const { settle, stats, heard, lines } = setup();
  const batch = batchOf(4, heard);
  const reply: BatchReply = {
    type: 'batch', id: 1, inserted: Uint8Array.from([STORED, DUPLICATE, REFUSED, STORED]), alarms: [raised], ms: 7,
    refused: [{ sn: 'BS-1', reason: 'rule failed', storedAnyway: false }, { sn: 'BS-3', reason: 'rule failed again', storedAnyway: true }],
  };
  settle.committed(batch, reply);
  assert.deepEqual(heard, [
    'alarms: raised',
    'reading 0: stored',
    'reading 1: duplicate',
    'reading 2: alarm evaluation failed; reading not acknowledged',
    'reading 3: stored',
  ]);
  assert.deepEqual(
    { batches: stats.batches, lastBatchRows: stats.lastBatchRows, lastCommitMs: stats.lastCommitMs, rowsCommitted: stats.rowsCommitted, duplicates: stats.duplicates, failedRows: stats.failedRows, refusedReadings: stats.refusedReadings, storedUnjudged: stats.storedUnjudged },
    { batches: 1, lastBatchRows: 4, lastCommitMs: 7, rowsCommitted: 2, duplicates: 1, failedRows: 1, refusedReadings: 1, storedUnjudged: 1 },
  );
  assert.deepEqual(lines.map((line) => [line.msg, line.sn, line.stored_with_fault]), [
    ['alarm evaluation failed', 'BS-1', false],
    ['alarm evaluation failed', 'BS-3', true],
  ]);
});

test('a committed batch without alarm events does not call onAlarms', () => {
  const { settle, heard } = setup();
  settle.committed(batchOf(1, heard), { type: 'batch', id: 2, inserted: Uint8Array.from([STORED]), alarms: [], refused: [], ms: 1 });
  assert.deepEqual(heard, ['reading 0: stored']);
});

test('a failed batch is said, the listeners hear it, its updates go back to the queue, then every reading gets the error', () => {
  const { settle, stats, heard, requeued, lines } = setup();
  settle.onFailed((error) => heard.push(`listener: ${error.message}`));
  const batch = batchOf(2, heard);
  batch.updates.push(offline);
  settle.failed(batch, Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
  assert.deepEqual(heard, [
    'listener: database or disk is full',
    'updates requeued',
    'reading 0: database or disk is full',
    'reading 1: database or disk is full',
  ]);
  assert.deepEqual(requeued, [[offline]]);
  assert.equal(stats.failedRows, 2);
  assert.equal(stats.batches, 0);
  assert.equal(lines.length, 1);
  assert.equal(lines[0].level, 50, 'a failed commit is an error');
  assert.equal(lines[0].rows, 2);
});

test('a batch the writer answered with something else fails with "writer failed"', () => {
  const { settle, heard } = setup();
  settle.onFailed((error) => heard.push(`listener: ${error.message}`));
  settle.failed(batchOf(1, heard), null);
  assert.deepEqual(heard, ['listener: writer failed', 'updates requeued', 'reading 0: writer failed']);
});
