// LIC-4 at the LAN API (routes by the API engineer, gate wired by app.ts): while locked, management
// writes answer 403 with the license code and what to do; reads and the license state still work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApi, type ApiApp } from '../helpers/api.ts';

let api: ApiApp;
before(async () => {
  api = await startApi();
});
after(() => api.stop());

test('a locked appliance answers management writes with 403 and the license code; removing the bad file returns to evaluation', async () => {
  const admin = api.tokens.admin;
  const file = join(api.dataDir, 'license.key');
  writeFileSync(file, '{"license": {"customer": "edited by hand"}, "signature": "x"}');
  assert.equal(api.app.parts.license.refresh().mode, 'locked');

  const refused = await api.call('POST', '/api/devices', { token: admin, body: { sn: 'LOCK-1' } });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 20001);
  assert.match(refused.body.message, /not valid.*Install the license file exactly as the vendor sent it/);
  assert.deepEqual(refused.body.detail, { mode: 'locked', reason: 'invalid_file' });

  const state = await api.call('GET', '/api/system/license', { token: api.tokens.viewer });
  assert.equal(state.status, 200);
  assert.deepEqual([state.body.mode, state.body.code, state.body.reason], ['locked', 20001, 'invalid_file']);
  const health = await api.call('GET', '/api/system/health', { token: api.tokens.viewer });
  assert.equal(health.body.license.mode, 'locked');

  rmSync(file);
  assert.equal(api.app.parts.license.refresh().mode, 'evaluation');
  assert.equal((await api.call('POST', '/api/devices', { token: admin, body: { sn: 'LOCK-1' } })).status, 201);
});
