// Issue 17.7 (SYNC-7, API-1/3/5/7): the cloud sync routes through fastify inject() on the
// appliance's real parts (database, users, audit log, secret key) with a fake UplinkControl:
// settings with secrets masked and audited field by field, every problem of a refused save named,
// the test button with the unsaved form, pause/resume audited, and who may do what.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { uplinkApiServer, type FakeUplink } from './uplink-support.ts';

let api: ApiApp;
let server: FastifyInstance;
let uplink: FakeUplink;

before(async () => {
  api = await startApi({ site: { timezone: 'UTC', language: 'en' } });
  ({ server, uplink } = await uplinkApiServer(api));
});
after(async () => {
  await server.close();
  await api.stop();
});

async function call(method: string, url: string, token: string, body?: unknown) {
  const response = await server.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}` }, ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: response.statusCode, body: JSON.parse(response.body || 'null'), text: response.body };
}
const emqx = { id: 'emqx', kind: 'mqtt', name: 'EMQX cloud', url: 'mqtts://emqx.example.com:8883', username: 'plant-7', password: 'broker-pass-1' };
/** The newest audit entry of an action (its before/after as the route wrote them). */
const lastAudit = (action: string): any => api.app.testApi.auditEntries({ limit: 1, offset: 0, action }).items[0];

test('off by default: no target, the derived box id, the defaults of each kind; who may read what', async () => {
  const config = await call('GET', '/api/config/uplink', api.tokens.admin);
  assert.equal(config.status, 200, config.text);
  assert.deepEqual(config.body.targets, []);
  assert.match(config.body.effective_box_id, /^box-[0-9a-f]{12}$/);
  assert.equal(config.body.defaults.mqtt.topic_template, 'mcs/{box}/{kind}');
  assert.equal(config.body.defaults.aliyun.region, 'cn-shanghai');
  assert.equal(config.body.defaults.https.batch_records, 500);
  const status = await call('GET', '/api/system/uplink', api.tokens.operator);
  assert.equal(status.status, 200);
  assert.deepEqual(status.body, { box_id: config.body.effective_box_id, clock_synced: true, targets: [] });
  assert.equal((await call('GET', '/api/system/uplink', api.tokens.viewer)).status, 403);
  assert.equal((await call('GET', '/api/config/uplink', api.tokens.operator)).status, 403);
  assert.equal((await call('PUT', '/api/config/uplink', api.tokens.operator, { targets: [] })).status, 403);
});

test('saving masks the secrets, audits each changed field with secrets masked, keeps a "******" secret and reloads the uplink', async () => {
  const reloads = uplink.calls.reload;
  const saved = await call('PUT', '/api/config/uplink', api.tokens.admin, { targets: [emqx] });
  assert.equal(saved.status, 200, saved.text);
  assert.equal(saved.body.targets[0].password, '******');
  assert.equal(saved.body.targets[0].key, '');
  assert.equal(uplink.calls.reload, reloads + 1);
  assert.equal(uplink.settings.load().targets[0].kind === 'mqtt' && (uplink.settings.load().targets[0] as { password: string }).password, 'broker-pass-1');

  // GET → change → PUT as it came back (the read-only fields included): the secret stays.
  const read = (await call('GET', '/api/config/uplink', api.tokens.admin)).body;
  const again = await call('PUT', '/api/config/uplink', api.tokens.admin, { ...read, targets: [{ ...read.targets[0], inflight: 64, topic_template: 'plants/{box}/{sn}/{kind}' }] });
  assert.equal(again.status, 200, again.text);
  assert.equal((uplink.settings.load().targets[0] as { password: string }).password, 'broker-pass-1');
  const entry = lastAudit('config.uplink');
  assert.equal(entry.username, 'admin');
  assert.deepEqual(entry.before.targets.emqx.inflight, 32);
  assert.deepEqual(entry.after.targets.emqx.inflight, 64);
  assert.equal(entry.after.targets.emqx.topic_template, 'plants/{box}/{sn}/{kind}');
  assert.equal(entry.after.targets.emqx.password, '******');
  const everything = JSON.stringify(api.app.testApi.auditEntries({ limit: 100, offset: 0, action: 'config.uplink' }).items);
  assert.ok(!everything.includes('broker-pass-1'), 'no secret in the audit log');

  const status = await call('GET', '/api/system/uplink', api.tokens.operator);
  assert.deepEqual(status.body.targets.map((t: { id: string; connected: boolean }) => [t.id, t.connected]), [['emqx', true]]);
});

test('a refused save names every problem by field and rule (70001), per target kind, and changes nothing', async () => {
  const reloads = uplink.calls.reload;
  const before = uplink.settings.redacted();
  const refused = await call('PUT', '/api/config/uplink', api.tokens.admin, {
    box_id: 'has space',
    targets: [
      { ...emqx, password: '******', url: 'mqtts://evil.example.net' },
      { id: 'ali', kind: 'aliyun', product_key: 'a1B2', device_name: 'gw' },
      { id: 'emqx', kind: 'https', url: 'https://mes.example.com', sm4_key: 'short' },
    ],
  });
  assert.equal(refused.status, 400, refused.text);
  assert.equal(refused.body.code, 70001);
  const problems = Object.fromEntries(refused.body.detail.map((p: { field: string; rule: string; form?: string }) => [p.field, p.form ? `${p.rule}:${p.form}` : p.rule]));
  assert.deepEqual(problems, {
    box_id: 'pattern:box_id',
    'targets.0.password': 'retype',
    // An Aliyun target is judged as one (a union would have blamed the missing MQTT url).
    'targets.1.device_secret': 'required',
    'targets.2.sm4_key': 'pattern:hex_key_16',
    'targets.2.id': 'duplicate',
  });
  assert.match(refused.body.message, /^invalid cloud sync settings: box_id: must be 1 to 64 letters/);
  assert.match(refused.body.message, /targets\.0\.password: type it again/);
  assert.equal(uplink.calls.reload, reloads);
  assert.deepEqual(uplink.settings.redacted(), before);

  const noKind = await call('PUT', '/api/config/uplink', api.tokens.admin, { targets: [{ id: 'x' }] });
  assert.equal(noKind.status, 400);
  assert.equal(noKind.body.code, 70001);
  assert.deepEqual(noKind.body.detail.map((p: { field: string; rule: string }) => [p.field, p.rule]), [['targets.0.kind', 'required']]);
});

test('the test button tries the unsaved form with the stored secret filled in, only for the same address', async () => {
  await call('PUT', '/api/config/uplink', api.tokens.admin, { targets: [emqx] });
  const form = (await call('GET', '/api/config/uplink', api.tokens.admin)).body.targets[0];
  const tested = await call('POST', '/api/system/uplink/test', api.tokens.admin, { ...form, username: 'someone-else' });
  assert.equal(tested.status, 200, tested.text);
  assert.deepEqual(tested.body, { ok: true, message: 'connected to mqtts://emqx.example.com:8883' });
  const seen = uplink.calls.tested.at(-1) as { password: string; username: string };
  assert.deepEqual([seen.password, seen.username], ['broker-pass-1', 'someone-else']);

  const elsewhere = await call('POST', '/api/system/uplink/test', api.tokens.admin, { ...form, url: 'mqtt://collector.example.org' });
  assert.equal(elsewhere.status, 400);
  assert.deepEqual(elsewhere.body.detail.map((p: { field: string; rule: string }) => [p.field, p.rule]), [['password', 'retype']]);

  uplink.testAnswer = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1'));
  const failed = await call('POST', '/api/system/uplink/test', api.tokens.admin, form);
  assert.deepEqual(failed.body, { ok: false, message: 'connect ECONNREFUSED 127.0.0.1:1' });
  assert.equal((await call('POST', '/api/system/uplink/test', api.tokens.operator, form)).status, 403);
});

test('pause and resume are kept, audited and passed to the uplink; an unknown target is a 404 in words', async () => {
  await call('PUT', '/api/config/uplink', api.tokens.admin, { targets: [emqx] });
  const paused = await call('POST', '/api/system/uplink/emqx/pause', api.tokens.admin);
  assert.equal(paused.status, 200, paused.text);
  assert.deepEqual(paused.body, { id: 'emqx', paused: true });
  assert.deepEqual(uplink.calls.paused.at(-1), ['emqx', true]);
  assert.equal(uplink.settings.load().targets[0].paused, true, 'kept in the settings: still paused after a restart');
  const entry = lastAudit('uplink.pause');
  assert.deepEqual([entry.target, entry.before, entry.after], ['emqx', { paused: false }, { paused: true }]);
  const status = (await call('GET', '/api/system/uplink', api.tokens.operator)).body.targets[0];
  assert.deepEqual([status.paused, status.connected], [true, false]);

  assert.equal((await call('POST', '/api/system/uplink/emqx/resume', api.tokens.admin)).status, 200);
  assert.equal(uplink.settings.load().targets[0].paused, false);
  assert.deepEqual(lastAudit('uplink.resume').after, { paused: false });

  const unknown = await call('POST', '/api/system/uplink/nope/pause', api.tokens.admin);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, 70002);
  assert.equal(unknown.body.message, 'no cloud sync target "nope" / 没有云端同步目标“nope”');
  assert.equal((await call('POST', '/api/system/uplink/emqx/pause', api.tokens.operator)).status, 403);
});
