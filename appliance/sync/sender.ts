// Issue 17 (SYNC-1, SYNC-2, SYNC-3): one target's sender. It keeps a window of frames in flight
// and picks the next frame by lane priority — alarms, device state, live telemetry, then backfill
// (and resend requests) — so after an outage live values flow at once while the backlog drains
// beside them, oldest first, flagged historical, within the target's rate and byte budgets. A
// lane's cursor moves only over frames the target acknowledged, contiguously; a failed send sends
// the lane again from its cursor (at-least-once; the receiver drops duplicates by record id).
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { UplinkFrame, UplinkTarget, UplinkTransport, UplinkTargetStatus } from '../contract/uplink.ts';
import { createTelemetryBudget } from './budget.ts';
import { acknowledged, createLane, handOut, pass, rewind, type Lane } from './lanes.ts';
import type { BatchRow, BuiltFrame, ResendRequest, UplinkCursor, UplinkQueue } from './queue.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Unacknowledged telemetry older than this at a (re)connect is the backfill lane; newer is live. */
export const LIVE_SPLIT_MS = 10_000;
/** Aggregate minutes older than this are flagged historical. */
const AGGREGATE_LIVE_MS = 5 * MINUTE;
const PERSIST_EVERY_MS = 500;
const TALLY_EVERY_MS = 10_000;

/** Records per frame, per lane kind; Aliyun's messages are limited to 256 KB. */
const frameLimits = (kind: UplinkTarget['kind']) => (kind === 'aliyun' ? { events: 50, telemetry: 100 } : { events: 200, telemetry: 500 });


export interface SenderOptions {
  target: UplinkTarget;
  queue: UplinkQueue;
  transport: UplinkTransport;
  clock: Clock;
  log: Logger;
}

export function createSender(options: SenderOptions) {
  const { queue, transport, clock, log } = options;
  let target = options.target;
  const aggregate = () => target.telemetry === 'aggregate';
  let cursor: UplinkCursor = queue.cursor(target.id) ?? queue.ensureCursor(target.id, clock.now(), aggregate());
  const resends = queue.resends;

  const lane = createLane;
  let alarm = lane('alarm', cursor.journal_id);
  let device = lane('device', cursor.device_event_id);
  // The newest telemetry (`live`), and while the box catches up after an outage the backlog before
  // `cursor.live_from` (`backfill`, historical).
  let live = lane('live', cursor.live_from === null ? cursor.batch_id : cursor.live_batch_id ?? cursor.live_from);
  let backfill: Lane | null = cursor.live_from === null ? null : lane('backfill', cursor.batch_id);
  let minutes = lane('live', cursor.minute_ts ?? 0);
  let resend = lane('resend', 0);
  let resendRow: ResendRequest | undefined;

  let generation = 0;
  let inFlight = 0;
  let running = false;
  let dirty = false;
  let persistTimer: NodeJS.Timeout | null = null;
  let pumpTimer: NodeJS.Timeout | null = null;
  let retryAt = 0;
  let failures = 0;

  const stats = { lastAckAt: null as number | null, downsampled: 0, gaps: 0, acks: [] as { at: number; records: number }[] };
  const budget = createTelemetryBudget(clock.now()); // SYNC-2: records per second, bytes per day
  // Readings owed per telemetry lane, kept as running counts: summed once at start, then the new
  // batches added as they appear and acknowledged frames taken off — a sum over a day of batch log
  // at every status call would stall the event loop.
  const owed = { countedThrough: 0, live: 0, backfill: 0 };
  // SYNC-3: how many of the oldest backlog readings are past the count limit (refreshed now and then).
  let excess = { at: -Infinity, readings: 0 };
  if (!aggregate()) {
    // Once at start (a restart mid-backlog): what each lane owes.
    const head = queue.heads().batch;
    owed.countedThrough = head;
    owed.live = queue.readingsIn(live.acked, head);
    if (backfill) owed.backfill = queue.readingsIn(backfill.acked, cursor.live_from!);
  }

  const windowSize = () => Math.max(1, Math.min(target.inflight, 8));
  const lanes = () => [alarm, device, live, minutes, resend, ...(backfill ? [backfill] : [])];

  function restartLanes() {
    generation++;
    inFlight = 0;
    for (const l of lanes()) rewind(l);
    resendRow = undefined;
  }

  /** SYNC-2: after an outage, the backlog goes to the backfill lane and what comes from now is live. */
  /** New batches since the last look join the live lane's count. */
  function countNew(head: number) {
    if (aggregate() || head <= owed.countedThrough) return;
    owed.live += queue.readingsIn(owed.countedThrough, head);
    owed.countedThrough = head;
  }

  function splitIfBehind() {
    if (aggregate() || backfill || live.flying.length) return;
    const oldest = queue.firstBatchAfter(live.acked);
    if (!oldest || clock.now() - oldest.at < LIVE_SPLIT_MS) return;
    const head = queue.heads().batch;
    countNew(head);
    owed.backfill = owed.live;
    owed.live = 0;
    cursor = { ...cursor, live_from: head, live_batch_id: head };
    backfill = lane('backfill', live.acked);
    live = lane('live', head);
    dirty = true;
    persist();
    log.info({ target: target.id, backlogFrom: oldest.id, liveFrom: head }, 'uplink: backlog goes to the backfill lane, live values first');
  }

  function persist() {
    if (!dirty) return;
    dirty = false;
    // SYNC-2: the backfill reached where live began: one telemetry lane again.
    if (backfill && backfill.acked >= cursor.live_from! && !backfill.flying.length) backfill = null;
    cursor = {
      ...cursor,
      journal_id: alarm.acked,
      device_event_id: device.acked,
      batch_id: aggregate() ? queue.heads().batch : (backfill ?? live).acked,
      live_from: backfill ? cursor.live_from : null,
      live_batch_id: backfill ? live.acked : null,
      minute_ts: aggregate() ? minutes.acked : cursor.minute_ts,
      updated_at: clock.now(),
    };
    try {
      queue.saveCursor(cursor);
    } catch (err) {
      // The cursor is retried with the next acknowledgement; until then a restart resends more, never less.
      dirty = true;
      log.warn({ target: target.id, err: (err as Error).message }, 'uplink: the cursor could not be saved; it is saved with the next acknowledgement');
    }
  }

  function schedulePersist() {
    dirty = true;
    persistTimer ??= setTimeout(() => {
      persistTimer = null;
      persist();
    }, PERSIST_EVERY_MS);
  }

  /** A stretch of a lane with nothing to send: passed in order, as if acknowledged (sync/lanes.ts). */
  function skip(l: Lane, through: number) {
    pass(l, through);
    schedulePersist();
  }

  function refreshTally(now: number) {
    if (aggregate() || !backfill || now - excess.at < TALLY_EVERY_MS) return;
    excess = { at: now, readings: owed.backfill - target.backlog_max_readings };
  }

  /** SYNC-3: a batch older than the age limit, or among the oldest beyond the count limit, goes downsampled. */
  function overLimit(batch: BatchRow): boolean {
    if (clock.now() - batch.at > target.backlog_max_hours * HOUR) return true;
    if (excess.readings > 0) {
      excess.readings -= batch.n;
      return true;
    }
    return false;
  }

  /** The next frame by lane priority, or null when nothing is due (or the budget says wait). */
  function nextFrame(): { l: Lane; frame: UplinkFrame; built: BuiltFrame; after?: () => void } | null {
    const now = clock.now();
    const limits = frameLimits(target.kind);
    const heads = queue.heads();
    countNew(heads.batch);
    if (alarm.sent < heads.journal) {
      const built = queue.alarmFrame(alarm.sent, limits.events, false);
      if (built.records.length) return { l: alarm, frame: { kind: 'alarm', historical: false, records: built.records }, built };
    }
    if (device.sent < heads.device) {
      const built = queue.deviceFrame(device.sent, limits.events, false);
      if (built.records.length) return { l: device, frame: { kind: 'device', historical: false, records: built.records }, built };
    }
    if (!budget.allows(now, target)) return null;
    const maxRecords = budget.maxRecords(limits.telemetry, target);
    if (aggregate()) {
      if (minutes.sent === 0) minutes.sent = minutes.acked = queue.minuteWatermark();
      const built = queue.minuteFrame(minutes.sent, maxRecords, now - AGGREGATE_LIVE_MS);
      if (built.records.length) return { l: minutes, frame: { kind: 'aggregate', historical: built.through < now - AGGREGATE_LIVE_MS, records: built.records }, built };
      // Minutes without a device reporting: nothing to send, but the cursor moves on.
      if (built.through > minutes.sent) skip(minutes, built.through);
      return null;
    }
    // Live first, then the backlog beside it.
    if (live.sent < heads.batch) {
      const built = queue.batchFrame(live.sent, heads.batch, maxRecords, false, () => false);
      if (built.records.length || built.through > live.sent) return telemetry(live, built, false);
    }
    // The backlog never takes the last slot of the window: a new alarm or live value goes at once.
    const backlogSlots = windowSize() > 1 ? windowSize() - 1 : 1;
    if (inFlight >= backlogSlots) return null;
    if (backfill && backfill.sent < cursor.live_from!) {
      refreshTally(now);
      const built = queue.batchFrame(backfill.sent, cursor.live_from!, maxRecords, true, overLimit);
      if (built.records.length || built.through > backfill.sent) return telemetry(backfill, built, true);
    }
    // SYNC-5: a resend request from the cloud, device by device, historical.
    if (resend.flying.length === 0) {
      resendRow ??= resends.next(target.id);
      if (resendRow) {
        const made = queue.resendFrame(resendRow, maxRecords);
        const row = resendRow;
        const built: BuiltFrame = { records: made.records, through: resend.sent + 1, readings: made.records.length, downsampled: 0, gaps: 0 };
        const after = () => {
          if (made.done) resends.done(row.id);
          else resends.advance(row.id, made.next.sn_id, made.next.ts);
          resendRow = undefined;
        };
        if (!made.records.length) {
          after();
          return null;
        }
        return { l: resend, frame: { kind: 'reading', historical: true, records: made.records }, built, after };
      }
    }
    return null;
  }

  function telemetry(l: Lane, built: BuiltFrame, historical: boolean) {
    if (!built.records.length) {
      skip(l, built.through);
      return null;
    }
    const kind = built.records.every((r) => r.kind === 'reading') ? 'reading' : 'aggregate';
    return { l, frame: { kind, historical, records: built.records } as UplinkFrame, built };
  }

  function pump() {
    if (!running || target.paused || !target.enabled) return;
    if (!transport.state().connected || clock.now() < retryAt) return;
    splitIfBehind();
    if (inFlight >= windowSize()) return;
    let next;
    try {
      next = nextFrame();
    } catch (err) {
      log.error({ target: target.id, err: (err as Error).message }, 'uplink: a frame could not be built from the database');
      retryAt = clock.now() + 5000;
      return;
    }
    if (!next) return;
    send(next.l, next.frame, next.built, next.after);
    // One frame per turn of the event loop: the broker's PUBACKs are served between frames (building
    // a window of them at once held the loop for 70-90 ms at 20,000 readings/s, BENCHMARKS.md).
    if (inFlight < windowSize()) pumpSoon();
  }

  let pumpPending: NodeJS.Immediate | null = null;
  function pumpSoon() {
    pumpPending ??= setImmediate(() => {
      pumpPending = null;
      pump();
    });
  }

  function send(l: Lane, frame: UplinkFrame, built: BuiltFrame, after?: () => void) {
    const entry = handOut(l, built.through);
    inFlight++;
    if (frame.kind === 'reading' || frame.kind === 'aggregate') budget.spend(frame.records.length);
    const sentIn = generation;
    transport.send(frame).then(
      (bytes) => {
        if (sentIn !== generation) return; // a failure restarted the lanes meanwhile: sent again
        inFlight--;
        failures = 0;
        acknowledged(l, entry);
        after?.();
        const now = clock.now();
        stats.lastAckAt = now;
        budget.acknowledged(now, frame.records.length, bytes);
        stats.downsampled += built.downsampled;
        stats.gaps += built.gaps;
        stats.acks.push({ at: now, records: built.readings || frame.records.length });
        while (stats.acks.length && stats.acks[0].at < now - MINUTE) stats.acks.shift();
        if (l === backfill) owed.backfill = Math.max(0, owed.backfill - built.readings);
        else if (l === live) owed.live = Math.max(0, owed.live - built.readings);
        schedulePersist();
        pump();
      },
      (err: Error) => {
        if (sentIn !== generation) return;
        failures++;
        // Exponential backoff with jitter before the lanes are sent again from their cursors.
        const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2);
        retryAt = clock.now() + delay;
        log.warn({ target: target.id, lane: l.name, err: err.message, retryInMs: Math.round(delay) }, 'uplink: a frame was not acknowledged; it is sent again');
        restartLanes();
      },
    );
  }

  function laneStatus(): UplinkTargetStatus['lanes'] {
    const journal = queue.journalTally(alarm.acked);
    const devices = queue.deviceTally(device.acked);
    const rows: UplinkTargetStatus['lanes'] = [
      { lane: 'alarm', depth: journal.depth, oldest_at: journal.oldest },
      { lane: 'device', depth: devices.depth, oldest_at: devices.oldest },
    ];
    if (aggregate()) {
      const watermark = queue.minuteWatermark();
      rows.push({ lane: 'live', depth: Math.max(0, Math.round((watermark - minutes.acked) / MINUTE)), oldest_at: watermark > minutes.acked ? minutes.acked : null });
      rows.push({ lane: 'backfill', depth: 0, oldest_at: null });
      return rows;
    }
    countNew(queue.heads().batch);
    rows.push({ lane: 'live', depth: owed.live, oldest_at: owed.live > 0 ? queue.firstBatchAfter(live.acked)?.at ?? null : null });
    const requested = resends.count(target.id);
    if (backfill) rows.push({ lane: 'backfill', depth: owed.backfill + requested, oldest_at: queue.firstBatchAfter(backfill.acked)?.at ?? null });
    else rows.push({ lane: 'backfill', depth: requested, oldest_at: null });
    return rows;
  }

  return {
    get target() {
      return target;
    },
    start() {
      running = true;
      pumpTimer = setInterval(pump, 200);
      pumpTimer.unref?.();
      pump();
    },
    /** The admin's test button on this running target: answered over its own connection (a second one with the same client id would knock it off). */
    testLink: () => transport.test(),
    /** Something was committed or the link came up: look for frames now instead of at the next tick. */
    wake: () => pump(),
    /** The transport connected again: frames that were in flight are sent again. */
    reconnected() {
      restartLanes();
      retryAt = 0;
      failures = 0;
      pump();
    },
    update(next: UplinkTarget) {
      target = next;
      pump();
    },
    setPaused(paused: boolean) {
      target = { ...target, paused };
      if (!paused) pump();
    },
    /** SYNC-5: re-queues [from, to) (of these devices) as historical readings. */
    requestResend(from: number, to: number, sns: string[] | undefined) {
      resends.add(target.id, from, to, sns, clock.now());
      pump();
    },
    status(): UplinkTargetStatus {
      const now = clock.now();
      const lanes = laneStatus();
      const backlog = lanes.reduce((sum, l) => sum + l.depth, 0);
      const oldest = Math.min(...lanes.map((l) => l.oldest_at ?? Infinity));
      const acked = stats.acks.reduce((sum, a) => sum + a.records, 0);
      const span = stats.acks.length ? Math.max(1, (now - stats.acks[0].at) / 1000) : 0;
      const rate = span ? acked / Math.max(span, 1) : 0;
      const state = transport.state();
      return {
        id: target.id, name: target.name, kind: target.kind, enabled: target.enabled, paused: target.paused,
        connected: state.connected, last_error: state.lastError, last_ack_at: stats.lastAckAt,
        lanes, backlog, lag_s: Number.isFinite(oldest) ? Math.max(0, (now - oldest) / 1000) : 0,
        rate_per_s: Math.round(rate * 10) / 10, drain_estimate_s: rate > 0 && backlog > 0 ? Math.round(backlog / rate) : null,
        bytes_today: budget.today.bytes, records_today: budget.today.records, downsampled: stats.downsampled, gaps: stats.gaps,
      };
    },
    async stop() {
      running = false;
      generation++; // answers still on their way change nothing after the stop
      if (pumpPending) clearImmediate(pumpPending);
      pumpPending = null;
      if (pumpTimer) clearInterval(pumpTimer);
      if (persistTimer) clearTimeout(persistTimer);
      persistTimer = null;
      persist();
      await transport.close();
    },
  };
}
export type Sender = ReturnType<typeof createSender>;
