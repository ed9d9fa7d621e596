// Issue 17.6 (SYNC-6): time you can trust. The box's clock counts as synchronised once NTP says so
// (systemd-timesyncd's /run/systemd/timesync/synchronized, or `timedatectl`'s NTPSynchronized for
// chrony and others); until then, and around a jump of the wall clock against the monotonic one,
// the span is recorded in clock_unsynced, so every record received or recorded inside it carries
// `clock_unsynced` — also when it is sent days later from the backlog.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Db } from '../storage/db.ts';

const CHECK_MS = 10_000;
/** A wall clock that moved this much more (or less) than the monotonic one jumped. */
const JUMP_MS = 2_000;
export const TIMESYNCD_FLAG = '/run/systemd/timesync/synchronized';

/** Whether NTP has synchronised the clock: the timesyncd flag file, else timedatectl (async, cached). */
export function systemNtpProbe(flagFile = TIMESYNCD_FLAG): () => boolean {
  let timedatectl: boolean | null = null;
  let asked = 0;
  return () => {
    if (existsSync(flagFile)) return true;
    if (Date.now() - asked > 60_000) {
      asked = Date.now();
      execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 5000 }, (err, stdout) => {
        timedatectl = err ? false : stdout.trim() === 'yes';
      });
    }
    return timedatectl === true;
  };
}

export interface ClockTrustOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  /** Whether NTP says the clock is synchronised now (systemNtpProbe; tests inject one). */
  ntpSynced: () => boolean;
  /** The monotonic clock the wall clock is compared with (performance.now; tests inject one). */
  monotonic?: () => number;
}

export function createClockTrust(options: ClockTrustOptions) {
  const { db, clock, log, ntpSynced } = options;
  const monotonic = options.monotonic ?? (() => performance.now());
  const q = {
    open: db.prepare<[], { id: number; from_at: number }>('SELECT id, from_at FROM clock_unsynced WHERE to_at IS NULL ORDER BY id DESC LIMIT 1'),
    begin: db.prepare<[number, string]>('INSERT INTO clock_unsynced (from_at, reason) VALUES (?, ?)'),
    span: db.prepare<[number, number, string]>('INSERT INTO clock_unsynced (from_at, to_at, reason) VALUES (?, ?, ?)'),
    end: db.prepare<[number, number]>('UPDATE clock_unsynced SET to_at = ? WHERE id = ?'),
    all: db.prepare<[], { from_at: number; to_at: number | null }>('SELECT from_at, to_at FROM clock_unsynced ORDER BY from_at'),
  };
  let spans: { from: number; to: number }[] = [];
  let synced = false;
  let lastWall = clock.now();
  let lastMono = monotonic();
  let timer: NodeJS.Timeout | null = null;

  const reloadSpans = () => {
    spans = q.all.all().map((s) => ({ from: s.from_at, to: s.to_at ?? Infinity }));
  };

  function check() {
    const wall = clock.now();
    const mono = monotonic();
    const drift = wall - lastWall - (mono - lastMono);
    try {
      if (Math.abs(drift) > JUMP_MS) {
        // What was stamped between the last check and the jump may carry the wrong time.
        q.span.run(Math.min(lastWall, wall), Math.max(lastWall, wall), `the clock jumped by ${Math.round(drift / 1000)} s`);
        log.warn({ jumpMs: Math.round(drift) }, 'clock: the wall clock jumped; records of the span are flagged clock_unsynced');
      }
      const now = ntpSynced();
      const open = q.open.get();
      if (!now && !open) q.begin.run(wall, 'no NTP synchronisation since boot');
      if (now && open) {
        q.end.run(wall, open.id);
        log.info({ unsyncedSinceMs: open.from_at }, 'clock: NTP synchronised');
      }
      synced = now;
      reloadSpans();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'clock: the clock state could not be recorded now; tried again shortly');
    }
    lastWall = wall;
    lastMono = mono;
  }

  return {
    start() {
      // A start is a boot as far as this process knows: close a span left open by the last run, then look.
      const open = q.open.get();
      if (open) q.end.run(clock.now(), open.id);
      check();
      timer = setInterval(check, CHECK_MS);
      timer.unref?.();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
    check,
    synced: () => synced,
    unsyncedAt: (at: number) => spans.some((span) => at >= span.from && at <= span.to),
  };
}
export type ClockTrust = ReturnType<typeof createClockTrust>;
