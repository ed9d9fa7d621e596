// The export thread (ARC-1): reads a day's rows on its own read-only connection, formats CSV and
// gzips it, and hands the compressed bytes to the main thread in credit-limited chunks (flat
// memory: at most CREDIT chunks in flight). Keeps a day's CPU work — millions of rows — off the
// event loop that runs the broker and the alarms.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { createGzip } from 'node:zlib';
import { createArchiveLog } from '../storage/archive-log.ts';
import { openDb } from '../storage/db.ts';
import { createCreditGate, csvChunks, GZIP_LEVEL, type ExportRange } from './export.ts';

export const CREDIT = 8;
export type ExportWorkerMessage =
  | { type: 'data'; chunk: ArrayBuffer }
  | { type: 'end'; rows: number; bytes: number; sha256: string; perDevice: [number, number][] }
  | { type: 'error'; message: string };

const { file, range } = workerData as { file: string; range: ExportRange };
const port = parentPort!;
const credit = createCreditGate(CREDIT);
let aborted = false;
port.on('message', (message: { type: 'credit' | 'abort'; n?: number }) => {
  if (message.type === 'abort') {
    aborted = true;
    credit.close();
  } else credit.give(message.n ?? 1);
});

async function run() {
  const db = openDb(file, { readonly: true, cacheMb: 4 });
  const perDevice = new Map<number, number>();
  const hash = createHash('sha256');
  let bytes = 0;
  const gzip = createGzip({ level: GZIP_LEVEL, chunkSize: 64 * 1024 });
  let pending = Promise.resolve();
  // Compressed chunks leave in order, each waiting for credit from the main thread.
  gzip.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
    const copy = new Uint8Array(chunk); // its own buffer, transferable
    pending = pending.then(async () => {
      if (await credit.take()) port.postMessage({ type: 'data', chunk: copy.buffer } satisfies ExportWorkerMessage, [copy.buffer]);
    });
  });
  const ended = new Promise<void>((resolve, reject) => {
    gzip.once('end', resolve);
    gzip.once('error', reject);
  });
  try {
    for await (const text of csvChunks(createArchiveLog(db), range, perDevice)) {
      if (aborted) break;
      // once() rejects on a gzip error: a failed compressor must not leave the loop waiting for 'drain'.
      if (!gzip.write(text)) await once(gzip, 'drain');
      // Do not run ahead of the consumer: wait while the credit is used up (the sender waits on the
      // same gate at the same time; the gate wakes both).
      await credit.available();
    }
    gzip.end();
    await ended;
    await pending;
  } finally {
    db.close();
  }
  if (aborted) return;
  let rows = 0;
  for (const n of perDevice.values()) rows += n;
  port.postMessage({ type: 'end', rows, bytes, sha256: hash.digest('hex'), perDevice: [...perDevice] } satisfies ExportWorkerMessage);
}

run().catch((err: Error) => port.postMessage({ type: 'error', message: err.message } satisfies ExportWorkerMessage)).finally(() => port.close());
