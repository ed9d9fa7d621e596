// A real SQLite file for each test: a temp dir of its own, the database opened there with every
// migration applied (openDb migrates), closed and removed after the test.
import { afterEach, beforeEach } from 'node:test';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { tempDir } from './appliance.ts';

export interface TempDb {
  /** The running test's open database. */
  readonly db: Db;
  /** The running test's temp dir: the database file lives here, and so may a secret box's key. */
  readonly dir: string;
  /** Closes the database and opens the same file again, as the appliance does across a restart. */
  reopen(): Db;
}

/**
 * Registers the hooks in the enclosing describe() (or the file when called at its top): each test
 * gets a fresh migrated database, read through the returned handle while the test runs.
 */
export function tempDbForEachTest(): TempDb {
  let temp: ReturnType<typeof tempDir> | null = null;
  let db: Db | null = null;
  beforeEach(() => {
    temp = tempDir();
    db = openDb(dbFileIn(temp.dir));
  });
  afterEach(() => {
    try {
      db?.close();
    } finally {
      temp?.remove();
      db = null;
      temp = null;
    }
  });
  const running = () => {
    if (!temp || !db) throw new Error('the temp database exists only while a test runs (opened in beforeEach)');
    return { temp, db };
  };
  return {
    get db() {
      return running().db;
    },
    get dir() {
      return running().temp.dir;
    },
    reopen() {
      const { temp: current, db: open } = running();
      open.close();
      db = openDb(dbFileIn(current.dir));
      return db;
    },
  };
}
