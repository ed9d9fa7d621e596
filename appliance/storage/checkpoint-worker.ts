// The checkpointer thread: copies committed WAL pages back into the database file with PASSIVE
// checkpoints on its own connection, so the writer thread never waits on that I/O and its fsync
// (BENCHMARKS.md: checkpoints inside commits cost the writer half its throughput). PASSIVE never
// blocks the writer or readers. The writer keeps a large autocheckpoint as a backstop.
//
// STO-4 (issue 16.8): PASSIVE alone never resets a WAL that a busy writer keeps appending to, so
// the WAL grew until it filled a small disk. Every `walCheckMs` the WAL file's size is looked at
// (one stat); past `walLimitBytes` a PASSIVE checkpoint copies the pages back beside the writer,
// then a RESTART waits for the writer's next pause only to reset the WAL, so the writer starts again
// at its beginning and journal_size_limit cuts the file back to the limit at its next commit
// (BENCHMARKS.md 2026-12-06: a TRUNCATE to 0 bytes there locked the writer out 20-40 ms about once a
// second at 40,000 readings/s, and later commits had to grow the file again). When the disk guard
// sees pressure it asks for a TRUNCATE: then the space itself is wanted back.
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointerMessage, CheckpointerOptions, CheckpointerRequest, CheckpointMode, CheckpointResult } from './writer-protocol.ts';

const { file, intervalMs, synchronous, walLimitBytes, walCheckMs } = workerData as CheckpointerOptions;
const walFile = `${file}-wal`;
const port = parentPort!;
const db = new Database(file);
// A RESTART or TRUNCATE waits for the writer's next pause between commits (a few ms), at most this long.
db.pragma('busy_timeout = 1000');
db.pragma(`synchronous = ${synchronous}`);
db.pragma(`journal_size_limit = ${walLimitBytes}`);
const post = (message: CheckpointerMessage) => port.postMessage(message);

function checkpoint(mode: CheckpointMode): CheckpointResult {
  const [result] = db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[];
  return result;
}

function walBytes(): number {
  try {
    return statSync(walFile).size;
  } catch {
    return 0;
  }
}

let lastPassive = performance.now();
function tick() {
  const overLimit = walBytes() > walLimitBytes;
  if (!overLimit && performance.now() - lastPassive < intervalMs) return;
  let mode: CheckpointMode = 'PASSIVE';
  try {
    checkpoint(mode);
    if (overLimit) checkpoint((mode = 'RESTART'));
  } catch (err) {
    const error = err as Error & { code?: string };
    post({ type: 'error', mode, message: error.message, code: error.code ?? 'UNKNOWN' });
  }
  lastPassive = performance.now();
}

const timer = setInterval(tick, Math.min(walCheckMs, intervalMs));
port.on('message', (message: CheckpointerRequest) => {
  if (message.type === 'checkpoint') {
    try {
      post({ type: 'checkpointed', id: message.id, result: checkpoint('TRUNCATE') });
    } catch (err) {
      const error = err as Error & { code?: string };
      post({ type: 'error', id: message.id, mode: 'TRUNCATE', message: error.message, code: error.code ?? 'UNKNOWN' });
    }
    return;
  }
  if (message.type !== 'close') return;
  clearInterval(timer);
  try {
    checkpoint('PASSIVE');
  } catch (err) {
    const error = err as Error & { code?: string };
    post({ type: 'error', mode: 'PASSIVE', message: error.message, code: error.code ?? 'UNKNOWN' });
  }
  db.close();
  post({ type: 'closed' });
  port.close();
});
post({ type: 'ready' });
