// API-1/API-7/ARC-3 storage through the API with a real S3-compatible server: settings with the
// secret masked (and not in the database file), test connection, an archived day listed and
// downloaded, a bad date refused, backups and jobs for the admin only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { connectDevice, publishReading } from '../helpers/appliance.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';

const DAY = 86_400_000;
let api: ApiApp;
let s3: TestS3;
let admin: string;
before(async () => {
  s3 = await startS3();
  api = await startApi({ site: { timezone: 'UTC', language: 'en' }, storage: { retention_days: 1 } });
  admin = api.tokens.admin;
});
after(async () => {
  await api.stop();
  await s3.stop();
});

test('storage settings come back with the secret masked, are tested for real, and keep the secret when sent back masked', async () => {
  const settings = s3.settings();
  const saved = await api.call('PUT', '/api/config/storage', { token: admin, body: settings });
  assert.equal(saved.status, 200, saved.text);
  assert.equal(saved.body.secret_access_key, '******');
  const read = await api.call('GET', '/api/config/storage', { token: admin });
  assert.equal(read.body.secret_access_key, '******');
  const tested = await api.call('POST', '/api/config/storage/test', { token: admin, body: read.body });
  assert.equal((await api.call('PUT', '/api/config/storage', { token: admin, body: read.body })).status, 200);
  assert.equal(tested.status, 200);
  assert.equal(tested.body.ok, true, tested.text);
  const wrongBucket = await api.call('POST', '/api/config/storage/test', { token: admin, body: { ...read.body, bucket: 'no-such-bucket' } });
  assert.deepEqual([wrongBucket.body.ok, wrongBucket.body.code], [false, 60001]);
  const invalid = await api.call('PUT', '/api/config/storage', { token: admin, body: { ...read.body, endpoint: 'ftp://x' } });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.code, 60001);
  const stored = api.app.testApi.storedConfig<{ secret_access_key: string }>('storage')!;
  assert.notEqual(stored.secret_access_key, settings.secret_access_key, 'sealed at rest');
  assert.equal(api.app.testApi.storageSettings().secret_access_key, settings.secret_access_key, 'the masked value sent back kept it');
  assert.equal((await api.call('GET', '/api/config/storage', { token: api.tokens.operator })).status, 403);
});

test('an archived day is listed and downloads as the gzip CSV; a bad or missing date is refused', async () => {
  const { testApi } = api.app;
  const now = api.clock.now();
  const dayStart = now - (now % DAY) - 2 * DAY;
  api.clock.set(dayStart + 3_600_000);
  const { password } = await testApi.addDevice({ sn: 'ARCH-API-1', high_limit: 1000 });
  const client = await connectDevice(api.url, 'ARCH-API-1', password!);
  for (let i = 0; i < 5; i++) {
    await publishReading(client, 'ARCH-API-1', { seq: i, ts: Math.floor(api.clock.now() / 1000), v_raw: 100 + i });
    api.clock.advance(10_000);
  }
  await client.endAsync();
  await testApi.flush();
  api.clock.set(now);
  assert.equal((await api.call('POST', '/api/system/jobs/rollup/run', { token: admin })).body.ok, true);
  assert.equal((await api.call('POST', '/api/system/jobs/archive/run', { token: admin })).body.ok, true);

  const day = new Date(dayStart).toISOString().slice(0, 10);
  const listed = await api.call('GET', '/api/system/archives', { token: api.tokens.operator });
  assert.equal(listed.status, 200);
  assert.equal(listed.body.status.enabled, true);
  const entry = listed.body.data.find((e: { day: string }) => e.day === day);
  assert.equal(entry.rows, 5);
  const download = await api.app.api.inject({ method: 'GET', url: `${entry.download}?token=${api.tokens.operator}` });
  assert.equal(download.statusCode, 200);
  const csv = gunzipSync(download.rawPayload).toString().trim().split('\n');
  assert.equal(csv[0], 'time,sn,v_raw,ppm,temp,humi,bat,rssi,seq');
  assert.equal(csv.length, 6);
  assert.equal((await api.call('POST', `/api/system/archives/${day}/download`, { token: api.tokens.operator })).status, 200);

  const traversal = await api.call('GET', '/api/system/archives/..%2F..%2Fetc/download', { token: admin });
  assert.equal(traversal.status, 400);
  assert.equal(traversal.body.code, 60003);
  const missing = await api.call('GET', '/api/system/archives/2001-01-01/download', { token: admin });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 60003);
  assert.equal((await api.call('GET', '/api/system/archives', { token: api.tokens.viewer })).status, 403);
  const health = await api.call('GET', '/api/system/health');
  assert.equal(health.body.archive.last_archived_day, day);
});

test('the admin sees the jobs and takes a backup on demand', async () => {
  const jobs = await api.call('GET', '/api/system/jobs', { token: admin });
  assert.ok(jobs.body.data.some((j: { name: string; runs: number }) => j.name === 'archive' && j.runs >= 1));
  const backup = await api.call('POST', '/api/system/backups', { token: admin });
  assert.equal(backup.status, 200, backup.text);
  const listed = await api.call('GET', '/api/system/backups', { token: admin });
  assert.deepEqual(listed.body.data.map((b: { file: string }) => b.file), [backup.body.file]);
  const file = await api.app.api.inject({ method: 'GET', url: `/api/system/backups/${backup.body.file}?token=${admin}` });
  assert.equal(file.statusCode, 200);
  assert.equal(file.rawPayload.length, backup.body.bytes);
  assert.equal((await api.call('POST', '/api/system/jobs/nope/run', { token: admin })).status, 404);
  assert.equal((await api.call('GET', '/api/system/jobs', { token: api.tokens.operator })).status, 403);
});
