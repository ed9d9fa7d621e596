// ING-6: group commit. Readings queue here on the main thread; whenever the writer thread is idle
// the oldest batch goes to it as one transaction (after waiting `commitIntervalMs` for company),
// and each reading's callback runs once its transaction is durable. At most one batch is in
// flight, and a batch holds at most `commitMaxRows` readings: a slow disk makes batches fuller and
// then the line of them longer, never one transaction without bound (STO-4, pending-batch.ts).
// The line itself is bounded (`ingest.queue_limit`): beyond it a reading is refused at once, not
// acknowledged (issue 16.8).
// This module owns when a batch goes (and when it goes again after a failure); its parts are the
// line of batches being filled (pending-batch.ts), the line's bound (queue-limit.ts), the channel
// to the writer thread (writer-channel.ts), the settling of an answered batch into callbacks and
// stats (batch-settlement.ts), the writer's other requests (writer-requests.ts) and the checkpointer.
import { DEFAULT_ALARM_COMMIT_SETTINGS, type AlarmCommitSettings, type AlarmEvent } from '../contract/alarm.ts';
import type { Logger } from '../core/log.ts';
import { createBatchSettlement, type BatchReply } from './batch-settlement.ts';
import { createCheckpointer } from './checkpointer.ts';
import { createBatchQueue, type CommitCallback, type PendingBatch } from './pending-batch.ts';
import { createQueueLimit } from './queue-limit.ts';
import type { WriterUpdate } from './reading-store.ts';
import { createWriterChannel } from './writer-channel.ts';
import type { CheckpointResult, WriterThreadOptions } from './writer-protocol.ts';
import { createWriterRequests } from './writer-requests.ts';

export { QUEUE_FULL } from './queue-limit.ts';
export type { CommitCallback } from './pending-batch.ts';

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

const DEFAULT_WAL_LIMIT_BYTES = 64 * 1024 * 1024;
/** After a failed commit the queued updates (status, OFFLINE, system alarms) are tried again this much later. */
const RETRY_UPDATES_MS = 500;
/**
 * STO-4: after a commit failed on the disk the next batch waits this long, gathering readings
 * (up to the queue limit), so the disk guard's checkpoint and deletions get the writer instead of
 * a retry storm against a full disk.
 */
const DISK_RETRY_MS = 100;

/** A commit failed in a way that may mean the disk is full (STO-4: the disk guard looks at once). */
export const isDiskError = (error: Error | null): boolean => /^SQLITE_(FULL|IOERR)/.test((error as { code?: string } | null)?.code ?? '');

export function createGroupCommitWriter(options: GroupCommitOptions) {
  const log = options.log.child({ stage: 'writer' });
  const currentAlarmSettings = options.alarmSettings ?? (() => DEFAULT_ALARM_COMMIT_SETTINGS);
  const onAlarms = options.onAlarms ?? (() => {});
  const stats: GroupCommitStats = {
    queued: 0, inFlight: 0, batches: 0, rowsCommitted: 0, duplicates: 0, failedRows: 0, refusedReadings: 0, storedUnjudged: 0,
    queueRefused: 0, lastBatchRows: 0, lastCommitMs: 0,
  };
  const channel = createWriterChannel(log);
  // STO-4: the checkpointer thread copies the WAL back beside the writer (storage/checkpointer.ts).
  const checkpointer = createCheckpointer({
    file: options.file, synchronous: options.synchronous, walLimitBytes: options.walLimitBytes ?? DEFAULT_WAL_LIMIT_BYTES, log,
  });
  const queueLimit = createQueueLimit({ limit: options.queueLimit ?? Infinity, stats, log });
  const queue = createBatchQueue(options.commitMaxRows);
  let inFlight: PendingBatch | null = null;
  const settle = createBatchSettlement({ stats, log, onAlarms, requeueUpdates: (updates) => queue.requeueUpdates(updates) });
  let flushTimer: NodeJS.Timeout | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let diskRetryTimer: NodeJS.Timeout | null = null;
  let idleWaiters: (() => void)[] = [];
  let stopping = false;
  /** The alarm settings the writer thread was last sent: a batch carries them only when they changed. */
  let sentSettings: AlarmCommitSettings | null = null;

  const backlog = (): number => queue.count + (inFlight?.count ?? 0);

  function scheduleFlush() {
    if (inFlight || flushTimer || diskRetryTimer || queue.isEmpty()) return;
    if (queue.hasFullBatch() || options.commitIntervalMs === 0) {
      sendQueued();
      return;
    }
    flushTimer = setTimeout(() => {
      flushTimer = null;
      sendQueued();
    }, options.commitIntervalMs);
  }

  function sendQueued() {
    if (inFlight || queue.isEmpty()) return;
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    const batch = queue.take()!;
    inFlight = batch;
    stats.inFlight = batch.count;
    stats.queued = queue.count;
    const buffer = batch.rows.buffer as ArrayBuffer;
    const settings = currentAlarmSettings();
    const alarmSettings = settings === sentSettings ? undefined : settings;
    sentSettings = settings;
    channel.request({ type: 'batch', rows: buffer, count: batch.count, updates: batch.updates, alarmSettings }, [buffer]).then(
      (reply) => finishBatch(batch, null, reply.type === 'batch' ? reply : null),
      (error: Error) => finishBatch(batch, error, null),
    );
  }

  function finishBatch(batch: PendingBatch, error: Error | null, reply: BatchReply | null) {
    inFlight = null;
    stats.inFlight = 0;
    if (error || !reply) {
      sentSettings = null; // the settings may not have arrived
      settle.failed(batch, error);
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
        if (!queue.isEmpty() && !stopping) {
          retryTimer ??= setTimeout(() => {
            retryTimer = null;
            sendQueued();
          }, RETRY_UPDATES_MS);
        }
        wakeIdleWaiters();
        return;
      }
    } else {
      settle.committed(batch, reply);
    }
    if (!queue.isEmpty()) sendQueued();
    else wakeIdleWaiters();
  }

  function wakeIdleWaiters() {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** The writer thread died (not stopped): nothing can be stored or acknowledged any more. */
  function died(err: Error) {
    if (stopping) return;
    stopping = true;
    log.fatal({ err }, 'writer thread died');
    channel.lost(err);
    options.onFatal?.(err);
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
      const ready = await channel.start(threadOptions, died);
      if (ready.type === 'ready') {
        for (const failure of ready.failures) log.error({ failure }, 'alarm evaluation failed');
        if (ready.alarms.length) log.info({ changes: ready.alarms.length }, 'alarms reconciled with the latest readings (ALM-8)');
        onAlarms(ready.alarms);
      }
      checkpointer.start();
    },
    /** Queues one reading; `fill` writes its ROW_FIELDS slots at `offset` of `rows`. */
    enqueue(fill: (rows: Float64Array, offset: number) => void, callback: CommitCallback): void {
      if (!channel.running()) {
        callback(new Error('writer stopped'), false);
        return;
      }
      if (!queueLimit.admits(backlog(), callback)) return;
      queue.append(fill, callback);
      stats.queued = queue.count;
      if (queue.hasFullBatch() && !inFlight && !diskRetryTimer) sendQueued();
      else scheduleFlush();
    },
    /** Test hook: kills the writer thread as a native crash would. */
    killThreadForTest: (): Promise<number> | undefined => channel.killForTest(),
    /**
     * Queues a status, pending-device or system-alarm change for the next commit (never blocks).
     * A failed commit puts it back in the queue; it is lost only when the writer stopped.
     */
    enqueueUpdate(update: WriterUpdate): void {
      if (!channel.running()) {
        log.warn({ op: update.op }, 'writer stopped: change not recorded');
        return;
      }
      queue.pushUpdate(update);
      scheduleFlush();
    },
    // Acknowledgements, silences, masks, roll-ups, deletions and maintenance: between the commits.
    ...createWriterRequests(channel, onAlarms),
    backlog,
    /** STO-4: `listener` hears every failed commit (the disk guard looks at the disk at once). */
    onCommitFailed(listener: (error: Error) => void): void {
      settle.onFailed(listener);
    },
    /**
     * STO-4: a TRUNCATE checkpoint on the checkpointer's connection: the WAL copied back and emptied
     * (it waits for the writer's next pause; `busy` 1 if a reader kept it from finishing).
     */
    checkpoint: (): Promise<CheckpointResult> => checkpointer.checkpoint(),
    /** Resolves when everything queued so far is committed (or failed). */
    flush(): Promise<void> {
      if (!inFlight && queue.isEmpty()) return Promise.resolve();
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        sendQueued();
      });
    },
    /** Commits what is queued, then closes the checkpointer and the writer (which checkpoints last). */
    async stop(): Promise<void> {
      if (channel.running()) await this.flush();
      stopping = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      if (diskRetryTimer) clearTimeout(diskRetryTimer);
      diskRetryTimer = null;
      await checkpointer.stop();
      if (!channel.running()) return;
      await channel.request({ type: 'close' }).catch((err) => log.warn({ err }, 'writer close failed'));
      await channel.terminate();
    },
  };
}
export type GroupCommitWriter = ReturnType<typeof createGroupCommitWriter>;
