// OPS-1 over real HTTP: health and Prometheus metrics reflect the pipeline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectDevice, publishReading, startApp, type RunningApp } from '../helpers/appliance.ts';

let app: RunningApp;
let base: string;
before(async () => {
  app = await startApp();
  base = `http://127.0.0.1:${app.app.summary().http}`;
  const { password } = await app.app.testApi.addDevice({ sn: 'API-1', high_limit: 1000 });
  const client = await connectDevice(app.url, 'API-1', password!);
  await publishReading(client, 'API-1', { seq: 1, ts: Math.floor(app.clock.now() / 1000), v_raw: 5000 });
  await publishReading(client, 'API-1', '{not json');
  await client.endAsync();
});
after(() => app.stop());

test('GET /api/system/health reports database, broker, pipeline, devices, alarms, disk and license', async () => {
  const response = await fetch(`${base}/api/system/health`);
  assert.equal(response.status, 200);
  const health = (await response.json()) as Record<string, any>;
  assert.equal(health.status, 'ok');
  assert.equal(health.database.ok, true);
  assert.ok(health.database.schema_version >= 4);
  assert.equal(health.pipeline.stored, 1);
  assert.equal(health.pipeline.dropped.bad_json, 1);
  assert.equal(health.alarms.active >= 1, true, 'the HIGH alarm (and OFFLINE after the disconnect)');
  assert.equal(typeof health.disk.used_pct, 'number');
  assert.deepEqual([health.license.mode, health.license.code, health.license.max_devices], ['evaluation', 0, 10]);
});

test('GET /metrics is Prometheus text with the pipeline counters', async () => {
  const response = await fetch(`${base}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await response.text();
  assert.match(text, /^# TYPE mcs_readings_stored_total counter$/m);
  assert.match(text, /^mcs_readings_stored_total 1$/m);
  assert.match(text, /^mcs_readings_dropped_total\{reason="bad_json"\} 1$/m);
  assert.match(text, /^mcs_alarms_active \d+$/m);
  assert.match(text, /^process_resident_memory_bytes \d+$/m);
});

test('an unknown route answers 404 in the one error shape', async () => {
  const response = await fetch(`${base}/api/nothing-here`);
  assert.equal(response.status, 404);
  const body = (await response.json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'message']);
});
