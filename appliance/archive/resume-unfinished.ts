// ARC-2 after a crash: attempts a restart left half done, finished before a run archives anything
// new. A 'running' attempt was never verified: it is marked failed and its day is archived again
// (its part number was never taken, so the new upload replaces its object). A 'verified' one is
// verified again and its deletion finished — re-exporting instead would overwrite the object
// without the rows already deleted. A verified object that has vanished since fails its attempt:
// the rows stay and become the day's next part.
import type { Clock } from '../core/clock.ts';
import { ErrorCodes } from '../core/errors.ts';
import type { ArchiveLog } from '../storage/archive-log.ts';
import { ArchiveFailure } from './archive-failure.ts';
import type { DeleteExported } from './delete-exported.ts';
import type { S3 } from './s3.ts';
import { verifyArchivedObject } from './verify-object.ts';

export interface ResumeUnfinishedDeps {
  archiveLog: ArchiveLog;
  deleteExported: DeleteExported;
  clock: Clock;
}

/** Returns `resume(s3)`: finishes the interrupted attempts and counts the ones completed. */
export function createResumeUnfinished({ archiveLog, deleteExported, clock }: ResumeUnfinishedDeps) {
  return async function resume(s3: S3): Promise<number> {
    let resumed = 0;
    for (const entry of archiveLog.unfinished()) {
      if (entry.status === 'running') {
        archiveLog.update(entry.id, { status: 'failed', error: 'interrupted (restart) before verification', finished_at: clock.now() });
        continue;
      }
      try {
        await verifyArchivedObject(s3, entry.object_key, { bytes: entry.bytes!, sha256: entry.sha256! });
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
  };
}
