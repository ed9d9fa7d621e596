import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createStorageSettings } from '../../appliance/archive/settings.ts';
import { testConnection } from '../../appliance/archive/s3.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { createSecretBox } from '../../appliance/core/secrets.ts';
import { isSiteDay, nextSiteDay, siteDayOf, siteDayRange } from '../../appliance/core/site-day.ts';
import { createConfigRepository } from '../../appliance/storage/config.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { tempDir } from '../helpers/appliance.ts';

describe('storage settings (ARC-1, API-7)', () => {
  let temp: ReturnType<typeof tempDir>;
  let db: Db;
  let store: ReturnType<typeof createStorageSettings>;
  const valid = { enabled: true, endpoint: 'https://acc.r2.cloudflarestorage.com', bucket: 'plant-archive', access_key_id: 'AKID', secret_access_key: 'top-secret' };
  beforeEach(() => {
    temp = tempDir();
    db = openDb(dbFileIn(temp.dir));
    store = createStorageSettings({ config: createConfigRepository(db), box: createSecretBox(temp.dir), clock: manualClock() });
  });
  afterEach(() => {
    db.close();
    temp.remove();
  });

  test('off by default: archiving is off and nothing is configured', () => {
    assert.equal(store.enabled(), false);
    assert.equal(store.redacted().secret_access_key, null);
    assert.equal(store.current().region, 'auto');
  });

  test('the secret key is sealed at rest, redacted on read, and kept when sent back redacted', () => {
    const saved = store.save(valid);
    assert.equal(saved.secret_access_key, '******');
    const raw = (db.prepare("SELECT value FROM system_config WHERE key = 'storage'").get() as { value: string }).value;
    assert.doesNotMatch(raw, /top-secret/);
    assert.match(JSON.parse(raw).secret_access_key, /^enc:v1:/);
    assert.equal(store.current().secret_access_key, 'top-secret');
    store.save({ ...valid, secret_access_key: '******', prefix: 'site-a/' });
    assert.equal(store.current().secret_access_key, 'top-secret');
    assert.equal(store.current().prefix, 'site-a/');
    assert.equal(store.enabled(), true);
  });

  test('bad input is refused with 60001 listing every problem, and nothing is stored', () => {
    assert.throws(() => store.save({ ...valid, endpoint: 'ftp://x', bucket: 'Bad_Bucket', prefix: '/abs' }), (err: Error & { code: number; detail: string[] }) => {
      assert.equal(err.code, 60001);
      assert.equal(err.detail.length, 3);
      return true;
    });
    assert.throws(() => store.save({ enabled: true, bucket: 'plant-archive' }), /access_key_id: required.*secret_access_key: required/);
    assert.equal(store.enabled(), false);
    assert.equal(db.prepare("SELECT count(*) AS n FROM system_config WHERE key = 'storage'").pluck().get(), 0);
  });

  test('test connection with incomplete settings says what is missing (60001)', async () => {
    const result = await testConnection(store.current());
    assert.deepEqual([result.ok, result.code, result.step], [false, 60001, 'config']);
    assert.match(result.message, /bucket: required/);
  });
});

describe('site days (OPS-5)', () => {
  test('a site day is [local midnight, next local midnight) in UTC ms, DST included', () => {
    assert.equal(new Date(siteDayRange('2026-01-05', 'Asia/Shanghai').start).toISOString(), '2026-01-04T16:00:00.000Z');
    const berlin = siteDayRange('2026-03-29', 'Europe/Berlin');
    assert.equal((berlin.end - berlin.start) / 3_600_000, 23);
    assert.equal(siteDayOf(Date.UTC(2026, 0, 4, 16), 'Asia/Shanghai'), '2026-01-05');
    assert.equal(siteDayOf(Date.UTC(2026, 0, 4, 15, 59, 59, 999), 'Asia/Shanghai'), '2026-01-04');
    assert.equal(nextSiteDay('2026-12-31'), '2027-01-01');
    assert.equal(isSiteDay('2026-02-29'), false);
    assert.equal(isSiteDay('2028-02-29'), true);
  });
});
