// ARC-4 restore: `mcs-edge restore <file>` puts a backup (.db.gz from backupNow, or a plain .db)
// in place of the data dir's database. Refused while the database is open by anyone (the appliance
// must be stopped), and refused for a truncated or corrupt file; an integrity check runs on the copy
// before it replaces anything and again on the result. The replaced database is kept beside it.
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import Database from 'better-sqlite3';
import { dbFileIn, openDb, schemaVersion } from '../storage/db.ts';
import { migrations } from '../storage/migrations/index.ts';

export class RestoreError extends Error {}

export interface RestoreResult {
  database: string;
  previous: string | null;
  schemaVersion: number;
  readings: number;
  devices: number;
}

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/** Throws RestoreError when another connection has the database open (the appliance runs). */
export function assertNotInUse(file: string): void {
  if (!existsSync(file)) return;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { timeout: 0 });
    // With an exclusive locking mode an exclusive transaction fails while any other connection,
    // even an idle one, has the file open (WAL read locks).
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new RestoreError(`the database ${file} is in use: stop the appliance first (systemctl stop mcs-edge)`);
    }
    throw new RestoreError(`the current database ${file} cannot be opened: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** Checks a candidate database file; returns its schema version. */
function check(file: string): number {
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new RestoreError(`the backup fails the integrity check: ${String(result)}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    const latest = migrations.at(-1)!.version;
    if (version > latest) throw new RestoreError(`the backup has schema version ${version}, newer than this program (${latest}); upgrade MCS Edge first`);
    if (version < 1) throw new RestoreError('the file is an SQLite database but not an MCS Edge one (no schema version)');
    db.prepare('SELECT count(*) FROM readings').get();
    return version;
  } catch (err) {
    if (err instanceof RestoreError) throw err;
    throw new RestoreError(`the backup is not a usable database (truncated or corrupt?): ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}

export async function restoreBackup(backupFile: string, dataDir: string, now: () => number = Date.now): Promise<RestoreResult> {
  if (!existsSync(backupFile)) throw new RestoreError(`no such file: ${backupFile}`);
  const target = dbFileIn(dataDir);
  assertNotInUse(target);
  await mkdir(dataDir, { recursive: true });
  const stamp = new Date(now()).toISOString().replace(/[-:.]/g, '');
  const candidate = join(dataDir, `restore-${stamp}.db.partial`);
  try {
    try {
      if (await isGzip(backupFile)) await pipeline(createReadStream(backupFile), createGunzip(), createWriteStream(candidate));
      else await pipeline(createReadStream(backupFile), createWriteStream(candidate));
    } catch (err) {
      throw new RestoreError(`the backup file is truncated or corrupt (${(err as Error).message}); nothing was changed`);
    }
    const handle = await open(candidate, 'r');
    const { buffer } = await handle.read(Buffer.alloc(16), 0, 16, 0);
    await handle.close();
    if (buffer.toString('latin1') !== SQLITE_MAGIC) throw new RestoreError('the backup is not an SQLite database; nothing was changed');
    check(candidate);
    // The current database and its WAL/SHM move aside together: a WAL left beside the restored
    // file would be replayed into it.
    let previous: string | null = null;
    if (existsSync(target)) {
      previous = `${target}.before-restore-${stamp}`;
      await rename(target, previous);
      for (const suffix of ['-wal', '-shm']) {
        if (existsSync(target + suffix)) await rename(target + suffix, previous + suffix);
      }
    }
    await rename(candidate, target);
    const db = openDb(target); // brings an older backup's schema up to date
    try {
      const result = db.pragma('integrity_check', { simple: true });
      if (result !== 'ok') throw new RestoreError(`the restored database fails the integrity check: ${String(result)}`);
      return {
        database: target,
        previous,
        schemaVersion: schemaVersion(db),
        readings: (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n,
        devices: (db.prepare('SELECT count(*) AS n FROM devices').get() as { n: number }).n,
      };
    } finally {
      db.close();
    }
  } finally {
    await rm(candidate, { force: true });
  }
}
