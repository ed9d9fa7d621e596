// The checkpointer thread: copies committed WAL pages back into the database file with PASSIVE
// checkpoints on its own connection, so the writer thread never waits on that I/O and its fsync
// (BENCHMARKS.md: checkpoints inside commits cost the writer half its throughput). PASSIVE never
// blocks the writer or readers. The writer keeps a large autocheckpoint as a backstop.
//
// STO-4 (issue 16.8): PASSIVE alone never resets a WAL that a busy writer keeps appending to, so
// the WAL grew until it filled a small disk. Every `walCheckMs` the WAL file's size is looked at
// (one stat); past `walLimitBytes` a TRUNCATE checkpoint waits for the writer's next pause, copies
// the rest back and empties the file. The disk guard asks for the same when it sees pressure.
import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointerMessage, CheckpointerOptions, CheckpointerRequest, CheckpointMode, CheckpointResult } from './group-commit.ts';

const { file, intervalMs, synchronous, walLimitBytes, walCheckMs } = workerData as CheckpointerOptions;
const walFile = `${file}-wal`;
const port = parentPort!;
const db = new Database(file);
// A TRUNCATE waits for the writer's next pause between commits (a few ms), at most this long.
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
  const truncate = walBytes() > walLimitBytes;
  if (!truncate && performance.now() - lastPassive < intervalMs) return;
  const mode: CheckpointMode = truncate ? 'TRUNCATE' : 'PASSIVE';
  try {
    checkpoint(mode);
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
