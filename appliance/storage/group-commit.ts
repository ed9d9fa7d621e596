// ING-6: group commit. Readings queue here on the main thread; whenever the writer thread is idle
// the queue goes to it as one transaction (after waiting `commitIntervalMs` for company), and each
// reading's callback runs once its transaction is durable. At most one batch is in flight, so a
// slow disk makes batches larger rather than the queue of transactions longer.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/log.ts';
import { extractedWorker } from '../core/sea-runtime.ts';
import { ROW_FIELDS } from './reading-row.ts';
import type { RollupResult, WriterUpdate } from './reading-store.ts';

export interface WriterThreadOptions {
  file: string;
  synchronous: 'NORMAL' | 'FULL';
  cacheMb: number;
  /** Test hook: caps the database size so the "disk full" path can be exercised for real. */
  maxPageCount?: number;
}

export type WriterRequest =
  | { type: 'batch'; id: number; rows: ArrayBuffer; count: number; updates: WriterUpdate[] }
  | { type: 'rollup'; id: number; now: number }
  | { type: 'delete'; id: number; snId: number; from: number; to: number; receivedBefore: number }
  | { type: 'pruneRollup'; id: number; table: 'readings_1m' | 'readings_1h'; snId: number; before: number }
  | { type: 'maintenance'; id: number }
  | { type: 'close'; id: number };

export type WriterResponse =
  | { type: 'ready'; id: 0 }
  | { type: 'batch'; id: number; inserted: Uint8Array; ms: number }
  | { type: 'rollup'; id: number; result: RollupResult }
  | { type: 'delete'; id: number; deleted: number }
  | { type: 'maintenance'; id: number; result: unknown }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string; code: string };

/** Called once per reading: `inserted` false means a duplicate already stored (ING-4). */
export type CommitCallback = (error: Error | null, inserted: boolean) => void;

export interface GroupCommitOptions extends WriterThreadOptions {
  commitIntervalMs: number;
  commitMaxRows: number;
  log: Logger;
  /**
   * The writer thread died: nothing can be stored or acknowledged any more. The process should
   * exit so the supervisor (systemd) restarts it; detectors resend what was not acknowledged.
   */
  onFatal?: (error: Error) => void;
}

export interface GroupCommitStats {
  queued: number;
  inFlight: number;
  batches: number;
  rowsCommitted: number;
  duplicates: number;
  failedRows: number;
  lastBatchRows: number;
  lastCommitMs: number;
}

interface PendingBatch {
  rows: Float64Array;
  count: number;
  callbacks: CommitCallback[];
  updates: WriterUpdate[];
}

// From source this module is storage/group-commit.ts beside writer-worker.ts; in the bundle
// (appliance/build.ts) it is inside dist/main.js beside dist/writer-worker.js; in the single
// executable the workers are extracted assets (core/sea-runtime.ts).
const fromSource = import.meta.url.endsWith('.ts');
const writerWorkerUrl = () =>
  extractedWorker('writer-worker') ?? new URL(fromSource ? './writer-worker.ts' : './writer-worker.js', import.meta.url);
const checkpointWorkerUrl = () =>
  extractedWorker('checkpoint-worker') ?? new URL(fromSource ? './checkpoint-worker.ts' : './checkpoint-worker.js', import.meta.url);
const CHECKPOINT_EVERY_MS = 1000;

/**
 * Node 20 does not hand the main thread's module hooks (tsx, when running from source) to worker
 * threads, so a `.ts` worker registers tsx itself before loading its entry. A bundled build points
 * at plain JavaScript and starts it directly.
 */
export function startWorker(url: URL, workerData: object): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
  const boot = `
    const { workerData } = require('node:worker_threads');
    import(workerData.boot.tsx).then((tsx) => { tsx.register(); return import(workerData.boot.entry); });`;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  return new Worker(boot, { eval: true, workerData: { ...workerData, boot: { tsx: tsxApi, entry: url.href } } });
}

export function createGroupCommitWriter(options: GroupCommitOptions) {
  const log = options.log.child({ stage: 'writer' });
  let worker: Worker | null = null;
  let checkpointer: Worker | null = null;
  let nextId = 1;
  const replies = new Map<number, { resolve: (r: WriterResponse) => void; reject: (e: Error) => void }>();
  let queue = newBatch(256);
  let inFlight: PendingBatch | null = null;
  let flushTimer: NodeJS.Timeout | null = null;
  let idleWaiters: (() => void)[] = [];
  let stopping = false;
  const stats: GroupCommitStats = {
    queued: 0, inFlight: 0, batches: 0, rowsCommitted: 0, duplicates: 0, failedRows: 0, lastBatchRows: 0, lastCommitMs: 0,
  };

  function newBatch(capacity: number): PendingBatch {
    return { rows: new Float64Array(capacity * ROW_FIELDS), count: 0, callbacks: [], updates: [] };
  }

  function request(message: WriterRequest, transfer: ArrayBuffer[] = []): Promise<WriterResponse> {
    if (!worker) return Promise.reject(new Error('writer is not running'));
    return new Promise((resolve, reject) => {
      replies.set(message.id, { resolve, reject });
      worker!.postMessage(message, transfer);
    });
  }

  function onMessage(message: WriterResponse) {
    const waiter = replies.get(message.id);
    if (!waiter) return;
    replies.delete(message.id);
    if (message.type === 'error') waiter.reject(Object.assign(new Error(message.message), { code: message.code }));
    else waiter.resolve(message);
  }

  const isEmpty = (batch: PendingBatch) => batch.count === 0 && batch.updates.length === 0;

  function scheduleFlush() {
    if (inFlight || flushTimer || isEmpty(queue)) return;
    if (queue.count >= options.commitMaxRows || options.commitIntervalMs === 0) {
      sendQueued();
      return;
    }
    flushTimer = setTimeout(() => {
      flushTimer = null;
      sendQueued();
    }, options.commitIntervalMs);
  }

  function sendQueued() {
    if (inFlight || isEmpty(queue)) return;
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    const batch = queue;
    queue = newBatch(Math.max(256, batch.count));
    inFlight = batch;
    stats.inFlight = batch.count;
    stats.queued = 0;
    const buffer = batch.rows.buffer as ArrayBuffer;
    request({ type: 'batch', id: nextId++, rows: buffer, count: batch.count, updates: batch.updates }, [buffer]).then(
      (reply) => finishBatch(batch, null, reply.type === 'batch' ? reply : null),
      (error: Error) => finishBatch(batch, error, null),
    );
  }

  function finishBatch(batch: PendingBatch, error: Error | null, reply: Extract<WriterResponse, { type: 'batch' }> | null) {
    inFlight = null;
    stats.inFlight = 0;
    if (error || !reply) {
      stats.failedRows += batch.count;
      log.error({ err: error, rows: batch.count, updates: batch.updates.length }, 'group commit failed; readings not acknowledged');
      for (const callback of batch.callbacks) callback(error ?? new Error('writer failed'), false);
    } else {
      stats.batches++;
      stats.lastBatchRows = batch.count;
      stats.lastCommitMs = reply.ms;
      for (let i = 0; i < batch.count; i++) {
        const inserted = reply.inserted[i] === 1;
        if (inserted) stats.rowsCommitted++;
        else stats.duplicates++;
        batch.callbacks[i](null, inserted);
      }
    }
    if (!isEmpty(queue)) sendQueued();
    else {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  return {
    stats,
    async start(): Promise<void> {
      const threadOptions: WriterThreadOptions = {
        file: options.file, synchronous: options.synchronous, cacheMb: options.cacheMb, maxPageCount: options.maxPageCount,
      };
      worker = startWorker(writerWorkerUrl(), threadOptions);
      worker.on('message', onMessage);
      const died = (err: Error) => {
        if (stopping) return;
        stopping = true;
        log.fatal({ err }, 'writer thread died');
        worker = null;
        for (const waiter of replies.values()) waiter.reject(err);
        replies.clear();
        options.onFatal?.(err);
      };
      worker.on('error', died);
      worker.on('exit', (code) => died(new Error(`writer thread exited with code ${code}`)));
      await new Promise<void>((resolve, reject) => {
        replies.set(0, { resolve: () => resolve(), reject });
        worker!.once('error', reject);
      });
      checkpointer = startWorker(checkpointWorkerUrl(), { file: options.file, intervalMs: CHECKPOINT_EVERY_MS, synchronous: options.synchronous });
      checkpointer.on('message', (message: { type: string; message?: string }) => {
        if (message.type === 'error') log.warn({ error: message.message }, 'checkpoint failed');
      });
      checkpointer.on('error', (err) => log.error({ err }, 'checkpointer thread crashed; the writer checkpoints itself'));
    },
    /** Queues one reading; `fill` writes its ROW_FIELDS slots at `offset` of `rows`. */
    enqueue(fill: (rows: Float64Array, offset: number) => void, callback: CommitCallback): void {
      if (!worker) {
        callback(new Error('writer stopped'), false);
        return;
      }
      if ((queue.count + 1) * ROW_FIELDS > queue.rows.length) {
        const grown = new Float64Array(queue.rows.length * 2);
        grown.set(queue.rows);
        queue.rows = grown;
      }
      fill(queue.rows, queue.count * ROW_FIELDS);
      queue.count++;
      queue.callbacks.push(callback);
      stats.queued = queue.count;
      if (queue.count >= options.commitMaxRows && !inFlight) sendQueued();
      else scheduleFlush();
    },
    /** Test hook: kills the writer thread as a native crash would. */
    killThreadForTest: (): Promise<number> | undefined => worker?.terminate(),
    /** Queues a status or pending-device change for the next commit (best effort, never blocks). */
    enqueueUpdate(update: WriterUpdate): void {
      if (!worker) return;
      queue.updates.push(update);
      scheduleFlush();
    },
    backlog: (): number => queue.count + (inFlight?.count ?? 0),
    /** Resolves when everything queued so far is committed (or failed). */
    flush(): Promise<void> {
      if (!inFlight && isEmpty(queue)) return Promise.resolve();
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        sendQueued();
      });
    },
    /** STO-3 roll-ups until caught up, one bounded step at a time so commits interleave. */
    async rollup(now: number): Promise<RollupResult> {
      for (;;) {
        const reply = await request({ type: 'rollup', id: nextId++, now });
        if (reply.type !== 'rollup') throw new Error('unexpected writer reply');
        if (reply.result.caughtUp || !worker) return reply.result;
      }
    },
    /**
     * ARC-2 / STO-4: raw rows leave through the writer thread, between group commits, so a deletion
     * never fights the writer for the lock; one device's range per message keeps each step short.
     */
    async deleteRange(snId: number, from: number, to: number, receivedBefore: number): Promise<number> {
      const reply = await request({ type: 'delete', id: nextId++, snId, from, to, receivedBefore });
      if (reply.type !== 'delete') throw new Error('unexpected writer reply');
      return reply.deleted;
    },
    /** STO-3: one device's roll-up buckets older than `before` (roll-up retention). */
    async pruneRollup(table: 'readings_1m' | 'readings_1h', snId: number, before: number): Promise<number> {
      const reply = await request({ type: 'pruneRollup', id: nextId++, table, snId, before });
      if (reply.type !== 'delete') throw new Error('unexpected writer reply');
      return reply.deleted;
    },
    /** OPS-2: PRAGMA optimize and a TRUNCATE checkpoint on the writer's connection, between commits. */
    async maintenance(): Promise<unknown> {
      const reply = await request({ type: 'maintenance', id: nextId++ });
      if (reply.type !== 'maintenance') throw new Error('unexpected writer reply');
      return reply.result;
    },
    /** Commits what is queued, then closes the checkpointer and the writer (which checkpoints last). */
    async stop(): Promise<void> {
      if (worker) await this.flush();
      stopping = true;
      if (checkpointer) {
        const closed = new Promise((resolve) => checkpointer!.once('exit', resolve));
        checkpointer.postMessage({ type: 'close' });
        await closed;
        checkpointer = null;
      }
      if (!worker) return;
      await request({ type: 'close', id: nextId++ }).catch((err) => log.warn({ err }, 'writer close failed'));
      await worker.terminate();
      worker = null;
    },
  };
}
export type GroupCommitWriter = ReturnType<typeof createGroupCommitWriter>;
