// API-2: the OpenAPI document lists every route with its input and output schemas.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type ApiApp } from '../helpers/api.ts';

let api: ApiApp;
before(async () => {
  api = await startApi();
});
after(() => api.stop());

test('GET /api/docs is an OpenAPI 3 document of the seed endpoint list, public', async () => {
  const response = await api.call('GET', '/api/docs');
  assert.equal(response.status, 200);
  const doc = response.body;
  assert.match(doc.openapi, /^3\./);
  const paths = Object.keys(doc.paths);
  for (const path of [
    '/api/auth/login', '/api/devices', '/api/devices/{sn}', '/api/devices/{sn}/realtime', '/api/devices/{sn}/history',
    '/api/devices/{sn}/command', '/api/devices/positions', '/api/alarms', '/api/alarms/{id}', '/api/alarms/{id}/ack',
    '/api/alarms/stats', '/api/config/alarm', '/api/config/alarm/test', '/api/config/dashboard', '/api/config/dashboard/bg',
    '/api/system/health', '/api/system/stats', '/api/system/license', '/api/system/logs', '/api/users',
  ]) assert.ok(paths.includes(path), `${path} documented`);
  const put = doc.paths['/api/devices/{sn}'].put;
  assert.ok(put.requestBody.content['application/json'].schema.properties.high_limit);
  assert.ok(put.responses['200'].content['application/json'].schema.properties.last_ppm);
});
