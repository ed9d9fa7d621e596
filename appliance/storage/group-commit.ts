// ING-6: group commit. Readings queue here on the main thread; whenever the writer thread is idle
// the queue goes to it as one transaction (after waiting `commitIntervalMs` for company), and each
// reading's callback runs once its transaction is durable. At most one batch is in flight, so a
// slow disk makes batches larger rather than the queue of transactions longer. The queue itself is
// bounded (`ingest.queue_limit`): beyond it a reading is refused at once, not acknowledged (issue 16.8).
import { Worker } from 'node:worker_threads';
import { DEFAULT_ALARM_COMMIT_SETTINGS, type AlarmCommitSettings, type AlarmEvent, type AlarmRecord } from '../contract/alarm.ts';
import type { OpenMask } from '../contract/masking.ts';
import type { Logger } from '../core/log.ts';
import { startWorker, workerUrl } from '../core/worker-thread.ts';
import { createCheckpointer } from './checkpointer.ts';
import { ROW_FIELDS } from './reading-row.ts';
import { REFUSED, STORED, type RollupResult, type WriterUpdate } from './reading-store.ts';
import type { CheckpointResult, WriterRequest, WriterResponse, WriterThreadOptions } from './writer-protocol.ts';

/** The error code of a reading refused because the group-commit queue is at `queueLimit`. */
export const QUEUE_FULL = 'QUEUE_FULL';

/** Called once per reading once its batch committed (or failed): `inserted` false means a duplicate already stored (ING-4). */
export type CommitCallback = (error: Error | null, inserted: boolean) => void;

export interface GroupCommitOptions extends Omit<WriterThreadOptions, 'alarmSettings'> {
  commitIntervalMs: number;
  commitMaxRows: number;
  /** Readings queued or in flight at most; beyond it `enqueue` refuses at once (QUEUE_FULL). Default: unbounded. */
  queueLimit?: number;
  log: Logger;
  /** The current alarm settings; sent to the writer with the next batch when they changed. Default: the defaults. */
  alarmSettings?: () => AlarmCommitSettings;
  /**
   * The alarm events of a commit, called after the commit and before the readings' callbacks
   * (PUBACKs): the main thread's alarm picture follows committed results only (ALM-8).
   */
  onAlarms?: (events: AlarmEvent[]) => void;
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
  /** Readings refused because their alarm evaluation failed (not acknowledged), and those stored anyway with a FAULT. */
  refusedReadings: number;
  storedUnjudged: number;
  /** Readings refused because the queue was at its limit (issue 16.8; not acknowledged). */
  queueRefused: number;
  lastBatchRows: number;
  lastCommitMs: number;
}

interface PendingBatch {
  rows: Float64Array;
  count: number;
  callbacks: CommitCallback[];
  updates: WriterUpdate[];
}

const DEFAULT_WAL_LIMIT_BYTES = 64 * 1024 * 1024;

/** A commit failed in a way that may mean the disk is full (STO-4: the disk guard looks at once). */
export const isDiskError = (error: Error | null): boolean => /^SQLITE_(FULL|IOERR)/.test((error as { code?: string } | null)?.code ?? '');

export function createGroupCommitWriter(options: GroupCommitOptions) {
  const log = options.log.child({ stage: 'writer' });
  const currentAlarmSettings = options.alarmSettings ?? (() => DEFAULT_ALARM_COMMIT_SETTINGS);
  const onAlarms = options.onAlarms ?? (() => {});
  let worker: Worker | null = null;
  // STO-4: the checkpointer thread copies the WAL back beside the writer (storage/checkpointer.ts).
  const checkpointer = createCheckpointer({
    file: options.file, synchronous: options.synchronous, walLimitBytes: options.walLimitBytes ?? DEFAULT_WAL_LIMIT_BYTES, log,
  });
  let nextId = 1;
  const replies = new Map<number, { resolve: (r: WriterResponse) => void; reject: (e: Error) => void }>();
  let queue = newBatch(256);
  let inFlight: PendingBatch | null = null;
  let flushTimer: NodeJS.Timeout | null = null;
  let idleWaiters: (() => void)[] = [];
  let stopping = false;
  const stats: GroupCommitStats = {
    queued: 0, inFlight: 0, batches: 0, rowsCommitted: 0, duplicates: 0, failedRows: 0, refusedReadings: 0, storedUnjudged: 0,
    queueRefused: 0, lastBatchRows: 0, lastCommitMs: 0,
  };
  const queueLimit = options.queueLimit ?? Infinity;
  /** Refusing since the queue reached its limit: said once when it starts and once when it ends. */
  let refusingSince = 0;
  const failedCommitListeners: ((error: Error) => void)[] = [];
  let sentSettings: AlarmCommitSettings | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  /** After a failed commit the queued updates (status, OFFLINE, system alarms) are tried again this much later. */
  const RETRY_UPDATES_MS = 500;
  /**
   * STO-4: after a commit failed on the disk the next batch waits this long, gathering readings
   * (up to the queue limit), so the disk guard's checkpoint and deletions get the writer instead of
   * a retry storm against a full disk.
   */
  const DISK_RETRY_MS = 100;
  let diskRetryTimer: NodeJS.Timeout | null = null;
  let walWarnedAt = -Infinity;
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
    if (message.type === 'warning') {
      if (performance.now() - walWarnedAt < 10_000) return; // said once in 10 s, not per attempt
      walWarnedAt = performance.now();
      log.warn({ problem: message.message }, 'writer: WAL over its bound');
      return;
    }
    const waiter = replies.get(message.id);
    if (!waiter) return;
    replies.delete(message.id);
    if (message.type === 'error') waiter.reject(Object.assign(new Error(message.message), { code: message.code }));
    else waiter.resolve(message);
  }

  const isEmpty = (batch: PendingBatch) => batch.count === 0 && batch.updates.length === 0;

  function scheduleFlush() {
    if (inFlight || flushTimer || diskRetryTimer || isEmpty(queue)) return;
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
    const settings = currentAlarmSettings();
    const alarmSettings = settings === sentSettings ? undefined : settings;
    sentSettings = settings;
    request({ type: 'batch', id: nextId++, rows: buffer, count: batch.count, updates: batch.updates, alarmSettings }, [buffer]).then(
      (reply) => finishBatch(batch, null, reply.type === 'batch' ? reply : null),
      (error: Error) => finishBatch(batch, error, null),
    );
  }

  function finishBatch(batch: PendingBatch, error: Error | null, reply: Extract<WriterResponse, { type: 'batch' }> | null) {
    inFlight = null;
    stats.inFlight = 0;
    if (error || !reply) {
      stats.failedRows += batch.count;
      sentSettings = null; // the settings may not have arrived
      log.error({ err: error, rows: batch.count, updates: batch.updates.length }, 'group commit failed; readings not acknowledged');
      for (const listener of failedCommitListeners) listener(error ?? new Error('writer failed'));
      // Status changes, OFFLINE and system alarms are not lost with the batch: they go again first.
      queue.updates.unshift(...batch.updates);
      for (const callback of batch.callbacks) callback(error ?? new Error('writer failed'), false);
      if (isDiskError(error) && !stopping) {
        diskRetryTimer ??= setTimeout(() => {
          diskRetryTimer = null;
          sendQueued();
        }, DISK_RETRY_MS);
        if (queue.count === 0) wakeIdleWaiters();
        return;
      }
      if (queue.count === 0) {
        // Only those updates wait: tried again shortly, not in a busy loop against a full disk.
        if (queue.updates.length && !stopping) {
          retryTimer ??= setTimeout(() => {
            retryTimer = null;
            sendQueued();
          }, RETRY_UPDATES_MS);
        }
        wakeIdleWaiters();
        return;
      }
    } else {
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
    }
    if (!isEmpty(queue)) sendQueued();
    else wakeIdleWaiters();
  }

  /** Issue 16.8: beyond `queueLimit` a reading is refused at once (no PUBACK; the detector resends). */
  function refuseQueueFull(callback: CommitCallback) {
    stats.queueRefused++;
    if (!refusingSince) {
      refusingSince = stats.queueRefused;
      log.warn({ queue_limit: queueLimit, backlog: queue.count + (inFlight?.count ?? 0) }, 'ingest queue full; readings refused (not acknowledged) until the writer catches up');
    }
    callback(Object.assign(new Error(`ingest queue full (${queueLimit} readings waiting); reading not acknowledged`), { code: QUEUE_FULL }), false);
  }

  function wakeIdleWaiters() {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  }

  return {
    stats,
    async start(): Promise<void> {
      const alarmSettings = currentAlarmSettings();
      sentSettings = alarmSettings;
      const threadOptions: WriterThreadOptions = {
        file: options.file, synchronous: options.synchronous, cacheMb: options.cacheMb, maxPageCount: options.maxPageCount,
        walLimitBytes: options.walLimitBytes, reserveBytes: options.reserveBytes, alarmSettings, failEvaluation: options.failEvaluation,
      };
      worker = startWorker(workerUrl('writer-worker', import.meta.url), threadOptions);
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
      const ready = await new Promise<WriterResponse>((resolve, reject) => {
        replies.set(0, { resolve, reject });
        worker!.once('error', reject);
      });
      if (ready.type === 'ready') {
        for (const failure of ready.failures) log.error({ failure }, 'alarm evaluation failed');
        if (ready.alarms.length) log.info({ changes: ready.alarms.length }, 'alarms reconciled with the latest readings (ALM-8)');
        onAlarms(ready.alarms);
      }
      checkpointer.start();
    },
    /** Queues one reading; `fill` writes its ROW_FIELDS slots at `offset` of `rows`. */
    enqueue(fill: (rows: Float64Array, offset: number) => void, callback: CommitCallback): void {
      if (!worker) {
        callback(new Error('writer stopped'), false);
        return;
      }
      if (queue.count + (inFlight?.count ?? 0) >= queueLimit) {
        refuseQueueFull(callback);
        return;
      }
      if (refusingSince) {
        log.warn({ refused: stats.queueRefused - refusingSince + 1 }, 'ingest queue below its limit again; readings accepted');
        refusingSince = 0;
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
      if (queue.count >= options.commitMaxRows && !inFlight && !diskRetryTimer) sendQueued();
      else scheduleFlush();
    },
    /** Test hook: kills the writer thread as a native crash would. */
    killThreadForTest: (): Promise<number> | undefined => worker?.terminate(),
    /**
     * Queues a status, pending-device or system-alarm change for the next commit (never blocks).
     * A failed commit puts it back in the queue; it is lost only when the writer stopped.
     */
    enqueueUpdate(update: WriterUpdate): void {
      if (!worker) {
        log.warn({ op: update.op }, 'writer stopped: change not recorded');
        return;
      }
      queue.updates.push(update);
      scheduleFlush();
    },
    /** ALM-2/ALM-7: acknowledges in one transaction on the writer's connection; the events of what changed. */
    async acknowledge(ids: number[], by: string, comment: string, at: number): Promise<AlarmRecord[]> {
      const reply = await request({ type: 'ack', id: nextId++, ids, by, comment, at });
      if (reply.type !== 'alarms') throw new Error('unexpected writer reply');
      if (reply.alarms.length) onAlarms(reply.alarms);
      return reply.alarms.map((event) => event.alarm);
    },
    /** GB 16808 消音: journals that `by` (a kiosk) silenced these alarms' sound (ALM-12); how many. */
    async silence(ids: number[], by: string, at: number): Promise<number> {
      const reply = await request({ type: 'silence', id: nextId++, ids, by, at });
      if (reply.type !== 'silenced') throw new Error('unexpected writer reply');
      return reply.count;
    },
    /** Issue 15.1: masks the detectors until `until`, in one transaction on the writer; the masks made. */
    async mask(sns: string[], reason: string, by: string, at: number, until: number): Promise<OpenMask[]> {
      const reply = await request({ type: 'mask', id: nextId++, sns, reason, by, at, until });
      if (reply.type !== 'masks') throw new Error('unexpected writer reply');
      if (reply.alarms.length) onAlarms(reply.alarms);
      return reply.masks;
    },
    /** Issue 15.1: ends these detectors' masks (null: those expired at `at`), queuing what they held back; the masks ended. */
    async unmask(sns: string[] | null, by: string, at: number): Promise<OpenMask[]> {
      const reply = await request({ type: 'unmask', id: nextId++, sns, by, at });
      if (reply.type !== 'masks') throw new Error('unexpected writer reply');
      if (reply.alarms.length) onAlarms(reply.alarms);
      return reply.masks;
    },
    backlog: (): number => queue.count + (inFlight?.count ?? 0),
    /** STO-4: `listener` hears every failed commit (the disk guard looks at the disk at once). */
    onCommitFailed(listener: (error: Error) => void): void {
      failedCommitListeners.push(listener);
    },
    /**
     * STO-4: a TRUNCATE checkpoint on the checkpointer's connection: the WAL copied back and emptied
     * (it waits for the writer's next pause; `busy` 1 if a reader kept it from finishing).
     */
    checkpoint: (): Promise<CheckpointResult> => checkpointer.checkpoint(),
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
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      if (diskRetryTimer) clearTimeout(diskRetryTimer);
      diskRetryTimer = null;
      await checkpointer.stop();
      if (!worker) return;
      await request({ type: 'close', id: nextId++ }).catch((err) => log.warn({ err }, 'writer close failed'));
      await worker.terminate();
      worker = null;
    },
  };
}
export type GroupCommitWriter = ReturnType<typeof createGroupCommitWriter>;
