// ARC-1/ARC-2/ARC-5: the nightly archive. For each complete site day older than retention_days,
// oldest first: flush the writer, export the rows received so far (export.ts), upload, verify (size
// and sha256 read back from the bucket), and only then delete exactly those rows through the
// writer thread. Every attempt is an archive_log row; a failure (60002) raises the ARCHIVE system
// alarm and the run stops — the next run retries and catches up in order. Without storage settings
// nothing is deleted.
import type { Readable } from 'node:stream';
import type { ArchiveEntry, ArchiveStatus } from '../contract/storage.ts';
import type { Clock } from '../core/clock.ts';
import { AppError, ErrorCodes } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { isSiteDay, siteDayOf, siteDayRange } from '../core/site-day.ts';
import { createArchiveLog, type ArchiveLogRow } from '../storage/archive-log.ts';
import type { Db } from '../storage/db.ts';
import { exportDayInWorker, type ExportResult } from './export.ts';
import { createS3, describeS3Error, type S3, type S3Timeouts } from './s3.ts';
import type { StorageSettingsStore } from './settings.ts';
import type { ReportSystemCondition } from '../core/system-conditions.ts';

const DAY_MS = 86_400_000;
export const ARCHIVE_ALARM_SOURCE = 'archive';
/**
 * A day's export+upload that moves nothing for this long has stalled: it is stopped and fails the run
 * (ARCHIVE alarm, retried next run) instead of waiting forever. Progress is a chunk from the export
 * thread, a read by the upload or a stored part; with two 5 MB parts in flight this allows uplinks
 * down to ~35 KB/s. Above S3_TIMEOUTS.idleMs, so a lost S3 response fails as that first.
 */
export const STALL_TIMEOUT_MS = 300_000;

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
  archived: { day: string; part: number; rows: number; bytes: number; ms: { upload: number; verify: number; delete: number } }[];
  resumed: number;
  failed: { day: string; error: string } | null;
}

/** `archive/YYYY/MM/sensor_data_YYYYMMDD.csv.gz` (seed §5.3); later parts `..._YYYYMMDD_2.csv.gz`. */
export function archiveKey(day: string, part = 1): string {
  const [y, m, d] = day.split('-');
  return `archive/${y}/${m}/sensor_data_${y}${m}${d}${part > 1 ? `_${part}` : ''}.csv.gz`;
}

class ArchiveFailure extends Error {}

/**
 * Fails a phase that stops moving: `stalled` rejects (and `signal` aborts) after `limitMs` without a
 * pulse. Real elapsed time, like the S3 timeouts — a hang is a matter of wall-clock seconds.
 */
function stallWatchdog(limitMs: number, describe: (idleMs: number) => string) {
  const controller = new AbortController();
  let last = performance.now();
  let fail!: (err: Error) => void;
  const stalled = new Promise<never>((_, reject) => (fail = reject));
  stalled.catch(() => {});
  const timer = setInterval(() => {
    const idle = performance.now() - last;
    if (idle < limitMs) return;
    clearInterval(timer);
    const err = new ArchiveFailure(describe(idle));
    controller.abort(err);
    fail(err);
  }, Math.max(20, Math.min(limitMs / 4, 5_000)));
  return {
    signal: controller.signal,
    stalled,
    pulse: () => {
      last = performance.now();
    },
    stop: () => clearInterval(timer),
  };
}

export function createArchiver(deps: ArchiverDeps) {
  const { db, writer, settings, reportCondition, clock, timezone } = deps;
  const log = deps.log.child({ stage: 'archive' });
  const archiveLog = createArchiveLog(db);
  let running: Promise<ArchiveRunResult> | null = null;
  const openS3 = () => createS3(settings.current(), deps.s3Timeouts);

  /** Deletes the rows an attempt exported; with `perDevice`, a device whose count moved is kept. */
  async function deleteExported(entry: ArchiveLogRow, perDevice?: Map<number, number>): Promise<number> {
    let deleted = 0;
    for (const { id } of archiveLog.serials()) {
      if (perDevice) {
        const expected = perDevice.get(id) ?? 0;
        const now = archiveLog.deviceCount(id, entry.day_start, entry.day_end, entry.received_before);
        if (now !== expected) {
          // Only a clock stepped back can do this; keeping the rows doubles them in the next part at worst.
          log.warn({ day: entry.day, sn_id: id, expected, now }, 'rows changed since the export; kept for the next part');
          continue;
        }
        if (expected === 0) continue;
      }
      const n = await writer.deleteRange(id, entry.day_start, entry.day_end, entry.received_before);
      if (n) archiveLog.update(entry.id, { deleted_rows: (archiveLog.get(entry.id)?.deleted_rows ?? 0) + n });
      deleted += n;
    }
    return deleted;
  }

  async function verify(s3: S3, entry: ArchiveLogRow, expected: { bytes: number; sha256: string }): Promise<void> {
    const head = await s3.head(entry.object_key);
    if (!head) throw new ArchiveFailure(`uploaded object ${entry.object_key} is missing`);
    if (head.bytes !== expected.bytes) throw new ArchiveFailure(`uploaded object has ${head.bytes} bytes, ${expected.bytes} were sent`);
    const back = await s3.sha256(entry.object_key);
    if (back.sha256 !== expected.sha256) throw new ArchiveFailure(`uploaded object's sha256 ${back.sha256} differs from the sent ${expected.sha256}`);
  }

  /** A crash left attempts half done: redo 'running' ones, finish 'verified' ones after checking again. */
  async function resume(s3: S3): Promise<number> {
    let resumed = 0;
    for (const entry of archiveLog.unfinished()) {
      if (entry.status === 'running') {
        archiveLog.update(entry.id, { status: 'failed', error: 'interrupted (restart) before verification', finished_at: clock.now() });
        continue;
      }
      try {
        await verify(s3, entry, { bytes: entry.bytes!, sha256: entry.sha256! });
      } catch (err) {
        if (!(err instanceof ArchiveFailure)) throw err;
        // The object went away after it was verified: keep the rows; they become the next part.
        archiveLog.update(entry.id, { status: 'failed', error_code: ErrorCodes.ARCHIVE_UPLOAD_FAILED.code, error: err.message, finished_at: clock.now() });
        continue;
      }
      await deleteExported(entry);
      archiveLog.update(entry.id, { status: 'done', finished_at: clock.now() });
      resumed++;
    }
    return resumed;
  }

  async function archiveDay(s3: S3, day: string): Promise<{ part: number; rows: number; bytes: number; ms: { upload: number; verify: number; delete: number } }> {
    const { start, end } = siteDayRange(day, timezone);
    // A part number once verified is never reused, even if its object vanished later.
    const earlier = archiveLog.ofDay(day).filter((e) => e.sha256 !== null);
    const part = Math.max(0, ...earlier.map((e) => e.part)) + 1;
    // Every reading received before this instant is committed once flush() resolves (ING-6 path).
    const receivedBefore = clock.now();
    await writer.flush();
    const entry = archiveLog.start({
      day, part, object_key: archiveKey(day, part),
      day_start: start, day_end: end, received_before: receivedBefore, started_at: clock.now(),
    });
    let exported: ExportResult;
    let verified = false;
    const limitMs = deps.stallTimeoutMs ?? STALL_TIMEOUT_MS;
    // The export thread and the upload wait on each other (credit, parts); whatever the cause, a
    // day that stops moving fails loudly instead of holding the run forever.
    const watchdog = stallWatchdog(limitMs, (idle) => {
      const side = job.stream.readableLength > 0 ? 'the upload stopped reading the export' : 'the export thread stopped sending';
      return `archive of ${day} stalled: no progress for ${Math.round(idle / 1000)} s (${side}); stopped, retried next run`;
    });
    const job = exportDayInWorker(deps.dbFile, { from: start, to: end, receivedBefore }, { onActivity: watchdog.pulse });
    const t0 = performance.now();
    const ms = { upload: 0, verify: 0, delete: 0 };
    try {
      try {
        const upload = s3.upload(entry.object_key, job.stream, {
          contentType: 'application/gzip', metadata: { day, part: String(part) }, signal: watchdog.signal, onPart: watchdog.pulse,
        });
        upload.catch(() => {}); // when the watchdog wins the race, the aborted upload's rejection is expected
        await Promise.race([upload, watchdog.stalled]);
        exported = await Promise.race([job.result, watchdog.stalled]);
      } finally {
        watchdog.stop();
        job.abort(); // no-op after a complete export; stops the export thread after a failed upload
      }
      ms.upload = Math.round(performance.now() - t0);
      await verify(s3, entry, exported);
      ms.verify = Math.round(performance.now() - t0) - ms.upload;
      archiveLog.update(entry.id, { status: 'verified', rows: exported.rows, bytes: exported.bytes, sha256: exported.sha256 });
      verified = true;
      const deleted = await deleteExported({ ...entry, received_before: receivedBefore }, exported.perDevice);
      archiveLog.update(entry.id, { status: 'done', finished_at: clock.now() });
      ms.delete = Math.round(performance.now() - t0) - ms.upload - ms.verify;
      log.info({ day, part, rows: exported.rows, bytes: exported.bytes, deleted, ms }, 'day archived');
      return { part, rows: exported.rows, bytes: exported.bytes, ms };
    } catch (err) {
      const message = err instanceof ArchiveFailure ? err.message : describeS3Error(err);
      // A verified object stays 'verified': the next run checks it again and finishes the deletion
      // (re-exporting instead would overwrite it without the rows already deleted).
      if (verified) {
        archiveLog.update(entry.id, { error: `deletion interrupted: ${message}` });
        throw new ArchiveFailure(`deleting the archived rows of ${day} failed: ${message}`);
      }
      archiveLog.update(entry.id, { status: 'failed', error_code: ErrorCodes.ARCHIVE_UPLOAD_FAILED.code, error: message, finished_at: clock.now() });
      throw new ArchiveFailure(message);
    }
  }

  /** The days to archive now, oldest first: complete days that ended retention_days ago (and rolled up). */
  function* dueDays(retentionCutoff: number): Generator<string> {
    const cutoff = Math.min(retentionCutoff, deps.rolledUpTo?.() ?? Number.MAX_SAFE_INTEGER);
    let cursor = 0;
    for (;;) {
      const oldest = archiveLog.oldestFrom(cursor);
      if (oldest === null) return;
      const day = siteDayOf(oldest, timezone);
      const { end } = siteDayRange(day, timezone);
      if (end > cutoff) return;
      yield day;
      cursor = end;
    }
  }

  async function run(): Promise<ArchiveRunResult> {
    const result: ArchiveRunResult = { enabled: settings.enabled(), archived: [], resumed: 0, failed: null };
    if (!result.enabled) return result; // ARC-5: nothing leaves, nothing is deleted
    const s3 = openS3();
    let day = '';
    try {
      result.resumed = await resume(s3);
      for (day of dueDays(clock.now() - deps.retentionDays * DAY_MS)) {
        const done = await archiveDay(s3, day);
        result.archived.push({ day, ...done });
      }
      reportCondition('ARCHIVE', ARCHIVE_ALARM_SOURCE, { holds: false });
    } catch (err) {
      const message = err instanceof ArchiveFailure ? err.message : describeS3Error(err);
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
    async listBucket(): Promise<{ day: string; part: number; key: string; bytes: number }[]> {
      if (!settings.enabled()) throw new AppError('ARCHIVE_CONFIG_INVALID', undefined, 'archiving is off: storage is not configured');
      const s3 = openS3();
      try {
        const objects = await s3.list('archive/');
        return objects.flatMap(({ key, bytes }) => {
          const match = /sensor_data_(\d{4})(\d{2})(\d{2})(?:_(\d+))?\.csv\.gz$/.exec(key);
          return match ? [{ day: `${match[1]}-${match[2]}-${match[3]}`, part: Number(match[4] ?? 1), key, bytes }] : [];
        }).sort((a, b) => b.day.localeCompare(a.day) || a.part - b.part);
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('ARCHIVE_UPLOAD_FAILED', undefined, `archive storage unreachable: ${describeS3Error(err)}`);
      } finally {
        s3.destroy();
      }
    },
    /** ARC-3 `/api/system/archives/{date}/download`: the gzip CSV as a stream; 60003 when missing. */
    async download(day: string, part = 1): Promise<{ stream: Readable; bytes: number; fileName: string; contentType: string }> {
      if (!isSiteDay(day)) throw new AppError('ARCHIVE_NOT_FOUND', { day }, `not a day: '${day}' (expected YYYY-MM-DD)`);
      if (!settings.enabled()) throw new AppError('ARCHIVE_CONFIG_INVALID', undefined, 'archiving is off: storage is not configured');
      const key = archiveKey(day, part);
      const s3 = openS3();
      try {
        const head = await s3.head(key);
        if (!head) throw new AppError('ARCHIVE_NOT_FOUND', { day, part }, `no archive for ${day}${part > 1 ? ` part ${part}` : ''}`);
        const stream = await s3.get(key);
        stream.once('close', () => s3.destroy());
        return { stream, bytes: head.bytes, fileName: key.split('/').pop()!, contentType: 'application/gzip' };
      } catch (err) {
        s3.destroy();
        if (err instanceof AppError) throw err;
        throw new AppError('ARCHIVE_UPLOAD_FAILED', undefined, `archive storage unreachable: ${describeS3Error(err)}`);
      }
    },
    /** For /api/system/health and the UI: on/off (ARC-5), last attempt, days waiting. */
    status(): ArchiveStatus {
      const last = archiveLog.latest();
      const lastDone = archiveLog.latestDone();
      let pending = 0;
      for (const _ of dueDays(clock.now() - deps.retentionDays * DAY_MS)) if (++pending >= 1000) break;
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
      if (siteDayRange(day, timezone).end > (deps.rolledUpTo?.() ?? Number.MAX_SAFE_INTEGER)) {
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
