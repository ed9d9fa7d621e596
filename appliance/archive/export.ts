// ARC-1 export: a site day's raw rows → CSV (the seed's header) → gzip, as a stream. Rows are read
// device by device with an iterator on a connection of their own and formatted in chunks, so memory
// stays flat for any day size and the event loop gets a turn between chunks. The sha256 and size
// of the gzip bytes are taken on the way out: the upload is verified against them (ARC-2).
import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGzip, constants as zlib } from 'node:zlib';
import type { ArchiveLog, ExportRow } from '../storage/archive-log.ts';

/** Seed §5.3 Step 2. */
export const CSV_HEADER = 'time,sn,v_raw,ppm,temp,humi,bat,rssi,seq';
const ROWS_PER_CHUNK = 2000;

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

/** One CSV line. `time` is ISO 8601 UTC with the stored millisecond, so (sn, time) is the row's key. */
export function csvLine(sn: string, row: ExportRow): string {
  const [ts, vRaw, ppm, temp, humi, bat, rssi, seq] = row;
  return `${new Date(ts).toISOString()},${sn},${scaled(vRaw)},${scaled(ppm)},${scaled(temp)},${humi === null ? '' : scaled(humi)},${bat},${rssi},${seq}\n`;
}

/** CSV text of a range, in chunks: devices in serial order, each in time order. */
async function* csvChunks(source: ArchiveLog, range: ExportRange, perDevice: Map<number, number>): AsyncGenerator<string> {
  yield `${CSV_HEADER}\n`;
  for (const { id, sn } of source.serials()) {
    const csvSn = /[",\n\r]/.test(sn) ? `"${sn.replaceAll('"', '""')}"` : sn;
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
 * The gzip CSV of a range as a stream, and a promise of its figures once the stream has ended.
 * `source` must be a connection used by nothing else while the stream runs (an open iterator
 * makes a better-sqlite3 connection busy).
 */
export function exportDay(source: ArchiveLog, range: ExportRange): { stream: Readable; result: Promise<ExportResult>; abort: () => void } {
  const perDevice = new Map<number, number>();
  const hash = createHash('sha256');
  let bytes = 0;
  let fail: (err: Error) => void = () => {};
  const csv = Readable.from(csvChunks(source, range, perDevice), { objectMode: false, highWaterMark: 1 << 20 });
  const gzip = createGzip({ level: zlib.Z_DEFAULT_COMPRESSION });
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const out = new PassThrough();
  const result = new Promise<ExportResult>((resolve, reject) => {
    fail = (err: Error) => {
      csv.destroy();
      gzip.destroy();
      out.destroy(err);
      reject(err);
    };
    csv.once('error', fail);
    gzip.once('error', fail);
    tap.once('error', fail);
    out.once('close', () => {
      if (!out.writableFinished) fail(new Error('export stream closed before the end'));
    });
    tap.once('end', () => {
      let rows = 0;
      for (const n of perDevice.values()) rows += n;
      resolve({ rows, bytes, sha256: hash.digest('hex'), perDevice });
    });
  });
  result.catch(() => {}); // observed by the caller; never an unhandled rejection
  csv.pipe(gzip).pipe(tap).pipe(out);
  // Stops reading (closing the SQLite iterator) when the upload gave up.
  return { stream: out, result, abort: () => fail(new Error('export aborted')) };
}
