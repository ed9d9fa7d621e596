// Issue 16.8: `ingest.queue_limit` bounds the group-commit queue. Beyond it a reading is refused at
// once (no PUBACK: the detector resends) and counted (metric and health). The writer is held up for
// real: another connection holds SQLite's write lock, as a slow disk would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { silentLogger } from '../../appliance/core/log.ts';
import { upTopic } from '../../appliance/contract/topics.ts';
import { DEFAULT_SETTINGS } from '../../appliance/devices/service.ts';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import { createGroupCommitWriter, QUEUE_FULL } from '../../appliance/storage/group-commit.ts';
import { connectDevice, eventually, publishReading, startApp, tempDir } from '../helpers/appliance.ts';

/** Another connection holding the write lock until released (the writer waits, up to its 5 s busy timeout). */
function holdWriteLock(file: string) {
  const other = new Database(file);
  other.exec('BEGIN IMMEDIATE');
  return () => {
    other.exec('COMMIT');
    other.close();
  };
}

test('the group-commit queue refuses readings beyond its limit at once, and accepts again once the writer caught up', async () => {
  const temp = tempDir();
  const file = dbFileIn(temp.dir);
  const db = openDb(file);
  const snId = createDeviceRepository(db).insert('QL-1', DEFAULT_SETTINGS, null, 0).sn_id;
  const writer = createGroupCommitWriter({
    file, synchronous: 'NORMAL', cacheMb: 4, commitIntervalMs: 2, commitMaxRows: 100, queueLimit: 1000, log: silentLogger(),
  });
  const fill = (i: number) => (rows: Float64Array, o: number) => {
    rows.set([snId, 1_790_000_000_000 + i * 1000, 1, 2, 3, NaN, 90, -70, i, 0, 0, 1_790_000_000_000 + i * 1000, NaN, NaN, NaN], o);
  };
  let release: (() => void) | null = null;
  try {
    await writer.start();
    release = holdWriteLock(file);
    const outcomes: Promise<string>[] = [];
    const refusedAtOnce: string[] = [];
    for (let i = 0; i < 1500; i++) {
      let settled = false;
      outcomes.push(new Promise((resolve) => writer.enqueue(fill(i), (err) => {
        settled = true;
        resolve(err ? (err as Error & { code?: string }).code ?? err.message : 'stored');
      })));
      if (settled) refusedAtOnce.push(String(i));
      // Let the first batch go to the writer (where it waits for the lock) before the queue fills.
      if (i === 50) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(refusedAtOnce.length, 500, 'beyond 1,000 queued or in flight, each reading refused at once');
    assert.equal(writer.stats.queueRefused, 500);
    assert.equal(writer.backlog(), 1000);
    release();
    release = null;
    const results = await Promise.all(outcomes);
    assert.equal(results.filter((r) => r === 'stored').length, 1000);
    assert.equal(results.filter((r) => r === QUEUE_FULL).length, 500);
    const later = await new Promise<Error | null>((resolve) => writer.enqueue(fill(5000), (err) => resolve(err)));
    assert.equal(later, null, 'accepted again once the queue drained');
    await writer.stop();
    assert.equal((db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n, 1001);
  } finally {
    release?.();
    db.close();
    temp.remove();
  }
});

test('through MQTT: a reading beyond ingest.queue_limit gets no PUBACK, is counted as queue_full in health and metrics, and ingest goes on', async () => {
  const app = await startApp({ ingest: { queue_limit: 1000 } });
  let release: (() => void) | null = null;
  try {
    // aedes reads a client's next packets only once those of its last read (about 16 KB) are
    // handled: ten detectors with readings in flight fill the queue.
    const detectors: { sn: string; password: string; client: Awaited<ReturnType<typeof connectDevice>>; closed: boolean }[] = [];
    for (let i = 1; i <= 10; i++) {
      const sn = `QL-${i}`;
      const { password } = await app.app.testApi.addDevice({ sn, high_limit: 1000 });
      const client = await connectDevice(app.url, sn, password!);
      const detector = { sn, password: password!, client, closed: false };
      client.on('close', () => (detector.closed = true));
      detectors.push(detector);
    }
    release = holdWriteLock(dbFileIn(app.dataDir));
    let acked = 0;
    const base = Math.floor(app.clock.now() / 1000);
    for (const { sn, client } of detectors) {
      for (let seq = 0; seq < 300; seq++) {
        client.publish(upTopic(sn), JSON.stringify({ ts: base, seq, v_raw: 100, temp: 25, bat: 90, rssi: -70, err: 0 }), { qos: 1 }, (err) => {
          if (!err) acked++;
        });
      }
    }
    const totals = app.app.testApi.ingestTotals(); // the live counters
    await eventually(() => totals.dropped.queue_full > 0, 4000, 'a reading refused on the full queue');
    // The refusal is not acknowledged: aedes closes the connection, the detector resends later.
    await eventually(() => detectors.some((d) => d.closed), 4000, 'a refused publisher disconnected');
    assert.equal(acked, 0, 'nothing acknowledged while the writer is held up');
    assert.equal(app.app.testApi.writerBacklog(), 1000);
    release();
    release = null;
    for (const { client } of detectors) client.end(true);
    await app.app.testApi.flush();
    assert.equal(totals.dropped.store_failed, 0, 'refused by the queue, not failed commits');

    const metrics = await app.app.api.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, new RegExp(`mcs_readings_dropped_total\\{reason="queue_full"\\} ${totals.dropped.queue_full}\\n`));
    const health = (await app.app.api.inject({ method: 'GET', url: '/api/system/health' })).json();
    assert.equal(health.pipeline.dropped.queue_full, totals.dropped.queue_full);

    // The queue drained: the detector reconnects and its resend is acknowledged.
    const again = await connectDevice(app.url, 'QL-1', detectors[0].password);
    await publishReading(again, 'QL-1', { ts: base + 10, seq: 4000 });
    await again.endAsync();
    assert.ok(app.app.testApi.storedReadings('QL-1', base * 1000 + 10_000, base * 1000 + 11_000).length === 1, 'the resend after the refusal is stored');
  } finally {
    release?.();
    await app.stop();
  }
});
