// ARC-1/ARC-2: one site day's archive step, phase by phase. Flush the writer, so every reading
// received before the step began is committed; open the attempt's archive_log row; export those rows
// on the export thread (export.ts) straight into the upload (s3.ts), both under the stall watchdog;
// verify the object read back; mark the attempt 'verified'; delete exactly the exported rows; mark
// it 'done'. A failure before verification marks the attempt 'failed' (60002) with nothing deleted;
// one after it leaves the attempt 'verified' for resume-unfinished.ts to finish.
import type { Clock } from '../core/clock.ts';
import { ErrorCodes } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { siteDayRange } from '../core/site-day.ts';
import type { ArchiveLog } from '../storage/archive-log.ts';
import { ArchiveFailure, describeArchiveError } from './archive-failure.ts';
import { archiveKey } from './archive-key.ts';
import type { DeleteExported } from './delete-exported.ts';
import { exportDayInWorker, type ExportResult } from './export.ts';
import type { S3 } from './s3.ts';
import { createStallWatchdog } from './stall-watchdog.ts';
import { verifyArchivedObject } from './verify-object.ts';

/** A day archived: its part, what the object holds, and the ms of each phase (export+upload, verify, delete). */
export interface ArchivedDay {
  part: number;
  rows: number;
  bytes: number;
  ms: { upload: number; verify: number; delete: number };
}

export interface DayArchiveDeps {
  archiveLog: ArchiveLog;
  /** The group-commit writer: flush() before an export. */
  writer: { flush(): Promise<void> };
  deleteExported: DeleteExported;
  /** The database file the export thread opens read-only. */
  dbFile: string;
  clock: Clock;
  log: Logger;
  timezone: string;
  /** No progress for this long stops the day (stall-watchdog.ts). */
  stallTimeoutMs: number;
}

/** Returns `archiveDay(s3, day)`: archives one site day as its next part, or throws an ArchiveFailure. */
export function createDayArchive(deps: DayArchiveDeps) {
  const { archiveLog, writer, deleteExported, clock, log, timezone } = deps;

  return async function archiveDay(s3: S3, day: string): Promise<ArchivedDay> {
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
    // The export thread and the upload wait on each other (credit, parts); whatever the cause, a
    // day that stops moving fails loudly instead of holding the run forever.
    const watchdog = createStallWatchdog(deps.stallTimeoutMs, (idle) => {
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
      await verifyArchivedObject(s3, entry.object_key, exported);
      ms.verify = Math.round(performance.now() - t0) - ms.upload;
      archiveLog.update(entry.id, { status: 'verified', rows: exported.rows, bytes: exported.bytes, sha256: exported.sha256 });
      verified = true;
      const deleted = await deleteExported({ ...entry, received_before: receivedBefore }, exported.perDevice);
      archiveLog.update(entry.id, { status: 'done', finished_at: clock.now() });
      ms.delete = Math.round(performance.now() - t0) - ms.upload - ms.verify;
      log.info({ day, part, rows: exported.rows, bytes: exported.bytes, deleted, ms }, 'day archived');
      return { part, rows: exported.rows, bytes: exported.bytes, ms };
    } catch (err) {
      const message = describeArchiveError(err);
      // A verified object stays 'verified': the next run checks it again and finishes the deletion
      // (re-exporting instead would overwrite it without the rows already deleted).
      if (verified) {
        archiveLog.update(entry.id, { error: `deletion interrupted: ${message}` });
        throw new ArchiveFailure(`deleting the archived rows of ${day} failed: ${message}`);
      }
      archiveLog.update(entry.id, { status: 'failed', error_code: ErrorCodes.ARCHIVE_UPLOAD_FAILED.code, error: message, finished_at: clock.now() });
      throw new ArchiveFailure(message);
    }
  };
}
