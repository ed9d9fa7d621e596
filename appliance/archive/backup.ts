// ARC-4: consistent online backups of the database with SQLite's backup API (the appliance keeps
// running and writing), gzip-compressed into data_dir/backups (the last N kept), and uploaded to
// the bucket when storage is configured. Weekly by the scheduler and on demand (backupNow).
// The secret key file (secret.key) is NOT in the backup: keep it apart (README, restore).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { BackupEntry } from '../contract/storage.ts';
import type { Clock } from '../core/clock.ts';
import { ErrorCodes } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Db } from '../storage/db.ts';
import { createS3, describeS3Error } from './s3.ts';
import type { StorageSettingsStore } from './settings.ts';
import type { ReportSystemCondition } from '../core/system-conditions.ts';

export const BACKUP_DIR = 'backups';
const NAME = /^mcs-edge-(\d{8}T\d{6}Z)\.db\.gz$/;
export const BACKUP_ALARM_SOURCE = 'backup';

export interface BackupDeps {
  db: Db;
  dataDir: string;
  settings: StorageSettingsStore;
  clock: Clock;
  log: Logger;
  keep: number;
  /** ARC-4: an upload that failed is an ARCHIVE system alarm (ALM-1). */
  reportCondition?: ReportSystemCondition;
}

export interface BackupResult extends BackupEntry {
  sha256: string;
  upload_error: string | null;
  removed: string[];
}

const stampOf = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

export function createBackups(deps: BackupDeps) {
  const { db, settings, clock } = deps;
  const log = deps.log.child({ stage: 'backup' });
  const dir = join(deps.dataDir, BACKUP_DIR);
  let running: Promise<BackupResult> | null = null;
  const uploaded = new Map<string, string>();

  async function list(): Promise<BackupEntry[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const entries: BackupEntry[] = [];
    for (const file of names.filter((n) => NAME.test(n)).sort().reverse()) {
      const info = await stat(join(dir, file));
      const stamp = NAME.exec(file)![1];
      const created = Date.parse(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`);
      entries.push({ file, bytes: info.size, created_at: created, uploaded_key: uploaded.get(file) ?? null });
    }
    return entries;
  }

  async function backup(): Promise<BackupResult> {
    await mkdir(dir, { recursive: true });
    const now = clock.now();
    const file = `mcs-edge-${stampOf(now)}.db.gz`;
    const raw = join(dir, `${file}.sqlite.partial`);
    const partial = join(dir, `${file}.partial`);
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      // The SQLite online backup: a consistent snapshot, copied in steps between other work.
      await db.backup(raw);
      const tap = new Transform({
        transform(chunk: Buffer, _e, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(createReadStream(raw), createGzip(), tap, createWriteStream(partial));
      await rename(partial, join(dir, file)); // only a complete file carries the backup name
    } finally {
      await rm(raw, { force: true });
      await rm(partial, { force: true });
    }
    const sha256 = hash.digest('hex');
    const removed = await prune();
    let uploadError: string | null = null;
    let key: string | null = null;
    if (settings.enabled()) {
      const s3 = createS3(settings.current());
      try {
        key = `backups/${file}`;
        await s3.upload(key, createReadStream(join(dir, file)), { contentType: 'application/gzip', metadata: { sha256 } });
        const head = await s3.head(key);
        if (head?.bytes !== bytes) throw new Error(`uploaded backup has ${head?.bytes ?? 'no'} bytes, ${bytes} were sent`);
        uploaded.set(file, key);
        deps.reportCondition?.('ARCHIVE', BACKUP_ALARM_SOURCE, { holds: false });
      } catch (err) {
        uploadError = describeS3Error(err);
        key = null;
        log.error({ code: ErrorCodes.ARCHIVE_UPLOAD_FAILED.code, file, error: uploadError }, 'backup upload failed; kept locally');
        deps.reportCondition?.('ARCHIVE', BACKUP_ALARM_SOURCE, { holds: true, detail: `backup upload failed (kept locally as ${file}): ${uploadError}` });
      } finally {
        s3.destroy();
      }
    }
    log.info({ file, bytes, uploaded: key, removed }, 'backup written');
    return { file, bytes, created_at: now, uploaded_key: key, sha256, upload_error: uploadError, removed };
  }

  /** Keeps the newest `keep` backups. */
  async function prune(): Promise<string[]> {
    const all = (await readdir(dir)).filter((n) => NAME.test(n)).sort().reverse();
    const old = all.slice(deps.keep);
    for (const file of old) await rm(join(dir, file), { force: true });
    return old;
  }

  return {
    dir,
    list,
    /** ARC-4 on demand and weekly; a call while one runs joins it. */
    backupNow(): Promise<BackupResult> {
      running ??= backup().finally(() => {
        running = null;
      });
      return running;
    },
    /** A local backup file's path, for a download route; null when there is no such backup. */
    async pathOf(file: string): Promise<string | null> {
      if (!NAME.test(file)) return null;
      try {
        await stat(join(dir, file));
        return join(dir, file);
      } catch {
        return null;
      }
    },
  };
}
export type Backups = ReturnType<typeof createBackups>;
