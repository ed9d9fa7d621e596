// The writer thread: owns the one connection that writes readings and alarms, so SQLite's commit
// work runs beside the broker's event loop instead of on it (ARCHITECTURE: "the one event loop is
// the ceiling"). Speaks the small message protocol of writer-protocol.ts, whose other end is
// writer-channel.ts; the work itself is writer-core.ts (readings, alarm rules and outbox rows in one
// transaction, ALM-8).
import { parentPort, workerData } from 'node:worker_threads';
import type { AlarmEvent } from '../contract/alarm.ts';
import { openDb } from './db.ts';
import { createPageBudget, createWalBound } from './disk-budget.ts';
import { createWriterCore } from './writer-core.ts';
import type { WriterRequest, WriterResponse, WriterThreadOptions } from './writer-protocol.ts';

const options = workerData as WriterThreadOptions;
const port = parentPort!;
const walLimitBytes = options.walLimitBytes ?? 64 * 1024 * 1024;
const db = openDb(options.file, { synchronous: options.synchronous, cacheMb: options.cacheMb, walLimitBytes });
// A commit touches about one page per device in the batch; checkpointing every 1000 pages (the
// default) copied them back almost every commit and halved the writer's throughput (BENCHMARKS.md).
// The checkpointer thread does it beside the writer (and truncates the WAL past its limit); this
// autocheckpoint is only the backstop: 4× the WAL limit, 256 MB from a 64 MB limit up.
const pageSize = db.pragma('page_size', { simple: true }) as number;
db.pragma(`wal_autocheckpoint = ${Math.min(65_536, Math.max(1000, Math.floor((4 * walLimitBytes) / pageSize)))}`);
// STO-4: the database grows only while the file system keeps the reserve free (storage/disk-budget.ts).
const budget = createPageBudget(db, options.file, options.reserveBytes ?? 0, options.maxPageCount);
budget.apply();
const walBound = createWalBound(db, options.file, walLimitBytes, 5000);
const core = createWriterCore(db, { alarmSettings: options.alarmSettings, failEvaluation: options.failEvaluation });
const { store } = core;

function reply(message: WriterResponse, transfer: ArrayBuffer[] = []) {
  port.postMessage(message, transfer);
}

/** STO-4: the WAL bound after every request. */
function boundWal() {
  const problem = walBound.afterWrite();
  if (problem) reply({ type: 'warning', id: -1, message: problem });
}
/** STO-4: the WAL bound between the chunks of a long deletion (it waits for a truncation past the reserve's room). */
function boundWalBetweenDeletions() {
  const problem = walBound.betweenDeletions();
  if (problem) reply({ type: 'warning', id: -1, message: problem });
}

port.on('message', (request: WriterRequest) => {
  try {
    switch (request.type) {
      case 'batch': {
        const started = performance.now();
        if (request.alarmSettings) core.useSettings(request.alarmSettings);
        budget.apply();
        walBound.beforeWrite();
        const { inserted, events, refused } = core.writeBatch(new Float64Array(request.rows), request.count, request.updates);
        reply({ type: 'batch', id: request.id, inserted, alarms: events, refused, ms: performance.now() - started }, [inserted.buffer as ArrayBuffer]);
        break;
      }
      case 'silence':
        reply({ type: 'silenced', id: request.id, count: core.silence(request.ids, request.by, request.at) });
        break;
      case 'mask': {
        const { masks, events } = core.mask(request.sns, request.reason, request.by, request.at, request.until);
        reply({ type: 'masks', id: request.id, masks, alarms: events });
        break;
      }
      case 'unmask': {
        const { ended, events } = core.unmask(request.sns, request.by, request.at);
        reply({ type: 'masks', id: request.id, masks: ended, alarms: events });
        break;
      }
      case 'ack':
        reply({ type: 'alarms', id: request.id, alarms: core.acknowledge(request.ids, request.by, request.comment, request.at) });
        break;
      case 'rollup':
        budget.apply();
        walBound.beforeWrite();
        reply({ type: 'rollup', id: request.id, result: store.rollupStep(request.now) });
        break;
      case 'delete':
        reply({ type: 'delete', id: request.id, deleted: budget.freeing(() => store.deleteRange(request.snId, request.from, request.to, request.receivedBefore, boundWalBetweenDeletions)) });
        break;
      case 'pruneRollup':
        reply({ type: 'delete', id: request.id, deleted: budget.freeing(() => store.pruneRollup(request.table, request.snId, request.before)) });
        break;
      case 'maintenance':
        reply({ type: 'maintenance', id: request.id, result: store.maintenance() });
        break;
      case 'close':
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.close();
        reply({ type: 'closed', id: request.id });
        port.close();
        break;
    }
  } catch (err) {
    const error = err as Error & { code?: string };
    reply({ type: 'error', id: request.id, message: error.message, code: error.code ?? 'UNKNOWN' });
  }
  // STO-4: the WAL bounded even when the checkpointer cannot get a word in (storage/disk-budget.ts).
  if (request.type !== 'close') boundWal();
});

let reconciled: { events: AlarmEvent[]; failures: string[] };
try {
  reconciled = core.reconcile();
} catch (err) {
  // A start on a full disk: the appliance still starts (and says so); the next batch tries again.
  reconciled = { events: [], failures: [`alarm reconciliation could not be written: ${(err as Error).message}`] };
}
reply({ type: 'ready', id: 0, alarms: reconciled.events, failures: reconciled.failures });
