// ARC-2: the archive's own failures — an object missing or different when read back, a day that
// stalled, a day not rolled up yet. Their message is already the words the archive_log row, the
// ARCHIVE alarm and the run's result carry; any other error (the S3 client's) is put in words by
// describeS3Error, which leaks no credentials.
import { describeS3Error } from './s3.ts';

export class ArchiveFailure extends Error {}

/** What an attempt's log row, the ARCHIVE alarm and the run's result say about an error. */
export function describeArchiveError(err: unknown): string {
  return err instanceof ArchiveFailure ? err.message : describeS3Error(err);
}
