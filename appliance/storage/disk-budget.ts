// STO-4 on small disks (issue 16.8): how much of the data dir's file system the database may take.
// Measured on a 20 MB file system at 3,000 readings/s, the WAL alone filled it within 10 s: the
// checkpointer's PASSIVE checkpoints never catch up with a writer that commits every few ms, so the
// WAL is never reset (SQLite: "checkpoint starvation"). Once the disk is full nothing can be freed:
// a checkpoint must extend the database file and a DELETE must append to the WAL. Hence three
// bounds, all measured on the same file system:
//  - the WAL limit: the checkpointer resets the WAL once it grows past it, and journal_size_limit cuts the file back to it (checkpoint-worker.ts);
//  - the reserve: room kept free for the WAL and the checkpoint, never given to data;
//  - the page budget: the writer's connection may grow the database only while the file system
//    keeps that reserve (SQLite's max_page_count), so a full disk is an SQLITE_FULL in one
//    transaction — refused readings, not acknowledged — and never a disk the guard cannot prune.
import { existsSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from './db.ts';

const MB = 1024 * 1024;
/** Automatic WAL limit: this fraction of the file system, within [MIN, MAX]. */
const WAL_SHARE = 1 / 64;
const WAL_MIN_BYTES = 1 * MB;
const WAL_MAX_BYTES = 64 * MB;
/** The page budget follows the free space this often at most (a statfs and an fstat). */
const BUDGET_EVERY_MS = 200;

export interface DiskBudget {
  /** journal_size_limit of every connection, and the size past which the checkpointer resets the WAL (the file is cut back to it). */
  walLimitBytes: number;
  /** Free space kept for the WAL and checkpoints; the disk guard does not count it as free. */
  reserveBytes: number;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The file system holding `path`, or its nearest existing parent (the data dir may not exist yet). */
function statfsNearest(path: string) {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return statfsSync(dir);
}

/**
 * The WAL limit (`storage.wal_limit_mb`, or 0: a sixty-fourth of the file system between 1 and
 * 64 MB — 64 MB from 4 GB up, as before) and the reserve: twice the limit (the WAL may pass its
 * limit by what is written before the checkpointer sees it) plus 1 MB for the main connection.
 */
export function diskBudgetFor(dataDir: string, walLimitMb: number): DiskBudget {
  let walLimitBytes = walLimitMb * MB;
  if (walLimitBytes === 0) {
    const fs = statfsNearest(dataDir);
    const total = Number(fs.blocks) * Number(fs.bsize);
    walLimitBytes = Math.min(WAL_MAX_BYTES, Math.max(WAL_MIN_BYTES, Math.floor((total * WAL_SHARE) / MB) * MB));
  }
  return { walLimitBytes, reserveBytes: 2 * walLimitBytes + MB };
}

/**
 * The writer connection's page budget: before a write, at most every 200 ms, max_page_count is set
 * so that the database (with what its WAL will add to the file at the next checkpoint) leaves
 * `reserveBytes` of the file system free. Pages freed by deletions are reused within the budget.
 * `fixedMaxPages` (a test hook) caps it further.
 */
export function createPageBudget(db: Db, file: string, reserveBytes: number, fixedMaxPages?: number) {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pageCount = db.prepare('PRAGMA page_count').pluck();
  const dir = dirname(file);
  const walFile = `${file}-wal`;
  let measuredAt = -Infinity;
  let maxPages = 0;

  function set(pages: number) {
    if (pages === maxPages) return;
    // SQLite raises a limit below the current size to the current size: no growth at all.
    db.pragma(`max_page_count = ${pages}`);
    maxPages = pages;
  }

  return {
    /**
     * A deletion may need a page or two while it rebalances the tree, and it is what frees space:
     * it may use half the reserve. The budget is measured again before the next write.
     */
    freeing<T>(work: () => T): T {
      set(Math.max(maxPages, pageCount.get() as number) + Math.floor(reserveBytes / 2 / pageSize));
      try {
        return work();
      } finally {
        measuredAt = -Infinity;
      }
    },
    /** Follows the free space (cheap; call before each write). The limit in pages. */
    apply(now = performance.now()): number {
      if (now - measuredAt < BUDGET_EVERY_MS) return maxPages;
      measuredAt = now;
      const fs = statfsSync(dir);
      const pages = pageCount.get() as number;
      // The WAL's room is the reserve's (it is counted back); pages that so far live only in the
      // WAL take their room in the file at the next checkpoint.
      const pendingBytes = Math.max(0, pages * pageSize - sizeOf(file));
      const spareBytes = Number(fs.bavail) * Number(fs.bsize) + sizeOf(walFile) - pendingBytes - reserveBytes;
      let limit = Math.max(pages, pages + Math.floor(spareBytes / pageSize));
      if (fixedMaxPages) limit = Math.min(limit, fixedMaxPages);
      set(Math.max(1, limit));
      return maxPages;
    },
  };
}
export type PageBudget = ReturnType<typeof createPageBudget>;

/** The writer truncates the WAL itself past 1.5 times its limit (the reserve holds twice). */
const WAL_HARD_FACTOR = 1.5;
/** The WAL's room in the reserve (2 × limit + 1 MB): past it the writer refuses to write data. */
const WAL_RESERVE_FACTOR = 2;
/** After a truncation a reader prevented, the next try waits this long. */
const WAL_BOUND_RETRY_MS = 100;
/** How long the writer's own TRUNCATE waits for readers (the writer must not stall behind a long query). */
const WAL_BOUND_BUSY_MS = 50;
/** Failed truncations in a row before the writer says so. */
const WAL_BOUND_SAY_AFTER = 10;
/** Between a deletion's chunks past the reserve's room: how long the writer waits for a truncation, and how often it tries. */
const WAL_DELETION_WAIT_MS = 2000;
const WAL_DELETION_STEP_MS = 20;
/** A cell nobody notifies: Atomics.wait on it is a plain sleep of the writer thread. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const pause = (ms: number) => Atomics.wait(sleepCell, 0, 0, ms);

/**
 * The writer's hard bound on the WAL: the checkpointer truncates it past its limit, but a writer
 * that holds the write lock almost all the time (a disk-full retry storm, the guard's deletions)
 * starves it. Past 1.5 times the limit the writer, between two of its transactions, truncates the
 * WAL itself (no other writer to wait for; readers at most 50 ms). The reserve covers twice the limit.
 * Looked at after every write (one stat): the disk guard's deletions write most of what they free
 * to the WAL, one device after the other.
 */
export function createWalBound(db: Db, file: string, walLimitBytes: number, busyTimeoutMs: number) {
  const walFile = `${file}-wal`;
  let triedAt = -Infinity;
  let failures = 0;
  /** The WAL's size at the last look (after the last write): the gate below costs no syscall. */
  let lastBytes = 0;
  function truncate(bytes: number): string | null {
    db.pragma(`busy_timeout = ${WAL_BOUND_BUSY_MS}`);
    try {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return result.busy ? `WAL of ${bytes} bytes not truncated: a reader holds it` : null;
    } catch (err) {
      return `WAL of ${bytes} bytes not truncated: ${(err as Error).message}`;
    } finally {
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    }
  }
  return {
    /**
     * Before a write that grows the data (a batch, a roll-up): the WAL's room in the reserve is
     * twice its limit. Measured under CPU starvation (the test pinned to one core beside two busy
     * loops): the database sat at its page budget while the WAL, which the writer's TRUNCATE after
     * each write did not manage to reset (a starved checkpointer mid-checkpoint or a reader in the
     * way), grew to 3.0 MB, past the whole 3 MB reserve, to the file system's last byte (20 MB:
     * 17.8 MB database, 3.0 MB WAL, 32 kB -shm). So past twice the limit the writer truncates first
     * and, if it still cannot, refuses the write as a full disk (not acknowledged; the detectors
     * resend) instead of letting the WAL eat the room the checkpoint and the guard's deletions need.
     * Throws an SQLITE_FULL error.
     */
    beforeWrite(): void {
      if (lastBytes <= WAL_RESERVE_FACTOR * walLimitBytes) return;
      const problem = truncate(lastBytes);
      lastBytes = sizeOf(walFile);
      if (lastBytes <= WAL_RESERVE_FACTOR * walLimitBytes) {
        failures = 0;
        return;
      }
      throw Object.assign(
        new Error(`WAL of ${lastBytes} bytes is past its room in the disk reserve (${problem ?? 'not truncated'}); write refused / 预写日志已超出磁盘预留空间，写入被拒绝`),
        { code: 'SQLITE_FULL' },
      );
    },
    /**
     * Between two chunks of a deletion (the archive's, the disk guard's prune): what follows a
     * write, and past the WAL's room in the reserve (twice its limit) the writer waits for its
     * truncation (the checkpointer or a reader finishing; up to 2 s) before it writes on. A
     * deletion is what frees space, so it is never refused; but after one failed truncation the
     * next try came 100 ms later, and a prune's chunks in those 100 ms took the WAL of the 20 MB
     * test disk to 3.15 MB, past its reserve (2 of 21 runs). Null, or what to say.
     */
    betweenDeletions(now = performance.now()): string | null {
      const problem = this.afterWrite(now);
      if (lastBytes <= WAL_RESERVE_FACTOR * walLimitBytes) return problem;
      const until = now + WAL_DELETION_WAIT_MS;
      let why: string | null = null;
      do {
        why = truncate(lastBytes);
        lastBytes = sizeOf(walFile);
        if (lastBytes <= WAL_RESERVE_FACTOR * walLimitBytes) return null;
        pause(WAL_DELETION_STEP_MS);
      } while (performance.now() < until);
      return `${why ?? `WAL of ${lastBytes} bytes not truncated`}; the deletion went on past the WAL's room after ${WAL_DELETION_WAIT_MS} ms`;
    },
    /**
     * After a write: null, or why the WAL could not be truncated ten times in a row (a reader in
     * the way once is normal; it is tried again 100 ms later).
     */
    afterWrite(now = performance.now()): string | null {
      const bytes = sizeOf(walFile);
      lastBytes = bytes;
      if (failures && now - triedAt < WAL_BOUND_RETRY_MS) return null;
      if (bytes <= WAL_HARD_FACTOR * walLimitBytes) {
        failures = 0;
        return null;
      }
      triedAt = now;
      const problem = truncate(bytes);
      failures = problem ? failures + 1 : 0;
      return problem && failures % WAL_BOUND_SAY_AFTER === 0 ? `${problem} (${failures} tries)` : null;
    },
  };
}
