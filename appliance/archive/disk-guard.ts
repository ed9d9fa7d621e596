// STO-4 disk guard: free space is the file system's plus the database's free pages (deleted rows
// leave pages SQLite reuses before the file grows). Below the low-water mark a DISK system alarm;
// below the critical mark raw data is pruned — archived data first (with archiving on: finish
// interrupted deletions, archive due days, then archive the oldest complete days early and delete
// them once verified), and only if still critical the oldest unarchived hour at a time, with an
// alarm saying what was lost. The appliance never dies because the disk filled.
import { statfs as statfsAsync } from 'node:fs/promises';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { siteDayOf, siteDayRange } from '../core/site-day.ts';
import { createArchiveLog } from '../storage/archive-log.ts';
import type { Db } from '../storage/db.ts';
import type { ReportSystemCondition } from '../core/system-conditions.ts';

const MB = 1024 * 1024;
const HOUR = 3_600_000;
export const DISK_ALARM_SOURCE = 'disk';
export const PRUNE_ALARM_SOURCE = 'disk:pruned';

export type StatFs = (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;

export interface DiskGuardDeps {
  db: Db;
  dataDir: string;
  lowFreeMb: number;
  criticalFreeMb: number;
  writer: { deleteRange(snId: number, from: number, to: number, receivedBefore: number): Promise<number> };
  archiver: { run(): Promise<{ enabled: boolean; failed: unknown }>; archiveDayNow(day: string): Promise<unknown> };
  archivingEnabled: () => boolean;
  /** STO-4: the DISK system alarm (ALM-1). */
  reportCondition: ReportSystemCondition;
  clock: Clock;
  log: Logger;
  timezone: string;
  /** Injected in tests for a small artificial disk. */
  statfs?: StatFs;
}

export interface DiskCheck {
  state: 'ok' | 'low' | 'critical';
  free_mb: number;
  archived_days: string[];
  pruned_unarchived_rows: number;
  pruned_before: number | null;
}

export function createDiskGuard(deps: DiskGuardDeps) {
  const { db, writer, reportCondition, clock } = deps;
  const log = deps.log.child({ stage: 'disk' });
  const statfs = deps.statfs ?? (statfsAsync as unknown as StatFs);
  const archiveLog = createArchiveLog(db);
  const freePages = db.prepare('PRAGMA freelist_count').pluck();
  const pageSize = db.pragma('page_size', { simple: true }) as number;

  async function freeBytes(): Promise<number> {
    const fs = await statfs(deps.dataDir);
    return Number(fs.bavail) * Number(fs.bsize) + (freePages.get() as number) * pageSize;
  }

  /** Oldest complete site days (not today) that still have rows, oldest first. */
  function oldestCompleteDay(): string | null {
    const oldest = archiveLog.oldestFrom(0);
    if (oldest === null) return null;
    const day = siteDayOf(oldest, deps.timezone);
    return siteDayRange(day, deps.timezone).end <= clock.now() ? day : null;
  }

  async function pruneOldestHour(): Promise<{ rows: number; before: number } | null> {
    const oldest = archiveLog.oldestFrom(0);
    if (oldest === null) return null;
    const before = oldest - (oldest % HOUR) + HOUR;
    if (before > clock.now() - HOUR) return null; // never the last hour: the live picture stays
    let rows = 0;
    for (const { id } of archiveLog.serials()) rows += await writer.deleteRange(id, 0, before, Number.MAX_SAFE_INTEGER);
    return { rows, before };
  }

  async function check(): Promise<DiskCheck> {
    const low = deps.lowFreeMb * MB;
    const critical = deps.criticalFreeMb * MB;
    let free = await freeBytes();
    const result: DiskCheck = { state: 'ok', free_mb: Math.floor(free / MB), archived_days: [], pruned_unarchived_rows: 0, pruned_before: null };
    if (free >= low) {
      reportCondition('DISK', DISK_ALARM_SOURCE, { holds: false });
      reportCondition('DISK', PRUNE_ALARM_SOURCE, { holds: false });
      return result;
    }
    result.state = free < critical ? 'critical' : 'low';
    reportCondition('DISK', DISK_ALARM_SOURCE, { holds: true, detail: `free space ${result.free_mb} MB is below ${deps.lowFreeMb} MB`, value: result.free_mb });
    if (free >= critical) return result;
    log.warn({ free_mb: result.free_mb, critical_mb: deps.criticalFreeMb }, 'disk critical: pruning raw data');
    // 1. Archived data first: with archiving on, due days leave (and their rows with them), then
    //    the oldest complete days are archived ahead of retention and deleted once verified.
    if (deps.archivingEnabled()) {
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
    // 2. Still critical: the oldest unarchived hour at a time, said loudly.
    while (free < critical) {
      const pruned = await pruneOldestHour();
      if (!pruned) break;
      result.pruned_unarchived_rows += pruned.rows;
      result.pruned_before = pruned.before;
      free = await freeBytes();
    }
    if (result.pruned_unarchived_rows) {
      const detail = `disk critical: deleted ${result.pruned_unarchived_rows} unarchived readings older than ${new Date(result.pruned_before!).toISOString()}`;
      log.error({ rows: result.pruned_unarchived_rows, before: result.pruned_before }, detail);
      reportCondition('DISK', PRUNE_ALARM_SOURCE, { holds: true, detail, value: result.pruned_unarchived_rows });
    }
    result.free_mb = Math.floor(free / MB);
    return result;
  }

  return { check, freeBytes };
}
export type DiskGuard = ReturnType<typeof createDiskGuard>;
