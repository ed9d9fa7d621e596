// LIC-4 at the LAN API (routes by the API engineer, gate wired by app.ts): while locked, management
// writes answer 403 with the license code and what to do; reads and the license state still work,
// and data queries and exports are answered for the last 24 h (older ranges get the 403).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { ServerMessage } from '../../appliance/contract/live.ts';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';
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
  assert.equal(api.app.testApi.reevaluateLicense().mode, 'locked');

  const refused = await api.call('POST', '/api/devices', { token: admin, body: { sn: 'LOCK-1', high_limit: 100 } });
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
  assert.equal(api.app.testApi.reevaluateLicense().mode, 'evaluation');
  assert.equal((await api.call('POST', '/api/devices', { token: admin, body: { sn: 'LOCK-1', high_limit: 100 } })).status, 201);
});

test('the admin installs a license file through the API, also on a locked box; an edited or foreign one is refused with its code', async () => {
  const keys = vendorKeys();
  const licensed = await startApi({ license: { machine_id: MACHINE_A } }, { licensePublicKeyPem: keys.publicPem });
  try {
    const admin = licensed.tokens.admin;
    writeFileSync(join(licensed.dataDir, 'license.key'), 'not a license');
    assert.equal(licensed.app.testApi.reevaluateLicense().mode, 'locked');
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
    assert.equal((await licensed.call('POST', '/api/devices', { token: admin, body: { sn: 'AFTER-1', high_limit: 100 } })).status, 201, 'unlocked at once');
    const audit = await licensed.call('GET', '/api/system/logs?action=license.install', { token: admin });
    assert.deepEqual([audit.body.data[0].before.mode, audit.body.data[0].after.mode], ['locked', 'valid']);
  } finally {
    await licensed.stop();
  }
});

/** Polls an async condition (an API answer) every few ms. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a locked appliance answers history, raw and alarm exports for the last 24 h and refuses older ranges with the license code', async () => {
  const HOUR = 3_600_000;
  const SN = 'TREND-1';
  const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: SN, high_limit: 1000 } });
  assert.equal(created.status, 201, created.text);
  const device = await connectDevice(api.url, SN, created.body.password);
  const file = join(api.dataDir, 'license.key');
  const second = () => Math.floor(api.clock.now() / 1000);
  let operator = api.tokens.operator;
  const alarmsOf = async () => (await api.call('GET', `/api/alarms?sn=${SN}`, { token: operator })).body.data as { id: number; value: number }[];
  try {
    // Two days ago a leak (a HIGH alarm) that ended; now a new one (another HIGH alarm); both stored before the lock.
    const stored = api.app.testApi.readingCount();
    await publishReading(device, SN, { seq: 1, ts: second(), v_raw: 1500 });
    await publishReading(device, SN, { seq: 2, ts: second() + 1, v_raw: 100 });
    api.clock.advance(48 * HOUR);
    operator = await api.login('operator', 'operator-pass-2'); // the tokens have expired meanwhile
    await publishReading(device, SN, { seq: 3, ts: second(), v_raw: 1600 });
    await eventually(() => api.app.testApi.readingCount() === stored + 3, 3000, 'the readings stored');
    await until(async () => (await alarmsOf()).length === 2, 'two HIGH alarms');
    const alarms = await alarmsOf();
    const [oldId, recentId] = [1500, 1600].map((value) => String(alarms.find((a) => a.value === value)!.id));
    api.clock.advance(10 * 60_000);

    writeFileSync(file, 'not a license');
    assert.equal(api.app.testApi.reevaluateLicense().mode, 'locked');
    const now = api.clock.now();
    const at = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    const lastHour = `start=${at(now - HOUR)}&end=${at(now)}`;
    const twoDaysAgo = `start=${at(now - 49 * HOUR)}&end=${at(now - 47 * HOUR)}`;

    const history = await api.call('GET', `/api/devices/${SN}/history?${lastHour}`, { token: operator });
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(history.body.points.map((p: { max: number }) => p.max), [1600], 'the last hour of a leaking detector is still seen');
    const csv = await api.call('GET', `/api/devices/${SN}/export?${lastHour}`, { token: operator });
    assert.equal(csv.status, 200, csv.text);
    assert.match(csv.text, new RegExp(`^[^\\n]+,${SN},1600,`, 'm'));
    // The admin UI's "24 h" preset, computed a moment before the appliance reads its clock.
    const preset = await api.call('GET', `/api/devices/${SN}/history?start=${at(now - 24 * HOUR - 2000)}`, { token: operator });
    assert.equal(preset.status, 200, preset.text);
    assert.equal(preset.body.start, new Date(now - 24 * HOUR).toISOString(), 'moved to the window, not beyond it');

    for (const url of [`/api/devices/${SN}/history?${twoDaysAgo}`, `/api/devices/${SN}/export?${twoDaysAgo}`, `/api/alarms/export?start=${at(now - 49 * HOUR)}`, `/api/alarms/export?end=${at(now - 25 * HOUR)}`]) {
      const refused = await api.call('GET', url, { token: operator });
      assert.equal(refused.status, 403, url);
      assert.equal(refused.body.code, 20001, url);
      assert.match(refused.body.message, /only the last 24 hours can be queried or exported.*Install the license file exactly as the vendor sent it/, url);
      assert.deepEqual([refused.body.detail.mode, refused.body.detail.reason, refused.body.detail.window_hours], ['locked', 'invalid_file', 24], url);
    }

    // An alarm export without a start: the last 24 h, and its file name says so.
    const ids = (text: string) => text.replace(/^\uFEFF/, '').split('\n').map((line) => line.split(',')[0]);
    const limited = await api.call('GET', `/api/alarms/export?sn=${SN}`, { token: operator });
    assert.equal(limited.status, 200, limited.text);
    assert.match(String(limited.headers['content-disposition']), /alarms_\d{4}-\d{2}-\d{2}_last-24h\.csv/);
    assert.ok(ids(limited.text).includes(recentId) && !ids(limited.text).includes(oldId), limited.text);
    const recent = await api.call('GET', `/api/alarms/export?sn=${SN}&start=${at(now - 2 * HOUR)}`, { token: operator });
    assert.equal(recent.status, 200, recent.text);
    assert.ok(ids(recent.text).includes(recentId));

    // The kiosk's trend (WebSocket subscribe: the last hour) keeps working while locked.
    const messages: ServerMessage[] = [];
    const socket = new WebSocket(`${api.http.replace('http', 'ws')}/ws/dashboard?token=${encodeURIComponent(operator)}`);
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    try {
      await eventually(() => messages.some((m) => m.type === 'snapshot'), 3000, 'snapshot');
      socket.send(JSON.stringify({ type: 'subscribe', sn: SN }));
      await eventually(() => messages.some((m) => m.type === 'history'), 3000, 'history on subscribe');
      const trend = messages.find((m) => m.type === 'history') as Extract<ServerMessage, { type: 'history' }>;
      assert.deepEqual([trend.sn, trend.points.map((p) => p.max)], [SN, [1600]]);
    } finally {
      socket.close();
    }

    rmSync(file);
    assert.equal(api.app.testApi.reevaluateLicense().mode, 'evaluation');
    assert.equal((await api.call('GET', `/api/devices/${SN}/history?${twoDaysAgo}`, { token: operator })).status, 200, 'unlocked: any range');
    const all = await api.call('GET', `/api/alarms/export?sn=${SN}`, { token: operator });
    assert.doesNotMatch(String(all.headers['content-disposition']), /last-24h/);
    assert.ok(ids(all.text).includes(oldId) && ids(all.text).includes(recentId));
  } finally {
    rmSync(file, { force: true });
    api.app.testApi.reevaluateLicense();
    await device.endAsync();
  }
});
