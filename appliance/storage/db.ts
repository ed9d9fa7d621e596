// STO-1: one SQLite file in the data directory, WAL mode, migrations applied at open.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { migrations as allMigrations, type Migration } from './migrations/index.ts';

export type Db = Database.Database;

export const DB_FILE_NAME = 'mcs-edge.db';
export const dbFileIn = (dataDir: string) => join(dataDir, DB_FILE_NAME);

export interface OpenDbOptions {
  /** 'NORMAL' survives a process crash; 'FULL' also a power cut (fsync per commit). */
  synchronous?: 'NORMAL' | 'FULL';
  /** Page cache in MiB for this connection. */
  cacheMb?: number;
  readonly?: boolean;
  migrations?: Migration[];
  /**
   * STO-4 (issue 16.8): the WAL file is cut back to this size when it is reset; every writing
   * connection says the same (storage/disk-budget.ts). Default 64 MB.
   */
  walLimitBytes?: number;
}

const DEFAULT_WAL_LIMIT_BYTES = 64 * 1024 * 1024;

/** Opens (creating if needed) the database and brings its schema up to date. */
export function openDb(file: string, options: OpenDbOptions = {}): Db {
  if (!options.readonly) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    db.pragma(`journal_size_limit = ${options.walLimitBytes ?? DEFAULT_WAL_LIMIT_BYTES}`);
  }
  db.pragma(`cache_size = ${-1024 * (options.cacheMb ?? 16)}`);
  if (!options.readonly) {
    try {
      migrate(db, options.migrations ?? allMigrations);
    } catch (err) {
      db.close();
      throw err;
    }
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies each migration newer than the file's version in its own transaction. */
export function migrate(db: Db, migrations: Migration[]): number {
  const current = schemaVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this program (${latest}); upgrade MCS Edge`);
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
    if (migration.foreignKeysOff) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(migration.sql);
        if (migration.foreignKeysOff) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length) throw new Error(`migration ${migration.version} would break ${broken.length} references`);
        }
        db.pragma(`user_version = ${migration.version}`);
      }).immediate();
    } finally {
      if (migration.foreignKeysOff) db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
    }
  }
  return schemaVersion(db);
}
