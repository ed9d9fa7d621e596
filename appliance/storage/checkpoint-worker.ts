// The checkpointer thread: copies committed WAL pages back into the database file with PASSIVE
// checkpoints on its own connection, so the writer thread never waits on that I/O and its fsync
// (BENCHMARKS.md: checkpoints inside commits cost the writer half its throughput). PASSIVE never
// blocks the writer or readers. The writer keeps a large autocheckpoint as a backstop.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { file, intervalMs, synchronous } = workerData as { file: string; intervalMs: number; synchronous: 'NORMAL' | 'FULL' };
const db = new Database(file);
db.pragma('busy_timeout = 1000');
db.pragma(`synchronous = ${synchronous}`);

function checkpoint() {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort!.postMessage({ type: 'error', message: (err as Error).message });
  }
}

const timer = setInterval(checkpoint, intervalMs);
parentPort!.on('message', (message: { type: 'close' }) => {
  if (message.type !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort!.postMessage({ type: 'closed' });
  parentPort!.close();
});
parentPort!.postMessage({ type: 'ready' });
