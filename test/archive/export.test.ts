import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { CSV_HEADER, csvLine, exportDayInWorker, isoTime } from '../../appliance/archive/export.ts';
import { tempDir } from '../helpers/appliance.ts';
import { fixture, JAN5 } from './support.ts';

describe('export (ARC-1)', () => {
  test('the fast time format equals toISOString, across days, years and the epoch', () => {
    for (const ts of [0, 999, 86_399_999, 86_400_000, Date.UTC(2026, 0, 5, 13, 7, 9, 42), Date.UTC(2027, 11, 31, 23, 59, 59, 999), Date.UTC(2028, 1, 29, 0, 0, 0, 1)]) {
      assert.equal(isoTime(ts), new Date(ts).toISOString());
    }
    for (let ts = Date.UTC(2026, 0, 1); ts < Date.UTC(2026, 0, 3); ts += 7_777_777 + 13) assert.equal(isoTime(ts), new Date(ts).toISOString());
  });

  test('a line is the seed columns in natural units; a missing humidity is empty', () => {
    assert.equal(csvLine('GD-1', [Date.UTC(2026, 0, 5, 1, 2, 3, 4), 123456, 5025, -1050, null, 90, -70, 65535]), '2026-01-05T01:02:03.004Z,GD-1,1234.56,50.25,-10.5,,90,-70,65535\n');
  });

  test('the export thread streams the gzip CSV with its row count, size and sha256', async () => {
    const f = await fixture();
    try {
      f.insert(['B', 'A'], JAN5, 3, 60_000);
      const job = exportDayInWorker(join(f.dir, 'mcs-edge.db'), { from: JAN5, to: JAN5 + 86_400_000, receivedBefore: Number.MAX_SAFE_INTEGER });
      const bytes = Buffer.concat(await job.stream.toArray());
      const result = await job.result;
      assert.equal(result.rows, 6);
      assert.equal(result.bytes, bytes.length);
      assert.equal(result.sha256, (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex'));
      assert.deepEqual(gunzipSync(bytes).toString().trimEnd().split('\n'), [CSV_HEADER, ...f.rowsIn(0, Number.MAX_SAFE_INTEGER)]);
    } finally {
      await f.close();
    }
  });

  test('an export that cannot read its database fails with a clear error instead of hanging', async () => {
    const temp = tempDir();
    try {
      const job = exportDayInWorker(join(temp.dir, 'missing.db'), { from: 0, to: 1, receivedBefore: 1 });
      await assert.rejects(job.result, /export failed/);
      await assert.rejects(job.stream.toArray());
    } finally {
      temp.remove();
    }
  });
});
