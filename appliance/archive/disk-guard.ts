// STO-4 disk guard: free space is the file system's plus the database's free pages (deleted rows
// leave pages SQLite reuses), less the reserve kept for the WAL and checkpoints (storage/disk-budget.ts).
// Below the low-water mark a DISK system alarm and a TRUNCATE checkpoint (the WAL's room given
// back); below the critical mark raw data is pruned — archived data first (with archiving on: finish
// interrupted deletions, archive due days, then archive the oldest complete days early and delete
// them once verified), and only if still critical the oldest unarchived data, with an alarm saying
// what was lost: whole hours while there is data older than the last hour, then (a small disk holds
// less than an hour) the oldest minute at a time, never the newest minute. The appliance never dies
// because the disk filled.
//
// Issue 16.8: the guard runs on pressure, not only on the 5-minute health job: a commit that failed
// on the disk (SQLITE_FULL, group-commit.ts) and a free-space watch (one statfs a second) below the
// low-water mark call it, at most once a second.
import { statfs as statfsAsync } from 'node:fs/promises';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { siteDayOf, siteDayRange } from '../core/site-day.ts';
import { createArchiveLog } from '../storage/archive-log.ts';
import type { Db } from '../storage/db.ts';
import type { ReportSystemCondition } from '../core/system-conditions.ts';

const MB = 1024 * 1024;
const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Never pruned: the newest minute (the live picture's history and the minute being rolled up). */
const NEWEST_KEPT_MS = MINUTE;
/** Pressure checks at most this often. */
const PRESSURE_EVERY_MS = 1000;
/** The free-space watch: one statfs this often. */
const WATCH_EVERY_MS = 1000;
/** An archive run (S3 round trips) from the guard at most this often while the disk stays critical. */
const ARCHIVE_EVERY_MS = 60_000;
/** A DISK alarm that still holds is reported again (its figure) at most this often. */
const REPORT_AGAIN_MS = 60_000;
export const DISK_ALARM_SOURCE = 'disk';
export const PRUNE_ALARM_SOURCE = 'disk:pruned';

export type StatFs = (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;

export interface DiskGuardDeps {
  db: Db;
  dataDir: string;
  lowFreeMb: number;
  criticalFreeMb: number;
  writer: {
    deleteRange(snId: number, from: number, to: number, receivedBefore: number): Promise<number>;
    /** A TRUNCATE checkpoint: the WAL copied back and emptied. */
    checkpoint(): Promise<unknown>;
  };
  archiver: { run(): Promise<{ enabled: boolean; failed: unknown }>; archiveDayNow(day: string): Promise<unknown> };
  archivingEnabled: () => boolean;
  /** STO-4: the DISK system alarm (ALM-1). */
  reportCondition: ReportSystemCondition;
  clock: Clock;
  log: Logger;
  timezone: string;
  /** Space kept for the WAL and checkpoints (storage/disk-budget.ts): not free for data. Default 0. */
  reserveBytes?: number;
  /** Injected in tests for a small artificial disk. */
  statfs?: StatFs;
  /**
   * Issue 17 (SYNC-3): the cloud uplink's batch log. Under critical pressure the key lists of its
   * batches older than an hour are cut first — those readings then go to the cloud as aggregates
   * (or a gap record) — before any unarchived reading is deleted. Rows cut (at most `limit`).
   */
  uplinkBacklog?: { cutKeys(before: number, limit?: number): number };
}

export interface DiskCheck {
  state: 'ok' | 'low' | 'critical';
  free_mb: number;
  archived_days: string[];
  pruned_unarchived_rows: number;
  pruned_before: number | null;
  /** Issue 17: uplink batches whose reading keys were cut (sent as aggregates instead). */
  uplink_batches_cut: number;
}

export interface DiskGuardStats {
  checks: number;
  /** Checks run on pressure (a failed commit, the watch below the low mark) rather than by the job. */
  pressureChecks: number;
  lastState: DiskCheck['state'];
  prunedRows: number;
}

export function createDiskGuard(deps: DiskGuardDeps) {
  const { db, writer, reportCondition, clock } = deps;
  const log = deps.log.child({ stage: 'disk' });
  const statfs = deps.statfs ?? (statfsAsync as unknown as StatFs);
  const archiveLog = createArchiveLog(db);
  const freePages = db.prepare('PRAGMA freelist_count').pluck();
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const reserveBytes = deps.reserveBytes ?? 0;
  const stats: DiskGuardStats = { checks: 0, pressureChecks: 0, lastState: 'ok', prunedRows: 0 };
  let running: Promise<DiskCheck> | null = null;
  let pressureTimer: NodeJS.Timeout | null = null;
  let pressureAfterRun = false;
  let lastPressureAt = -Infinity;
  let watchTimer: NodeJS.Timeout | null = null;
  let lastArchiveAt = -Infinity;
  let reported: { state: DiskCheck['state']; at: number } | null = null;

  async function freeBytes(): Promise<number> {
    const fs = await statfs(deps.dataDir);
    return Number(fs.bavail) * Number(fs.bsize) - reserveBytes + (freePages.get() as number) * pageSize;
  }

  /** Oldest complete site days (not today) that still have rows, oldest first. */
  function oldestCompleteDay(): string | null {
    const oldest = archiveLog.oldestFrom(0);
    if (oldest === null) return null;
    const day = siteDayOf(oldest, deps.timezone);
    return siteDayRange(day, deps.timezone).end <= clock.now() ? day : null;
  }

  /**
   * The oldest hour older than the last hour; else the oldest minute but the newest. What was
   * deleted before a device's deletion failed is counted (and said) all the same.
   */
  async function pruneOldest(): Promise<{ rows: number; before: number; error: Error | null } | null> {
    const oldest = archiveLog.oldestFrom(0);
    if (oldest === null) return null;
    const now = clock.now();
    const hourEnd = oldest - (oldest % HOUR) + HOUR;
    const before = hourEnd <= now - HOUR ? hourEnd : Math.min(oldest - (oldest % MINUTE) + MINUTE, now - NEWEST_KEPT_MS);
    if (before <= oldest) return null;
    let rows = 0;
    try {
      for (const { id } of archiveLog.serials()) rows += await writer.deleteRange(id, 0, before, Number.MAX_SAFE_INTEGER);
    } catch (err) {
      return { rows, before, error: err as Error };
    }
    return { rows, before, error: null };
  }

  /** The DISK alarm when its state changed, else at most every REPORT_AGAIN_MS (never a report per second). */
  function reportDisk(state: DiskCheck['state'], freeMb: number) {
    const now = performance.now();
    if (reported && reported.state === state && (state === 'ok' || now - reported.at < REPORT_AGAIN_MS)) return;
    reported = { state, at: now };
    if (state === 'ok') {
      reportCondition('DISK', DISK_ALARM_SOURCE, { holds: false });
      reportCondition('DISK', PRUNE_ALARM_SOURCE, { holds: false });
    } else {
      reportCondition('DISK', DISK_ALARM_SOURCE, { holds: true, detail: `free space ${freeMb} MB is below ${deps.lowFreeMb} MB`, value: freeMb });
    }
  }

  async function runCheck(): Promise<DiskCheck> {
    stats.checks++;
    const low = deps.lowFreeMb * MB;
    const critical = deps.criticalFreeMb * MB;
    let free = await freeBytes();
    const result: DiskCheck = { state: 'ok', free_mb: Math.floor(free / MB), archived_days: [], pruned_unarchived_rows: 0, pruned_before: null, uplink_batches_cut: 0 };
    if (free < low) {
      // The WAL's room first: what it holds is copied back and the file emptied.
      try {
        await writer.checkpoint();
      } catch (err) {
        log.warn({ err }, 'checkpoint for the disk guard failed');
      }
      free = await freeBytes();
      result.free_mb = Math.floor(free / MB);
    }
    if (free >= low) {
      reportDisk('ok', result.free_mb);
      return result;
    }
    result.state = free < critical ? 'critical' : 'low';
    reportDisk(result.state, result.free_mb);
    if (free >= critical) return result;
    if (stats.lastState !== 'critical') log.warn({ free_mb: result.free_mb, critical_mb: deps.criticalFreeMb }, 'disk critical: pruning raw data');
    // 1. Archived data first: with archiving on, due days leave (and their rows with them), then
    //    the oldest complete days are archived ahead of retention and deleted once verified.
    if (deps.archivingEnabled() && performance.now() - lastArchiveAt >= ARCHIVE_EVERY_MS) {
      lastArchiveAt = performance.now();
      await deps.archiver.run();
      free = await freeBytes();
      for (let day = oldestCompleteDay(); day && free < critical; day = oldestCompleteDay()) {
        try {
          await deps.archiver.archiveDayNow(day);
        } catch (err) {
          log.error({ day, err }, 'early archive for the disk guard failed');
          break;
        }
        result.archived_days.push(day);
        free = await freeBytes();
      }
    }
    // 1b. The uplink's backlog of reading keys older than an hour (the readings stay; the cloud gets aggregates).
    if (deps.uplinkBacklog && free < critical) {
      try {
        for (let cut = 1; cut > 0 && free < critical; free = await freeBytes()) {
          cut = deps.uplinkBacklog.cutKeys(clock.now() - HOUR);
          result.uplink_batches_cut += cut;
        }
      } catch (err) {
        log.warn({ err }, 'the cloud backlog could not be cut for the disk guard');
      }
      if (result.uplink_batches_cut) log.warn({ batches: result.uplink_batches_cut }, 'disk critical: the oldest cloud backlog goes as aggregates instead of raw readings');
    }
    // 2. Still critical: the oldest unarchived data, said loudly.
    while (free < critical) {
      const pruned = await pruneOldest();
      if (!pruned) break;
      result.pruned_unarchived_rows += pruned.rows;
      if (pruned.rows) result.pruned_before = pruned.before;
      if (pruned.error) {
        log.error({ err: pruned.error, before: pruned.before }, 'pruning for the disk guard failed');
        break;
      }
      free = await freeBytes();
    }
    if (result.pruned_unarchived_rows) {
      stats.prunedRows += result.pruned_unarchived_rows;
      const detail = `disk critical: deleted ${result.pruned_unarchived_rows} unarchived readings older than ${new Date(result.pruned_before!).toISOString()}`;
      log.error({ rows: result.pruned_unarchived_rows, before: result.pruned_before }, detail);
      reportCondition('DISK', PRUNE_ALARM_SOURCE, { holds: true, detail, value: result.pruned_unarchived_rows });
    }
    result.free_mb = Math.floor(free / MB);
    return result;
  }

  /** One check at a time, whoever asks: the health job, a pressure, a test. */
  function check(): Promise<DiskCheck> {
    const next = (running ?? Promise.resolve()).then(() => undefined, () => undefined).then(runCheck);
    running = next;
    const settle = (result: DiskCheck | null) => {
      if (result) stats.lastState = result.state;
      if (running === next) running = null;
      if (pressureAfterRun) {
        pressureAfterRun = false;
        pressure('pressure during a check');
      }
    };
    next.then(settle, () => settle(null));
    return next;
  }

  /**
   * Issue 16.8: something says the disk may be full or filling; a check follows at once, or as soon
   * as one second has passed since the last pressure check (never a check per failed commit).
   */
  function pressure(reason: string): void {
    if (pressureTimer || !watchTimer) return;
    if (running) {
      pressureAfterRun = true;
      return;
    }
    const wait = Math.max(0, lastPressureAt + PRESSURE_EVERY_MS - performance.now());
    pressureTimer = setTimeout(() => {
      pressureTimer = null;
      if (!watchTimer) return;
      lastPressureAt = performance.now();
      stats.pressureChecks++;
      check().catch((err) => log.error({ err, reason }, 'disk check failed'));
    }, wait);
  }

  /** The watch: below the low-water mark (or until a check found the disk fine again), a pressure check. */
  async function watch(): Promise<void> {
    if (running || pressureTimer) return;
    const free = await freeBytes();
    if (free < deps.lowFreeMb * MB || stats.lastState !== 'ok') pressure('free space below the low-water mark');
  }

  return {
    check,
    freeBytes,
    pressure,
    stats: stats as Readonly<DiskGuardStats>,
    /** Starts the free-space watch (pressure checks run only while it runs). */
    start(): void {
      if (watchTimer) return;
      watchTimer = setInterval(() => {
        watch().catch((err) => log.warn({ err }, 'free space not measured'));
      }, WATCH_EVERY_MS);
      watchTimer.unref();
    },
    /** Stops the watch and pressure checks; resolves when a running check has finished. */
    async stop(): Promise<void> {
      if (watchTimer) clearInterval(watchTimer);
      watchTimer = null;
      if (pressureTimer) clearTimeout(pressureTimer);
      pressureTimer = null;
      await running?.catch(() => undefined);
    },
  };
}
export type DiskGuard = ReturnType<typeof createDiskGuard>;
