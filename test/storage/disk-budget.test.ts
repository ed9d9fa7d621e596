// STO-4 / issue 16.8: the WAL limit, the reserve and the writer connection's page budget, on a real
// SQLite file (the reserve is set so that the temp dir's file system looks nearly full).
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { statfsSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { createPageBudget, createWalBound, diskBudgetFor } from '../../appliance/storage/disk-budget.ts';
import { tempDir } from '../helpers/appliance.ts';
import { mountSmallDisk } from './small-disk-support.ts';

const MB = 1024 * 1024;

test('the WAL limit is the configured one, or a 64th of the file system between 1 and 64 MB; the reserve twice it plus 1 MB', () => {
  const temp = tempDir();
  try {
    assert.deepEqual(diskBudgetFor(temp.dir, 8), { walLimitBytes: 8 * MB, reserveBytes: 17 * MB });
    const fs = statfsSync(temp.dir);
    const auto = diskBudgetFor(`${temp.dir}/not-yet/created`, 0);
    const expected = Math.min(64 * MB, Math.max(MB, Math.floor((fs.blocks * fs.bsize) / 64 / MB) * MB));
    assert.equal(auto.walLimitBytes, expected);
    assert.equal(auto.reserveBytes, 2 * auto.walLimitBytes + MB);
  } finally {
    temp.remove();
  }
});

test('on a real 8 MB file system the page budget stops the database growing into the reserve (SQLITE_FULL), and deletions still free space', (t) => {
  const disk = mountSmallDisk(8);
  if ('skip' in disk) return void t.skip(disk.skip);
  const file = dbFileIn(disk.dir);
  const db = openDb(file);
  try {
    db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, payload BLOB)');
    const insert = db.prepare('INSERT INTO filler (payload) VALUES (?)');
    const fill = (rows: number) => db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(Buffer.alloc(1000, i));
    })();
    const budget = createPageBudget(db, file, 5 * MB); // of 8 MB: about 3 MB for the database
    const count = () => (db.prepare('SELECT count(*) AS n FROM filler').get() as { n: number }).n;
    let rows = 0;
    assert.throws(() => {
      for (;;) {
        budget.apply(performance.now() + rows * 1000); // measured before each write, as the writer does
        fill(100);
        rows += 100;
      }
    }, (err: Error & { code?: string }) => err.code === 'SQLITE_FULL');
    assert.equal(count(), rows, 'the refused transaction left nothing');
    assert.ok(rows > 1500 && rows < 3200, `about 3 MB of rows went in (${rows})`);
    const fs = statfsSync(disk.dir);
    assert.ok(fs.bavail * fs.bsize + statSync(`${file}-wal`).size >= 5 * MB - 64 * 1024, 'the reserve is still free');
    const deleted = budget.freeing(() => db.prepare('DELETE FROM filler WHERE id <= 1000').run().changes);
    assert.equal(deleted, 1000);
    budget.apply(Number.MAX_SAFE_INTEGER);
    fill(900); // the freed pages are reused within the same budget
  } finally {
    db.close();
    disk.unmount();
  }
});

/** A database with a WAL that does not checkpoint by itself, a table to grow it, and its bound at a 256 kB limit. */
function walFixture() {
  const temp = tempDir();
  const file = dbFileIn(temp.dir);
  const db = openDb(file);
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, payload BLOB)');
  const insert = db.prepare('INSERT INTO filler (payload) VALUES (?)');
  return {
    file, db,
    bound: createWalBound(db, file, 256 * 1024, 5000),
    walBytes: () => statSync(`${file}-wal`).size,
    /** Writes `rows` rows of 1 kB. */
    grow: (rows: number) => {
      for (let i = 0; i < rows; i++) insert.run(Buffer.alloc(1000, i));
    },
    insert,
    close: () => (db.close(), temp.remove()),
  };
}

test('past 1.5 times its limit the writer truncates the WAL itself', () => {
  const { bound, walBytes, grow, insert, close } = walFixture();
  try {
    grow(300);
    assert.ok(walBytes() > 384 * 1024, 'the WAL grew past 1.5 times its limit');
    assert.equal(bound.afterWrite(), null);
    assert.equal(walBytes(), 0, 'truncated');
    insert.run(Buffer.alloc(10));
    assert.equal(bound.afterWrite(), null);
    assert.ok(walBytes() > 0 && walBytes() < 384 * 1024, 'below the bound: left alone');
  } finally {
    close();
  }
});

test('past twice its limit (its room in the reserve) a WAL that cannot be truncated refuses the next write as a full disk', () => {
  const { file, bound, walBytes, grow, close } = walFixture();
  const reader = new Database(file, { readonly: true });
  try {
    // A reader's snapshot keeps the WAL from being truncated (as a starved checkpointer did).
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM filler').get();
    grow(600);
    bound.afterWrite();
    assert.ok(walBytes() > 512 * 1024, 'the WAL grew past twice its limit');
    assert.throws(() => bound.beforeWrite(), (err: Error & { code?: string }) => err.code === 'SQLITE_FULL' && /预写日志/.test(err.message));
    reader.exec('COMMIT');
    bound.beforeWrite(); // truncates, then lets the write through
    assert.equal(walBytes(), 0, 'truncated before the write');
  } finally {
    reader.close();
    close();
  }
});

test('between a deletion’s chunks past twice its limit the writer waits for the truncation, then goes on and says so (never refused)', () => {
  const { file, db, bound, walBytes, grow, close } = walFixture();
  const reader = new Database(file, { readonly: true });
  try {
    grow(600);
    assert.equal(bound.betweenDeletions(), null, 'nobody in the way: truncated at once');
    assert.equal(walBytes(), 0);

    // A reader that keeps its snapshot for good: the writer waits its 2 s, then the deletion goes on.
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM filler').get();
    grow(600);
    const started = performance.now();
    const problem = bound.betweenDeletions();
    const waited = performance.now() - started;
    assert.ok(waited >= 1900 && waited < 10_000, `waited ${Math.round(waited)} ms`);
    assert.match(String(problem), /the deletion went on past the WAL's room after 2000 ms/);
    // Below twice the limit it does not wait (afterWrite's bound at 1.5 times is enough).
    reader.exec('COMMIT');
    db.exec('DELETE FROM filler');
    const quick = performance.now();
    bound.betweenDeletions();
    assert.ok(performance.now() - quick < 1000);
  } finally {
    reader.close();
    close();
  }
});
