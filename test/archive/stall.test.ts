// An archive run never hangs (ARC-1, ARC-2): the export thread's flow control wakes every waiter,
// every S3 request is bounded, and a day that stops moving fails the run with the ARCHIVE alarm —
// nothing deleted, retried next run. The incident: `bench:archive` at 1,000 devices on a loaded
// machine sat idle for 13 minutes with 5 MB uploaded (a lost wake-up in the export thread).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { archiveKey } from '../../appliance/archive/archiver.ts';
import { createCreditGate, CSV_HEADER, exportDayInWorker } from '../../appliance/archive/export.ts';
import { createS3 } from '../../appliance/archive/s3.ts';
import { siteDayRange } from '../../appliance/core/site-day.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';
import { fixture, TZ, type Fixture } from './support.ts';

const JAN5_RANGE = siteDayRange('2026-01-05', TZ);

/** `devices` serials with a reading every 10 s over Jan 5, values noisy enough that gzip keeps ~18 bytes a row. */
function fillNoisyDay(f: Fixture, devices: number): number {
  const insertSerial = f.db.prepare('INSERT INTO serials (sn) VALUES (?)');
  const insert = f.db.prepare('INSERT INTO readings VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
  let state = 12345;
  const noise = () => (state = (state * 1103515245 + 12345) % 2147483648) % 61; // a fixed LCG: deterministic
  let rows = 0;
  f.db.transaction(() => {
    for (let d = 0; d < devices; d++) {
      const id = Number(insertSerial.run(`GD${100000 + d}`).lastInsertRowid);
      for (let ts = JAN5_RANGE.start, seq = 0; ts < JAN5_RANGE.end; ts += 10_000, seq++) {
        const ppm = 1000 + Math.round(Math.sin(seq / 50 + d) * 800) + noise();
        insert.run(id, ts + (seq % 1000), 50000 + ppm * 3, ppm, 2400 + (seq % 300), 5500 + (seq % 700), 90 - (seq % 5), -60 - (d % 30), seq % 65536, 0, 0, 120);
        rows++;
      }
    }
  })();
  return rows;
}

describe('the export thread\'s credit gate', () => {
  test('a sender and the row reader waiting at once are both woken as credit comes back (the lost wake-up)', async () => {
    const gate = createCreditGate(0);
    let taken = false;
    let readerGoes = false;
    const sender = gate.take().then((ok) => (taken = ok));
    const reader = gate.available().then((ok) => (readerGoes = ok));
    await sleep(5);
    assert.equal(gate.waiting(), 2, 'both wait while the credit is used up');
    gate.give(1);
    await sender;
    assert.equal(taken, true, 'the sender got the credit');
    await sleep(5);
    assert.equal(readerGoes, false, 'the sender took it: the reader still waits, and is still listening');
    assert.equal(gate.waiting(), 1);
    gate.give(1);
    await reader;
    assert.equal(readerGoes, true, 'the next credit wakes the reader (a single wake-up slot had lost it)');
  });

  test('a credit is taken once: a second sender waits for the next; close releases waiters with false', async () => {
    const gate = createCreditGate(1);
    assert.equal(await gate.take(), true);
    let second: boolean | null = null;
    const pending = gate.take().then((ok) => (second = ok));
    await sleep(5);
    assert.equal(second, null, 'no credit left: the second take waits');
    gate.close();
    await pending;
    assert.equal(second, false);
    assert.equal(await gate.available(), false);
  });
});

describe('an archive run never hangs (ARC-1, ARC-2)', () => {
  let f: Fixture;
  let rows: number;
  let dbFile: string;
  before(async () => {
    f = await fixture(1);
    // 40 devices: ~6 MB of gzip, so the upload is multipart (5 MB parts) like the bench's.
    rows = fillNoisyDay(f, 40);
    dbFile = join(f.dir, 'mcs-edge.db');
  });
  after(async () => {
    await f.close();
  });

  test('the export completes, byte for byte, under an upload that reads in bursts and pauses (it stalled forever before)', { timeout: 120_000 }, async () => {
    const job = exportDayInWorker(dbFile, { from: JAN5_RANGE.start, to: JAN5_RANGE.end, receivedBefore: Number.MAX_SAFE_INTEGER });
    const chunks: Buffer[] = [];
    let lastData = performance.now();
    let stalledFor = 0;
    const watch = setInterval(() => {
      stalledFor = performance.now() - lastData;
      if (stalledFor > 10_000) job.abort();
    }, 500);
    try {
      // Like the upload while its two parts are in flight: take what is there, then stop reading a
      // while, so the export runs out of credit again and again. Pauses alternate, deterministic.
      let sinceLastPause = 0;
      let pauses = 0;
      for await (const chunk of job.stream) {
        chunks.push(chunk as Buffer);
        lastData = performance.now();
        sinceLastPause += (chunk as Buffer).length;
        if (sinceLastPause >= 64 * 1024) {
          sinceLastPause = 0;
          await sleep(pauses++ % 2 ? 40 : 250);
        }
      }
    } catch (err) {
      assert.fail(`the export stalled (${Math.round(stalledFor / 1000)} s without data) after ${chunks.reduce((n, c) => n + c.length, 0)} bytes: ${(err as Error).message}`);
    } finally {
      clearInterval(watch);
    }
    const bytes = Buffer.concat(chunks);
    const result = await job.result;
    assert.equal(result.rows, rows);
    assert.equal(result.bytes, bytes.length);
    assert.ok(bytes.length > 5 * 1024 * 1024, `multipart-sized (${bytes.length} bytes)`);
    assert.equal(result.sha256, createHash('sha256').update(bytes).digest('hex'));
    const lines = gunzipSync(bytes).toString().split('\n');
    assert.equal(lines[0], CSV_HEADER);
    assert.equal(lines.length - 2, rows);
  });

  describe('against an S3 server that takes a request\'s body and never answers', () => {
    let s3: TestS3;
    beforeEach(async () => {
      s3 = await startS3();
      f.alarms.raised.length = 0;
      f.alarms.active.clear();
    });
    afterEach(async () => {
      await s3.stop();
    });
    const rowCount = () => f.db.prepare('SELECT count(*) FROM readings').pluck().get() as number;

    test('whatever stalls, the watchdog stops a day that moves nothing: ARCHIVE alarm naming the stall, nothing deleted', { timeout: 60_000 }, async () => {
      f.settings.save(s3.settings());
      s3.swallow((req) => req.method === 'PUT' && !!req.url?.includes('sensor_data_20260105'));
      // S3 timeouts far away: only the watchdog can end this run.
      const archiver = f.archiver({ s3Timeouts: { idleMs: 600_000, requestMs: 600_000, attempts: 1 }, stallTimeoutMs: 1_500 });
      const started = performance.now();
      const result = await archiver.run();
      const tookMs = performance.now() - started;
      assert.equal(result.failed?.day, '2026-01-05');
      assert.match(result.failed!.error, /archive of 2026-01-05 stalled: no progress for \d+ s/);
      assert.ok(tookMs < 20_000, `stopped by the watchdog (${Math.round(tookMs)} ms)`);
      assert.equal(rowCount(), rows, 'nothing deleted');
      assert.equal(archiver.attempts()[0].status, 'failed');
      assert.equal(f.alarms.raised.length, 1);
      assert.match(f.alarms.raised[0], /stalled/);
      assert.equal(archiver.status().running, false, 'the run is over: the next one can start');
    });

    test('a part without an answer fails the run within the S3 timeouts: ARCHIVE alarm, 60002, nothing deleted; the next run archives the day', { timeout: 60_000 }, async () => {
      f.settings.save(s3.settings());
      // The first part is stored (5 MB uploaded, as in the incident); the second one's answer is lost.
      const { held } = s3.swallow((req) => req.method === 'PUT' && !!req.url?.includes('partNumber=2'));
      const archiver = f.archiver({ s3Timeouts: { idleMs: 1_000, requestMs: 10_000, attempts: 2 }, stallTimeoutMs: 120_000 });
      const started = performance.now();
      const result = await archiver.run();
      const tookMs = performance.now() - started;
      const part = await held;
      assert.ok(part.bodyBytes >= 1024 * 1024, `the server read the part's body (${part.bodyBytes} bytes)`);
      assert.equal(result.failed?.day, '2026-01-05');
      assert.match(result.failed!.error, /timed out|Timeout/i);
      assert.ok(tookMs < 30_000, `failed within the bounded time (${Math.round(tookMs)} ms)`);
      assert.equal(rowCount(), rows, 'nothing deleted');
      const [attempt] = archiver.attempts();
      assert.equal(attempt.status, 'failed');
      assert.equal(attempt.error_code, 60002);
      assert.equal(f.alarms.raised.length, 1);
      assert.match(f.alarms.raised[0], /^ARCHIVE\/archive: archive of 2026-01-05 failed/);
      assert.equal(await createS3(f.settings.current()).head(archiveKey('2026-01-05')), null, 'no object left behind');

      // The endpoint recovers (a fresh server on the same port and data): the next run retries the day.
      await s3.kill();
      await s3.revive();
      const retried = await archiver.run();
      assert.equal(retried.failed, null);
      assert.deepEqual(retried.archived.map((a) => [a.day, a.rows]), [['2026-01-05', rows]]);
      assert.equal(f.alarms.active.size, 0, 'the ARCHIVE alarm cleared');
      assert.equal(rowCount(), 0);
    });
  });
});
