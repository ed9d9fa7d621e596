// ALM-6: reliable delivery. Every notification is a row in notification_outbox before anything is
// sent; a worker sends due rows with a per-channel concurrency limit and a timeout, records every
// attempt, retries with exponential backoff up to a cap, and reports a channel that keeps failing
// (a system alarm). Sending is asynchronous network work: it never blocks ingestion, and a slow or
// dead channel only occupies its own slots.
// Issue 15.4: OFFLINE notices of one channel raised in a storm are delivered together, as one
// grouped notice; every row of the group gets the one result (attempt, status, backoff, journal).
// The detectors' returns after a storm (the OFFLINE alarms' 'cleared' notices) are grouped alike.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Db } from '../storage/db.ts';
import { isLinkageChannel } from '../contract/linkage.ts';
import { planOfflineDelivery, stormEventOf, type OfflineStorm, type StormEvent } from './policy.ts';

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
/** `group`: in an OFFLINE storm (or its returns), every row delivered as the one notice (`row` first); absent otherwise. */
export type Deliver = (row: OutboxRow, signal: AbortSignal, group?: OutboxRow[]) => Promise<DeliveryResult>;

/** Issue 15.4: the most rows one grouped notice covers; the rest go in the next one. */
export const MAX_STORM_GROUP = 1000;

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
  /** Issue 15.4: the OFFLINE storm settings, read at each delivery; without them nothing is grouped or held. */
  storm?: () => OfflineStorm | undefined;
}

type DueRow = OutboxRow & { alarm_type: string | null };

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
  // Issue 15.4: a first OFFLINE notice (raised, or cleared: a return) created after @heldAfter waits
  // for others to join it; it is left out here (not skipped later) so that a storm's held rows never
  // take the places of others. The rows held are those policy.ts stormEventOf() names.
  const due = db.prepare<{ now: number; heldAfter: number; limit: number }, DueRow>(`
    SELECT o.*, a.type AS alarm_type FROM notification_outbox o LEFT JOIN alarms a ON a.id = o.alarm_id
    WHERE o.status = 'pending' AND o.next_attempt_at <= @now
      AND NOT (o.attempts = 0 AND o.created_at > @heldAfter AND o.event IN ('raised', 'cleared') AND o.escalation_step IS NULL
               AND coalesce(a.type, '') = 'OFFLINE')
    ORDER BY o.next_attempt_at, o.id LIMIT @limit`);
  const offlineAround = db.prepare<{ channel: string; event: StormEvent; from: number; to: number }, OutboxRow>(`
    SELECT o.* FROM notification_outbox o JOIN alarms a ON a.id = o.alarm_id
    WHERE o.channel = @channel AND o.event = @event AND o.escalation_step IS NULL AND a.type = 'OFFLINE'
      AND o.created_at BETWEEN @from AND @to`);
  const byId = db.prepare<[number], OutboxRow>('SELECT * FROM notification_outbox WHERE id = ?');
  const byAlarm = db.prepare<[number], OutboxRow>('SELECT * FROM notification_outbox WHERE alarm_id = ? ORDER BY id');
  const recordAttempt = db.prepare(
    'INSERT INTO notification_attempts (outbox_id, at, ok, detail, duration_ms) VALUES (@id, @at, @ok, @detail, @ms)',
  );
  const settle = db.prepare(`
    UPDATE notification_outbox SET status = @status, attempts = attempts + 1, next_attempt_at = @next,
      last_error = @error, updated_at = @at WHERE id = @id`);
  // ALM-12: each attempt's result also goes into its alarm's journal, in the same transaction.
  // Issue 15.5: a linkage action's outcome is a 'linkage' entry.
  const journal = db.prepare<[number, number, string, string, string]>(
    'INSERT INTO alarm_journal (alarm_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)',
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

  /** One delivery: a row, or (issue 15.4) a storm's group with its first row leading. */
  async function attempt(rows: OutboxRow[]): Promise<void> {
    const row = rows[0];
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
      result = await Promise.race([deliver(row, controller.signal, rows.length > 1 ? rows : undefined), timedOut]);
    } catch (err) {
      result = { ok: false, detail: (err as Error).message, retryable: true };
    } finally {
      clearTimeout(timeout);
    }
    const at = clock.now();
    const ms = Math.round(performance.now() - startedPerf);
    const grouped = rows.length < 2 ? '' : row.event === 'cleared'
      ? ` (one grouped notice for ${rows.length} detectors back online)`
      : ` (one grouped notice for ${rows.length} offline detectors)`;
    let gaveUpAny = false;
    db.transaction(() => {
      for (const each of rows) {
        const attempts = each.attempts + 1;
        const gaveUp = !result.ok && (!result.retryable || attempts >= maxAttempts);
        gaveUpAny ||= gaveUp;
        recordAttempt.run({ id: each.id, at: started, ok: result.ok ? 1 : 0, detail: result.detail, ms });
        settle.run({
          id: each.id,
          status: result.ok ? 'sent' : gaveUp ? 'failed' : 'pending',
          next: result.ok || gaveUp ? each.next_attempt_at : at + backoffAfter(attempts),
          error: result.ok ? null : result.detail,
          at,
        });
        // ALM-12: a grouped result goes into the journal of every alarm the notice covered.
        if (each.alarm_id !== null) {
          const outcome = result.ok ? 'sent' : gaveUp ? `failed for good after ${attempts} attempts` : `failed (attempt ${attempts}, retried)`;
          const what = each.escalation_step ? `escalation step ${each.escalation_step}` : each.event;
          journal.run(each.alarm_id, at, isLinkageChannel(each.channel) ? 'linkage' : 'notification', each.channel, `${what}${grouped}: ${outcome}: ${result.detail}`.slice(0, 500));
        }
      }
    }).immediate(); // IMMEDIATE: waits for the writer's lock rather than failing to upgrade a read
    if (!result.ok) {
      log.warn({ id: row.id, rows: rows.length, channel: row.channel, attempts: row.attempts + 1, gaveUp: gaveUpAny, detail: result.detail }, 'notification not delivered');
    }
    noteChannel(row.channel, result.ok, result.detail);
  }

  /**
   * Issue 15.4: the rows a due row goes out with: itself, or in an OFFLINE storm (or a storm of
   * returns) its channel's pending rows of the same event.
   */
  function deliveryOf(row: DueRow, storm: OfflineStorm | undefined): OutboxRow[] {
    const event = stormEventOf(row, row.alarm_type);
    if (!storm?.enabled || event === null) return [row];
    const windowMs = storm.window_s * 1000;
    const around = offlineAround.all({ channel: row.channel, event, from: row.created_at - windowMs, to: row.created_at + windowMs });
    const free = around.filter((n) => n.id === row.id || !sending.has(n.id));
    const plan = planOfflineDelivery(row, free, storm, MAX_STORM_GROUP);
    if (!plan.group) return [row];
    const byRowId = new Map(free.map((n) => [n.id, n]));
    return plan.ids.map((id) => (id === row.id ? row : byRowId.get(id)!));
  }

  function start(rows: OutboxRow[]) {
    const row = rows[0];
    for (const each of rows) sending.add(each.id);
    inFlight.set(row.channel, (inFlight.get(row.channel) ?? 0) + 1);
    const job = attempt(rows)
      .catch((err) => log.error({ err, id: row.id, rows: rows.length }, 'outbox attempt failed'))
      .finally(() => {
        for (const each of rows) sending.delete(each.id);
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
    const now = clock.now();
    const storm = options.storm?.();
    const heldAfter = storm?.enabled ? now - storm.hold_s * 1000 : Number.MAX_SAFE_INTEGER;
    for (const row of due.all({ now, heldAfter, limit: 500 })) {
      if (sending.has(row.id) || (inFlight.get(row.channel) ?? 0) >= concurrency) continue;
      start(deliveryOf(row, storm));
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
