// ALM-6: reliable delivery. Every notification is a row in notification_outbox before anything is
// sent; a worker sends due rows with a per-channel concurrency limit and a timeout, records every
// attempt, retries with exponential backoff up to a cap, and reports a channel that keeps failing
// (a system alarm). Sending is asynchronous network work: it never blocks ingestion, and a slow or
// dead channel only occupies its own slots.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Db } from '../storage/db.ts';

export interface OutboxRow {
  id: number;
  alarm_id: number | null;
  event: string;
  channel: string;
  /** ALM-13: the escalation step (1, 2) of a notification to the escalation recipients; null otherwise. */
  escalation_step: number | null;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface AttemptRow {
  id: number;
  outbox_id: number;
  at: number;
  ok: number;
  detail: string | null;
  duration_ms: number;
}

export type DeliveryResult = { ok: true; detail: string } | { ok: false; detail: string; retryable: boolean };
export type Deliver = (row: OutboxRow, signal: AbortSignal) => Promise<DeliveryResult>;

export interface OutboxOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  deliver: Deliver;
  perChannelConcurrency?: number;
  timeoutMs?: number;
  pollMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  maxAttempts?: number;
  /** Consecutive failed attempts of one channel that make it "failing" (a CHANNEL system alarm). */
  failingAfter?: number;
  onChannelFailing?: (channel: string, detail: string) => void;
  onChannelRecovered?: (channel: string) => void;
}

export function createOutbox(options: OutboxOptions) {
  const { db, clock, deliver } = options;
  const log = options.log.child({ stage: 'outbox' });
  const concurrency = options.perChannelConcurrency ?? 2;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const baseBackoffMs = options.baseBackoffMs ?? 10_000;
  const maxBackoffMs = options.maxBackoffMs ?? 30 * 60_000;
  const maxAttempts = options.maxAttempts ?? 12;
  const failingAfter = options.failingAfter ?? 3;

  const insert = db.prepare(`
    INSERT INTO notification_outbox (alarm_id, event, channel, status, next_attempt_at, created_at, updated_at)
    VALUES (@alarmId, @event, @channel, 'pending', @now, @now, @now)`);
  const due = db.prepare<[number, number], OutboxRow>(`
    SELECT * FROM notification_outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`);
  const byId = db.prepare<[number], OutboxRow>('SELECT * FROM notification_outbox WHERE id = ?');
  const byAlarm = db.prepare<[number], OutboxRow>('SELECT * FROM notification_outbox WHERE alarm_id = ? ORDER BY id');
  const recordAttempt = db.prepare(
    'INSERT INTO notification_attempts (outbox_id, at, ok, detail, duration_ms) VALUES (@id, @at, @ok, @detail, @ms)',
  );
  const settle = db.prepare(`
    UPDATE notification_outbox SET status = @status, attempts = attempts + 1, next_attempt_at = @next,
      last_error = @error, updated_at = @at WHERE id = @id`);
  // ALM-12: each attempt's result also goes into its alarm's journal, in the same transaction.
  const journal = db.prepare<[number, number, string, string]>(
    "INSERT INTO alarm_journal (alarm_id, at, kind, actor, detail) VALUES (?, ?, 'notification', ?, ?)",
  );
  const attemptsOf = db.prepare<[number], AttemptRow>('SELECT * FROM notification_attempts WHERE outbox_id = ? ORDER BY id');
  const backlog = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM notification_outbox WHERE status = 'pending'");

  const inFlight = new Map<string, number>();
  const sending = new Set<number>();
  const running = new Set<Promise<void>>();
  const consecutiveFailures = new Map<string, number>();
  const failing = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let wakeQueued = false;
  let stopped = false;

  /** Exponential backoff after `attempts` failed attempts: base, 2×base, 4×base, … capped. */
  const backoffAfter = (attempts: number) => Math.min(maxBackoffMs, baseBackoffMs * 2 ** (attempts - 1));

  function noteChannel(channel: string, ok: boolean, detail: string) {
    if (ok) {
      consecutiveFailures.set(channel, 0);
      if (failing.delete(channel)) options.onChannelRecovered?.(channel);
      return;
    }
    const failures = (consecutiveFailures.get(channel) ?? 0) + 1;
    consecutiveFailures.set(channel, failures);
    if (failures >= failingAfter && !failing.has(channel)) {
      failing.add(channel);
      options.onChannelFailing?.(channel, detail);
    }
  }

  async function attempt(row: OutboxRow): Promise<void> {
    const started = clock.now();
    const startedPerf = performance.now();
    const controller = new AbortController();
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<DeliveryResult>((resolve) => {
      timeout = setTimeout(() => {
        controller.abort();
        resolve({ ok: false, detail: `no answer within ${timeoutMs} ms`, retryable: true });
      }, timeoutMs);
    });
    let result: DeliveryResult;
    try {
      result = await Promise.race([deliver(row, controller.signal), timedOut]);
    } catch (err) {
      result = { ok: false, detail: (err as Error).message, retryable: true };
    } finally {
      clearTimeout(timeout);
    }
    const at = clock.now();
    const attempts = row.attempts + 1;
    const gaveUp = !result.ok && (!result.retryable || attempts >= maxAttempts);
    db.transaction(() => {
      recordAttempt.run({ id: row.id, at: started, ok: result.ok ? 1 : 0, detail: result.detail, ms: Math.round(performance.now() - startedPerf) });
      settle.run({
        id: row.id,
        status: result.ok ? 'sent' : gaveUp ? 'failed' : 'pending',
        next: result.ok || gaveUp ? row.next_attempt_at : at + backoffAfter(attempts),
        error: result.ok ? null : result.detail,
        at,
      });
      if (row.alarm_id !== null) {
        const outcome = result.ok ? 'sent' : gaveUp ? `failed for good after ${attempts} attempts` : `failed (attempt ${attempts}, retried)`;
        const what = row.escalation_step ? `escalation step ${row.escalation_step}` : row.event;
        journal.run(row.alarm_id, at, row.channel, `${what}: ${outcome}: ${result.detail}`.slice(0, 500));
      }
    }).immediate(); // IMMEDIATE: waits for the writer's lock rather than failing to upgrade a read
    if (!result.ok) log.warn({ id: row.id, channel: row.channel, attempts, gaveUp, detail: result.detail }, 'notification not delivered');
    noteChannel(row.channel, result.ok, result.detail);
  }

  function start(row: OutboxRow) {
    sending.add(row.id);
    inFlight.set(row.channel, (inFlight.get(row.channel) ?? 0) + 1);
    const job = attempt(row)
      .catch((err) => log.error({ err, id: row.id }, 'outbox attempt failed'))
      .finally(() => {
        sending.delete(row.id);
        inFlight.set(row.channel, inFlight.get(row.channel)! - 1);
        running.delete(job);
        if (!stopped) setImmediate(runDueSafely); // a freed slot may start the next one at once
      });
    running.add(job);
  }

  function runDueSafely() {
    try {
      runDue();
    } catch (err) {
      log.error({ err }, 'outbox poll failed');
    }
  }

  /** Starts every due row its channel has room for; returns how many started. */
  function runDue(): number {
    if (stopped) return 0;
    let started = 0;
    for (const row of due.all(clock.now(), 500)) {
      if (sending.has(row.id) || (inFlight.get(row.channel) ?? 0) >= concurrency) continue;
      start(row);
      started++;
    }
    return started;
  }

  return {
    /** Queues one notification per channel for an alarm event, committed before anything is sent. */
    enqueue(alarmId: number | null, event: string, channels: string[]): number[] {
      const now = clock.now();
      const ids = db.transaction(() => channels.map((channel) => Number(insert.run({ alarmId, event, channel, now }).lastInsertRowid))).immediate();
      if (timer) setImmediate(runDueSafely);
      return ids;
    },
    runDue,
    /** Rows were committed elsewhere (the writer thread, with their alarm): look for due rows soon. */
    wake(): void {
      if (!timer || wakeQueued) return;
      wakeQueued = true;
      setImmediate(() => {
        wakeQueued = false;
        runDueSafely();
      });
    },
    /** Resolves when the sends under way have finished (tests, shutdown). */
    settled: async () => {
      while (running.size) await Promise.allSettled([...running]);
    },
    get: (id: number): OutboxRow | undefined => byId.get(id),
    /** The notifications of one alarm, with their status (for the alarm's detail view). */
    forAlarm: (alarmId: number): OutboxRow[] => byAlarm.all(alarmId),
    attempts: (id: number): AttemptRow[] => attemptsOf.all(id),
    backlog: (): number => backlog.get()!.n,
    failingChannels: (): string[] => [...failing],
    start() {
      stopped = false;
      timer = setInterval(runDueSafely, options.pollMs ?? 1000);
      timer.unref();
      runDue();
    },
    /** Stops starting sends; waits up to `graceMs` for those under way (they stay pending if cut off). */
    async stop(graceMs = 3000) {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      await Promise.race([this.settled(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    },
  };
}
export type Outbox = ReturnType<typeof createOutbox>;
