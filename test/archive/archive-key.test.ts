// ARC-1/ARC-3: the archive objects' keys (seed §5.3) and reading a day and part back from a key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { archiveKey, parseArchiveKey } from '../../appliance/archive/archive-key.ts';

describe('archive keys (seed §5.3)', () => {
  test('a day\'s first part is sensor_data_YYYYMMDD.csv.gz under archive/YYYY/MM/; later parts carry _N', () => {
    assert.equal(archiveKey('2025-12-13'), 'archive/2025/12/sensor_data_20251213.csv.gz');
    assert.equal(archiveKey('2026-01-05', 1), 'archive/2026/01/sensor_data_20260105.csv.gz');
    assert.equal(archiveKey('2026-01-05', 2), 'archive/2026/01/sensor_data_20260105_2.csv.gz');
    assert.equal(archiveKey('2026-01-05', 12), 'archive/2026/01/sensor_data_20260105_12.csv.gz');
  });

  test('a key names its day and part back, for every part', () => {
    for (const day of ['2025-12-13', '2026-01-05', '2028-02-29']) {
      for (const part of [1, 2, 3, 10]) assert.deepEqual(parseArchiveKey(archiveKey(day, part)), { day, part });
    }
  });

  test('keys listed under a site prefix are read the same; other objects are not archives', () => {
    assert.deepEqual(parseArchiveKey('site-a/archive/2026/01/sensor_data_20260105_3.csv.gz'), { day: '2026-01-05', part: 3 });
    assert.equal(parseArchiveKey('archive/2026/01/sensor_data_20260105.csv'), null, 'not gzip');
    assert.equal(parseArchiveKey('archive/2026/01/sensor_data_2026015.csv.gz'), null, 'seven digits');
    assert.equal(parseArchiveKey('backups/mcs-edge-20260105.db.gz'), null);
    assert.equal(parseArchiveKey('archive/2026/01/sensor_data_20260105.csv.gz.tmp'), null);
  });
});
