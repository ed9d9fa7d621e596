// ARC-1 export: a site day's raw rows → CSV (the seed's header) → gzip, as a stream. Rows are read
// device by device with an iterator on a connection of their own (in export-worker.ts) and
// formatted in chunks, so memory stays flat for any day size. The sha256 and size of the gzip bytes
// are taken on the way out: the upload is verified against them (ARC-2).
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ArchiveLog, ExportRow } from '../storage/archive-log.ts';
import { startWorker, workerUrl } from '../core/worker-thread.ts';
import { csvField, DATA } from '../core/csv.ts';

/** Seed §5.3 Step 2. Written in core/csv.ts's DATA dialect: no BOM, LF, as archives always were. */
export const CSV_HEADER = 'time,sn,v_raw,ppm,temp,humi,bat,rssi,seq';
const ROWS_PER_CHUNK = 2000;
/** Level 4: measured 40 % faster than the default 6 for 3 % more bytes (BENCHMARKS.md). */
export const GZIP_LEVEL = 4;

export interface ExportRange {
  from: number;
  to: number;
  receivedBefore: number;
}

export interface ExportResult {
  rows: number;
  bytes: number;
  sha256: string;
  /** Rows exported per serial id: the deletion checks each device against it. */
  perDevice: Map<number, number>;
}

const scaled = (n: number) => String(n / 100);

const DAY_MS = 86_400_000;
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let cachedDay = NaN;
let cachedPrefix = '';

/** `new Date(ts).toISOString()` at a fraction of its cost (it was a third of the export's time). */
export function isoTime(ts: number): string {
  const day = Math.floor(ts / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  let rest = ts - day * DAY_MS;
  const ms = rest % 1000;
  rest = (rest - ms) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  return `${cachedPrefix}${PAD2[(rest - min) / 60]}:${PAD2[min]}:${PAD2[sec]}.${PAD3[ms]}Z`;
}

/**
 * One CSV line. `time` is ISO 8601 UTC with the stored millisecond, so (sn, time) is the row's key.
 * The hot path (a day is millions of rows): `csvSn` is the serial already made a field by
 * core/csv.ts's csvField (once per device, in csvChunks); the rest are numbers and the time, which
 * need neither quotes nor the formula guard, so they are written as they are.
 */
export function csvLine(csvSn: string, row: ExportRow): string {
  const [ts, vRaw, ppm, temp, humi, bat, rssi, seq] = row;
  return `${isoTime(ts)},${csvSn},${scaled(vRaw)},${scaled(ppm)},${scaled(temp)},${humi === null ? '' : scaled(humi)},${bat},${rssi},${seq}\n`; // LF: DATA.eol, a literal on the hot path
}

/** CSV text of a range, in chunks: devices in serial order, each in time order. */
export async function* csvChunks(source: ArchiveLog, range: ExportRange, perDevice: Map<number, number>): AsyncGenerator<string> {
  yield CSV_HEADER + DATA.eol;
  for (const { id, sn } of source.serials()) {
    const csvSn = csvField(sn);
    let count = 0;
    let lines: string[] = [];
    // One statement per device; the iterator is closed by the loop even when the consumer stops.
    for (const row of source.deviceRows(id, range.from, range.to, range.receivedBefore)) {
      lines.push(csvLine(csvSn, row));
      count++;
      if (lines.length === ROWS_PER_CHUNK) {
        const text = lines.join('');
        lines = [];
        yield text;
      }
    }
    if (lines.length) yield lines.join('');
    if (count) perDevice.set(id, count);
    await nextTurn(); // between devices the event loop runs even if the consumer never waits
  }
}

/**
 * The export thread's flow control: credits the main thread hands out as the upload reads. Two
 * parts of the thread wait on it at once — the sender of compressed chunks (take) and the reader of
 * rows (available, so it does not run ahead) — so every waiter is woken on each change and checks
 * again. A single wake-up slot lost one of them when both waited (the 13-minute idle hang of the
 * 1,000-device bench: the sender slept forever holding credit, the upload waited forever for a part).
 */
export function createCreditGate(initial: number) {
  let credit = initial;
  let closed = false;
  let waiters: (() => void)[] = [];
  const changed = () => {
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  };
  const next = () => new Promise<void>((resolve) => waiters.push(resolve));
  return {
    give(n: number): void {
      credit += n;
      changed();
    },
    /** Wakes every waiter for good (abort): take() and available() then resolve false. */
    close(): void {
      closed = true;
      changed();
    },
    /** Resolves true once credit is available, false when closed; takes none. */
    async available(): Promise<boolean> {
      while (credit <= 0 && !closed) await next();
      return !closed;
    },
    /** Waits for one credit and takes it (checked and taken in one step); false when closed. */
    async take(): Promise<boolean> {
      while (credit <= 0 && !closed) await next();
      if (closed) return false;
      credit--;
      return true;
    },
    /** Waiters now asleep (for tests and diagnostics). */
    waiting: () => waiters.length,
  };
}
export type CreditGate = ReturnType<typeof createCreditGate>;

/**
 * The export on a worker thread (export-worker.ts) with its own read-only connection to `file`:
 * the main thread only moves compressed chunks to the upload (a day's CPU work stays off the event
 * loop that acknowledges readings).
 */
export function exportDayInWorker(
  file: string,
  range: ExportRange,
  options: { /** Each chunk from the thread and each read by the consumer (a stall watchdog's pulse). */ onActivity?: () => void } = {},
): { stream: Readable; result: Promise<ExportResult>; abort: () => void } {
  const worker = startWorker(workerUrl('export-worker', import.meta.url), { file, range });
  const activity = options.onActivity ?? (() => {});
  let owed = 0;
  let settled = false;
  const stream = new Readable({
    highWaterMark: 256 * 1024,
    read() {
      activity();
      if (owed > 0) {
        worker.postMessage({ type: 'credit', n: owed });
        owed = 0;
      }
    },
  });
  // The failure reaches the caller through `result` (and the consumer's own error listener); a
  // stream error nobody listens to yet must not become an uncaught exception of the appliance.
  stream.on('error', () => {});
  const result = new Promise<ExportResult>((resolve, reject) => {
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      worker.postMessage({ type: 'abort' });
      void worker.terminate();
      stream.destroy(err);
      reject(err);
    };
    worker.on('message', (message: { type: string; chunk?: ArrayBuffer; rows?: number; bytes?: number; sha256?: string; perDevice?: [number, number][]; message?: string }) => {
      activity();
      if (message.type === 'data') {
        if (stream.push(Buffer.from(message.chunk!))) worker.postMessage({ type: 'credit', n: 1 });
        else owed++;
      } else if (message.type === 'end') {
        settled = true;
        stream.push(null);
        resolve({ rows: message.rows!, bytes: message.bytes!, sha256: message.sha256!, perDevice: new Map(message.perDevice) });
      } else if (message.type === 'error') fail(new Error(`export failed: ${message.message}`));
    });
    worker.once('error', fail);
    worker.once('exit', (code) => fail(new Error(`export thread exited with code ${code}`)));
  });
  result.catch(() => {});
  return {
    stream,
    result,
    abort: () => {
      if (settled) return;
      settled = true;
      worker.postMessage({ type: 'abort' });
      void worker.terminate();
      stream.destroy();
    },
  };
}
