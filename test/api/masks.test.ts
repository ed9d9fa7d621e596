// Issue 15.1 masking over the LAN API, through real HTTP (the appliance listening on a loopback
// port): operators mask and unmask, viewers may only look (403), a mask longer than the configured
// maximum is refused with a 400 that says so in English and Chinese, and every mask and unmask is
// in the audit log with who, what and when.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type ApiApp } from '../helpers/api.ts';

let api: ApiApp;

before(async () => {
  api = await startApi();
  for (const sn of ['MK-001', 'MK-002']) {
    const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn, name: sn, high_limit: 100 } });
    assert.equal(created.status, 201, created.text);
  }
});
after(() => api.stop());

/** A request over the wire to the running appliance. */
async function http(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${api.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, text };
}

test('a viewer may see the masks but not mask or unmask (403); an operator masks and unmasks', async () => {
  const { viewer, operator } = api.tokens;
  const refused = await http('POST', '/api/devices/mask', viewer, { sns: ['MK-001'], minutes: 10, reason: 'bump test' });
  assert.equal(refused.status, 403, refused.text);
  assert.equal((await http('GET', '/api/masks', viewer)).body.data.length, 0, 'the refused request masked nothing');

  const masked = await http('POST', '/api/devices/mask', operator, { sns: ['MK-001'], minutes: 10, reason: 'bump test' });
  assert.equal(masked.status, 200, masked.text);
  assert.equal(masked.body.data[0].sn, 'MK-001');
  assert.equal(Date.parse(masked.body.data[0].until) - Date.parse(masked.body.data[0].masked_at), 10 * 60_000);

  const seen = await http('GET', '/api/masks', viewer);
  assert.equal(seen.status, 200);
  assert.deepEqual(seen.body.data.map((m: { sn: string; reason: string; masked_by: string }) => [m.sn, m.reason, m.masked_by]), [['MK-001', 'bump test', 'operator']]);
  assert.deepEqual(seen.body.settings, { default_minutes: 30, max_minutes: 480, level2_sounds: true });

  assert.equal((await http('POST', '/api/devices/unmask', viewer, { sns: ['MK-001'] })).status, 403);
  const unmasked = await http('POST', '/api/devices/unmask', operator, { sns: ['MK-001'] });
  assert.equal(unmasked.status, 200, unmasked.text);
  assert.deepEqual((await http('GET', '/api/masks', viewer)).body.data, []);
  const again = await http('POST', '/api/devices/unmask', operator, { sns: ['MK-001'] });
  assert.equal(again.status, 404, 'a detector not masked');
  assert.match(again.body.message, /none of these detectors is masked/);
  assert.match(again.body.message, /未屏蔽/);
});

test('a mask longer than the configured maximum is refused with 400, in English and Chinese; nothing is masked', async () => {
  const { admin, operator } = api.tokens;
  const over = await http('POST', '/api/devices/mask', operator, { sns: ['MK-002'], minutes: 481, reason: 'maintenance' });
  assert.equal(over.status, 400, over.text);
  assert.match(over.body.message, /at most 480 minutes/);
  assert.match(over.body.message, /屏蔽时长最多 480 分钟/);

  // A lower maximum set by the admin is the bound from then on (the viewer and operator may not set it).
  assert.equal((await http('PUT', '/api/masks/settings', operator, { default_minutes: 15, max_minutes: 60, level2_sounds: true })).status, 403);
  const saved = await http('PUT', '/api/masks/settings', admin, { default_minutes: 15, max_minutes: 60, level2_sounds: true });
  assert.equal(saved.status, 200, saved.text);
  const overNew = await http('POST', '/api/devices/mask', operator, { sns: ['MK-002'], minutes: 61, reason: 'maintenance' });
  assert.equal(overNew.status, 400);
  assert.match(overNew.body.message, /at most 60 minutes/);
  assert.match(overNew.body.message, /屏蔽时长最多 60 分钟/);
  const unordered = await http('PUT', '/api/masks/settings', admin, { default_minutes: 90, max_minutes: 60, level2_sounds: true });
  assert.equal(unordered.status, 400);
  assert.match(unordered.body.message, /默认屏蔽时长不能超过最长时长/);
  assert.deepEqual((await http('GET', '/api/masks', operator)).body.data, [], 'nothing was masked');

  // Without minutes a mask lasts the default.
  const byDefault = await http('POST', '/api/devices/mask', operator, { sns: ['MK-002'], reason: 'calibration' });
  assert.equal(byDefault.status, 200, byDefault.text);
  assert.equal(Date.parse(byDefault.body.data[0].until) - Date.parse(byDefault.body.data[0].masked_at), 15 * 60_000);
  assert.equal((await http('POST', '/api/devices/unmask', operator, { sns: ['MK-002'] })).status, 200);
  await http('PUT', '/api/masks/settings', admin, { default_minutes: 30, max_minutes: 480, level2_sounds: true });
});

test('masking an unknown detector is a 404 naming it, and masks nothing', async () => {
  const unknown = await http('POST', '/api/devices/mask', api.tokens.operator, { sns: ['MK-001', 'NOPE-9'], minutes: 5, reason: 'bump test' });
  assert.equal(unknown.status, 404, unknown.text);
  assert.match(unknown.text, /NOPE-9/);
  assert.deepEqual((await http('GET', '/api/masks', api.tokens.operator)).body.data, []);
});

test('every mask and unmask is audited with the user, the detectors and the reason', async () => {
  const logs = await http('GET', '/api/system/logs?action=device.', api.tokens.admin);
  assert.equal(logs.status, 200, logs.text);
  const entries = (logs.body.data as { action: string; target: string; username: string; before: any; after: any }[])
    .filter((e) => e.action === 'device.mask' || e.action === 'device.unmask')
    .reverse(); // oldest first
  assert.deepEqual(entries.map((e) => `${e.action} ${e.target} ${e.username}`), [
    'device.mask MK-001 operator', 'device.unmask MK-001 operator', 'device.mask MK-002 operator', 'device.unmask MK-002 operator',
  ], 'refused requests (viewer, over the maximum, unknown detector) are not audited as done');
  assert.equal(entries[0].after.reason, 'bump test');
  assert.equal(entries[0].after.minutes, 10);
  assert.ok(entries[0].after.until);
  assert.equal(entries[1].before[0].reason, 'bump test', 'the unmask records the mask it ended');
  assert.equal(entries[1].after, null);
  const settings = await http('GET', '/api/system/logs?action=masking.', api.tokens.admin);
  assert.ok(settings.body.data.some((e: { action: string; username: string }) => e.action === 'masking.settings' && e.username === 'admin'));
});
