// ARC-1/ARC-2/ARC-5: the nightly archive. For each complete site day older than retention_days,
// oldest first: flush the writer, export the rows received so far (export.ts), upload, verify (size
// and sha256 read back from the bucket), and only then delete exactly those rows through the
// writer thread. Every attempt is an archive_log row; a failure (60002) raises the ARCHIVE system
// alarm and the run stops — the next run retries and catches up in order. Without storage settings
// nothing is deleted.
//
// The pieces, each in its own module: which days are due (due-days.ts), one day's step
// (archive-day.ts: export → upload under the stall watchdog → verify → delete), finishing attempts
// a crash interrupted (resume-unfinished.ts), the objects' keys (archive-key.ts) and reading them
// back for ARC-3 (archive-objects.ts). This factory runs them in order, one run at a time, and
// reports the ARCHIVE condition.
import type { ArchiveEntry, ArchiveStatus } from '../contract/storage.ts';
import type { Clock } from '../core/clock.ts';
import { ErrorCodes } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { siteDayRange } from '../core/site-day.ts';
import type { ReportSystemCondition } from '../core/system-conditions.ts';
import { createArchiveLog, type ArchiveLogRow } from '../storage/archive-log.ts';
import type { Db } from '../storage/db.ts';
import { createDayArchive, type ArchivedDay } from './archive-day.ts';
import { ArchiveFailure, describeArchiveError } from './archive-failure.ts';
import { createArchiveObjects } from './archive-objects.ts';
import { createExportedRowsDeletion } from './delete-exported.ts';
import { archiveCutoff, dueDays } from './due-days.ts';
import { createResumeUnfinished } from './resume-unfinished.ts';
import { createS3, type S3Timeouts } from './s3.ts';
import type { StorageSettingsStore } from './settings.ts';
import { STALL_TIMEOUT_MS } from './stall-watchdog.ts';

export { archiveKey } from './archive-key.ts';
export { STALL_TIMEOUT_MS } from './stall-watchdog.ts';
export const ARCHIVE_ALARM_SOURCE = 'archive';

export interface ArchiverDeps {
  db: Db;
  dbFile: string;
  /** The group-commit writer: flush() before an export, deleteRange() for the deletion. */
  writer: { flush(): Promise<void>; deleteRange(snId: number, from: number, to: number, receivedBefore: number): Promise<number> };
  settings: StorageSettingsStore;
  /** ARC-2: the ARCHIVE system alarm (ALM-1). */
  reportCondition: ReportSystemCondition;
  clock: Clock;
  log: Logger;
  timezone: string;
  retentionDays: number;
  /**
   * STO-3: the 1-minute roll-up watermark. Raw rows leave only once rolled up, so long-range charts
   * keep the archived days (a roll-up backlog, e.g. the first start on a full store, holds them back).
   */
  rolledUpTo?: () => number;
  /** S3 request bounds (s3.ts S3_TIMEOUTS unless given; tests shorten them). */
  s3Timeouts?: Partial<S3Timeouts>;
  /** STALL_TIMEOUT_MS unless given. */
  stallTimeoutMs?: number;
}

export interface ArchiveRunResult {
  enabled: boolean;
  /** ms: export+upload, verify (read back), delete — the phases of each day. */
  archived: ({ day: string } & ArchivedDay)[];
  resumed: number;
  failed: { day: string; error: string } | null;
}

export function createArchiver(deps: ArchiverDeps) {
  const { db, writer, settings, reportCondition, clock, timezone } = deps;
  const log = deps.log.child({ stage: 'archive' });
  const archiveLog = createArchiveLog(db);
  let running: Promise<ArchiveRunResult> | null = null;
  const openS3 = () => createS3(settings.current(), deps.s3Timeouts);
  const deleteExported = createExportedRowsDeletion({ archiveLog, writer, log });
  const resume = createResumeUnfinished({ archiveLog, deleteExported, clock });
  const archiveDay = createDayArchive({
    archiveLog, writer, deleteExported, dbFile: deps.dbFile, clock, log, timezone, stallTimeoutMs: deps.stallTimeoutMs ?? STALL_TIMEOUT_MS,
  });
  const bucket = createArchiveObjects({ settings, openS3 });
  const rolledUpTo = () => deps.rolledUpTo?.() ?? Number.MAX_SAFE_INTEGER;
  /** The days to archive now, oldest first: complete days that ended retention_days ago (and rolled up). */
  const dueNow = () => dueDays(archiveLog.oldestFrom, archiveCutoff(clock.now(), deps.retentionDays, rolledUpTo()), timezone);

  async function run(): Promise<ArchiveRunResult> {
    const result: ArchiveRunResult = { enabled: settings.enabled(), archived: [], resumed: 0, failed: null };
    if (!result.enabled) return result; // ARC-5: nothing leaves, nothing is deleted
    const s3 = openS3();
    let day = '';
    try {
      result.resumed = await resume(s3);
      for (day of dueNow()) {
        const done = await archiveDay(s3, day);
        result.archived.push({ day, ...done });
      }
      reportCondition('ARCHIVE', ARCHIVE_ALARM_SOURCE, { holds: false });
    } catch (err) {
      const message = describeArchiveError(err);
      result.failed = { day, error: message };
      log.error({ code: ErrorCodes.ARCHIVE_UPLOAD_FAILED.code, day, error: message }, 'archive failed; retried next run');
      reportCondition('ARCHIVE', ARCHIVE_ALARM_SOURCE, { holds: true, detail: `archive of ${day || 'interrupted days'} failed: ${message}` });
    } finally {
      s3.destroy();
    }
    return result;
  }

  function entryOf(row: ArchiveLogRow): ArchiveEntry {
    return {
      day: row.day, part: row.part, key: row.object_key, rows: row.rows ?? 0, bytes: row.bytes ?? 0, sha256: row.sha256 ?? '',
      archived_at: row.finished_at ?? row.started_at, local_rows_deleted: row.status === 'done',
    };
  }

  return {
    /** The archive job (02:00): one run at a time; a second call joins the running one. */
    run(): Promise<ArchiveRunResult> {
      running ??= run().finally(() => {
        running = null;
      });
      return running;
    },
    /** ARC-3 `/api/system/archives`: archived objects from archive_log, newest day first. */
    list: (): ArchiveEntry[] => archiveLog.archived().map(entryOf),
    /**
     * The archive objects in the bucket (first 1,000 keys under archive/), e.g. on a box restored or
     * replaced after the archives were written: day and part parsed from the key.
     */
    listBucket: bucket.list,
    /** ARC-3 `/api/system/archives/{date}/download`: the gzip CSV as a stream; 60003 when missing. */
    download: bucket.download,
    /** For /api/system/health and the UI: on/off (ARC-5), last attempt, days waiting. */
    status(): ArchiveStatus {
      const last = archiveLog.latest();
      const lastDone = archiveLog.latestDone();
      let pending = 0;
      for (const _ of dueNow()) if (++pending >= 1000) break;
      return {
        enabled: settings.enabled(),
        retention_days: deps.retentionDays,
        running: running !== null,
        last_attempt: last ? { day: last.day, status: last.status, at: last.finished_at ?? last.started_at, error: last.error } : null,
        last_archived_day: lastDone?.day ?? null,
        last_success_at: lastDone?.finished_at ?? null,
        pending_days: pending,
      };
    },
    /** The last attempts (archive_log), newest first. */
    attempts: (limit = 50): ArchiveLogRow[] => archiveLog.recent(limit),
    /** STO-4: a day's verified rows can go first when the disk is critical. */
    archiveDayNow: async (day: string) => {
      if (siteDayRange(day, timezone).end > rolledUpTo()) {
        throw new ArchiveFailure(`${day} is not rolled up yet`);
      }
      const s3 = openS3();
      try {
        return await archiveDay(s3, day);
      } finally {
        s3.destroy();
      }
    },
  };
}
export type Archiver = ReturnType<typeof createArchiver>;
