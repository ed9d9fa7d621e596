// ING-6: the group-commit writer on its own thread, with a real SQLite file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../appliance/core/log.ts';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import { createGroupCommitWriter } from '../../appliance/storage/group-commit.ts';
import * as R from '../../appliance/storage/reading-row.ts';
import { DEFAULT_SETTINGS } from '../../appliance/devices/service.ts';
import { tempDir } from '../helpers/appliance.ts';

function setup() {
  const temp = tempDir();
  const file = dbFileIn(temp.dir);
  const db = openDb(file);
  const snId = createDeviceRepository(db).insert('GC-1', DEFAULT_SETTINGS, null, 0).sn_id;
  const fatal: Error[] = [];
  const writer = createGroupCommitWriter({
    file, synchronous: 'NORMAL', cacheMb: 4, commitIntervalMs: 2, commitMaxRows: 100, log: silentLogger(),
    onFatal: (err) => fatal.push(err),
  });
  const fill = (i: number) => (rows: Float64Array, o: number) => {
    rows.set([snId, 1_790_000_000_000 + i * 1000, 1, 2, 3, NaN, 90, -70, i, 0, 0, 1_790_000_000_000 + i * 1000], o);
  };
  return { temp, db, writer, fill, fatal };
}

test('many readings queued at once are committed in a few transactions of at most commitMaxRows, in order, each callback once', async () => {
  const { temp, db, writer, fill } = setup();
  try {
    await writer.start();
    const order: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => new Promise<boolean>((resolve, reject) => writer.enqueue(fill(i), (err, inserted) => {
        order.push(i);
        if (err) reject(err);
        else resolve(inserted);
      }))),
    );
    assert.equal(results.filter(Boolean).length, 1000);
    assert.deepEqual(order, Array.from({ length: 1000 }, (_, i) => i), 'acknowledged in the order queued');
    // STO-4: 1,000 queued at once are 10 transactions of 100, not one of 1,000 (a WAL growth of one batch).
    assert.ok(writer.stats.batches >= 10 && writer.stats.batches < 50, `grouped: ${writer.stats.batches} transactions`);
    await writer.stop();
    assert.equal((db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n, 1000);
  } finally {
    db.close();
    temp.remove();
  }
});

test('when the writer thread dies, waiting readings fail, new ones are refused, and onFatal is told', async () => {
  const { temp, db, writer, fill, fatal } = setup();
  try {
    await writer.start();
    await writer.killThreadForTest();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(fatal.length, 1);
    const error = await new Promise<Error | null>((resolve) => writer.enqueue(fill(1), (err) => resolve(err)));
    assert.match(String(error?.message), /writer/);
    await writer.stop();
  } finally {
    db.close();
    temp.remove();
  }
});
