// LIC-4 at the LAN API (routes by the API engineer, gate wired by app.ts): while locked, management
// writes answer 403 with the license code and what to do; reads and the license state still work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { issue, MACHINE_A, MACHINE_B, vendorKeys } from '../licensing/support.ts';

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

test('the admin installs a license file through the API, also on a locked box; an edited or foreign one is refused with its code', async () => {
  const keys = vendorKeys();
  const licensed = await startApi({ license: { machine_id: MACHINE_A } }, { licensePublicKeyPem: keys.publicPem });
  try {
    const admin = licensed.tokens.admin;
    writeFileSync(join(licensed.dataDir, 'license.key'), 'not a license');
    assert.equal(licensed.app.parts.license.refresh().mode, 'locked');
    const original = issue(keys, { features: ['offline'] }).text;
    const edited = original.replace('"max_devices": 100', '"max_devices": 900');
    assert.notEqual(edited, original);
    const refused = await licensed.call('POST', '/api/system/license', { token: admin, body: { file: edited } });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 20001);
    const foreign = await licensed.call('POST', '/api/system/license', { token: admin, body: { file: issue(keys, { machine_id: MACHINE_B, features: ['offline'] }).text } });
    assert.equal(foreign.body.code, 20004);
    assert.equal((await licensed.call('POST', '/api/system/license', { token: licensed.tokens.operator, body: { file: 'x' } })).status, 403);

    const { text } = issue(keys, { features: ['offline'], customer: 'Plant One' });
    const installed = await licensed.call('POST', '/api/system/license', { token: admin, body: { file: text } });
    assert.equal(installed.status, 200, installed.text);
    assert.deepEqual([installed.body.mode, installed.body.customer, installed.body.max_devices], ['valid', 'Plant One', 100]);
    assert.equal((await licensed.call('POST', '/api/devices', { token: admin, body: { sn: 'AFTER-1' } })).status, 201, 'unlocked at once');
    const audit = await licensed.call('GET', '/api/system/logs?action=license.install', { token: admin });
    assert.deepEqual([audit.body.data[0].before.mode, audit.body.data[0].after.mode], ['locked', 'valid']);
  } finally {
    await licensed.stop();
  }
});
