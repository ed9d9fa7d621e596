// ARC-3: the archives read back from the bucket for the API and the UI — the archive objects listed
// (also those the archive_log does not know, e.g. on a box restored or replaced after they were
// written) and one downloaded as a stream. Archiving off is 60001 (ARC-5), a day without an object
// 60003, a bucket that does not answer 60002; each opens its own S3 client and destroys it.
import type { Readable } from 'node:stream';
import { AppError } from '../core/errors.ts';
import { isSiteDay } from '../core/site-day.ts';
import { archiveKey, parseArchiveKey } from './archive-key.ts';
import { describeS3Error, type S3 } from './s3.ts';
import type { StorageSettingsStore } from './settings.ts';

export interface ArchiveObjectsDeps {
  settings: StorageSettingsStore;
  /** A client for the current storage settings (the caller destroys it). */
  openS3: () => S3;
}

export function createArchiveObjects({ settings, openS3 }: ArchiveObjectsDeps) {
  function requireStorage(): void {
    if (!settings.enabled()) throw new AppError('ARCHIVE_CONFIG_INVALID', undefined, 'archiving is off: storage is not configured');
  }
  /** An error of the bucket's side as the API says it; the archive's own AppErrors pass unchanged. */
  function asAppError(err: unknown): AppError {
    if (err instanceof AppError) return err;
    return new AppError('ARCHIVE_UPLOAD_FAILED', undefined, `archive storage unreachable: ${describeS3Error(err)}`);
  }

  return {
    /** The archive objects in the bucket (first 1,000 keys under archive/): day and part parsed from the key. */
    async list(): Promise<{ day: string; part: number; key: string; bytes: number }[]> {
      requireStorage();
      const s3 = openS3();
      try {
        const objects = await s3.list('archive/');
        return objects.flatMap(({ key, bytes }) => {
          const named = parseArchiveKey(key);
          return named ? [{ day: named.day, part: named.part, key, bytes }] : [];
        }).sort((a, b) => b.day.localeCompare(a.day) || a.part - b.part);
      } catch (err) {
        throw asAppError(err);
      } finally {
        s3.destroy();
      }
    },
    /** A day's archive (or a later part) as a gzip CSV stream; the client is destroyed when the stream closes. */
    async download(day: string, part = 1): Promise<{ stream: Readable; bytes: number; fileName: string; contentType: string }> {
      if (!isSiteDay(day)) throw new AppError('ARCHIVE_NOT_FOUND', { day }, `not a day: '${day}' (expected YYYY-MM-DD)`);
      requireStorage();
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
        throw asAppError(err);
      }
    },
  };
}
