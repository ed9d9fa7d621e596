// Issue 15.2 through the real parts: startApp (real SQLite, the writer thread, the broker), the
// HTTP API, a real MQTT detector, and the injected clock driving the due dates. CAL_DUE appears at
// the configured lead time, turns into CAL_OVERDUE after the due date and clears when a passing
// calibration is recorded; its new k/b updates the device and reaches it as `calib`; the due
// report's CSV lists the site-local due dates; a bump-test interval raises BUMP_DUE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startApi, type ApiApp } from '../helpers/api.ts';
import { connectDevice, eventually } from '../helpers/appliance.ts';
import { cmdTopic } from '../../appliance/contract/topics.ts';

const SN = 'CAL-1';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1, 4, 0, 0); // 12:00 in Shanghai

/** Months pass on the injected clock: sessions expire, so everyone logs in again. */
async function setClock(api: ApiApp, at: number) {
  api.clock.set(at);
  api.tokens.admin = await api.login('admin', ADMIN_PASSWORD);
  for (const role of ['operator', 'viewer'] as const) api.tokens[role] = await api.login(role, `${role}-pass-2`);
}

async function dueCheck(api: ApiApp) {
  const outcome = await api.app.testApi.runJob('calibration-due');
  await api.app.testApi.flush();
  return outcome;
}

async function activeOf(api: ApiApp, type: string) {
  const { status, body, text } = await api.call('GET', `/api/alarms?sn=${SN}&type=${type}`, { token: api.tokens.viewer });
  assert.equal(status, 200, text);
  return body.data.filter((a: { state: string }) => a.state === 'active');
}

test('CAL_DUE at the lead time, CAL_OVERDUE after the due date, cleared by a recorded calibration whose k/b reaches the device; the CSV lists due dates', async () => {
  const { manualClock } = await import('../../appliance/core/clock.ts');
  const clock = manualClock(T0);
  const api = await startApi({ site: { timezone: 'Asia/Shanghai', language: 'en' }, calibration: { due_lead_days: 20 } }, { clock });
  try {
    const created = await api.call('POST', '/api/devices', {
      token: api.tokens.admin, body: { sn: SN, name: 'Boiler room', location: 'B1', gas: 'CH4', unit: '%LEL', high_limit: 20, high2_limit: 40, calib: { k: 1, b: 0 } },
    });
    assert.equal(created.status, 201, created.text);
    const due = T0 + 365 * DAY;

    await dueCheck(api);
    assert.deepEqual(await activeOf(api, 'CAL_DUE'), [], 'a new detector is not due');

    // One minute before the lead time: nothing; at it: CAL_DUE, low priority.
    await setClock(api, due - 20 * DAY - 60_000);
    await dueCheck(api);
    assert.deepEqual(await activeOf(api, 'CAL_DUE'), []);
    await setClock(api, due - 20 * DAY);
    await dueCheck(api);
    const [calDue] = await activeOf(api, 'CAL_DUE');
    assert.ok(calDue, 'CAL_DUE raised at the lead time');
    assert.deepEqual([calDue.priority, calDue.source, calDue.detail], ['low', SN, 'calibration due 2027-03-01 / 校准到期 2027-03-01']);

    const report = await api.call('GET', '/api/calibration/due', { token: api.tokens.viewer });
    assert.equal(report.status, 200, report.text);
    assert.deepEqual(report.body.data.map((r: any) => [r.sn, r.calibration_state, r.calibration_due_at]), [[SN, 'due', new Date(due).toISOString()]]);
    const csv = await api.call('GET', '/api/calibration/due.csv', { token: api.tokens.viewer });
    assert.equal(csv.status, 200);
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    assert.equal(lines[0], 'Serial,Name,Location,Calibration interval (days),Last calibration,Calibration due,Calibration state,Bump-test interval (days),Last bump test,Bump test due,Bump-test state');
    assert.equal(lines[1], `${SN},Boiler room,B1,365,,2027-03-01 12:00:00 UTC+8,due soon,,,,`);
    const zh = await api.call('GET', '/api/calibration/due.csv?language=zh-CN', { token: api.tokens.viewer });
    assert.match(zh.text, /校准到期/);
    assert.match(zh.text, /即将到期/);

    // Past the due date: CAL_DUE clears, CAL_OVERDUE (medium) holds.
    await setClock(api, due + 1000);
    await dueCheck(api);
    assert.deepEqual(await activeOf(api, 'CAL_DUE'), []);
    const [overdue] = await activeOf(api, 'CAL_OVERDUE');
    assert.equal(overdue?.priority, 'medium');

    // A viewer may not record; an operator records a passing calibration with new k/b on a connected device.
    const device = await connectDevice(api.url, SN, created.body.password);
    const commands: any[] = [];
    device.on('message', (_topic, payload) => commands.push(JSON.parse(String(payload))));
    await device.subscribeAsync(cmdTopic(SN), { qos: 1 });
    const body = { kind: 'calibration', test_gas: 'CH4', concentration: 50, as_found: 44, as_left: 50, passed: true, k: 1.25, b: -2, comment: 'annual' };
    assert.equal((await api.call('POST', `/api/calibration/devices/${SN}`, { token: api.tokens.viewer, body })).status, 403);
    const recorded = await api.call('POST', `/api/calibration/devices/${SN}`, { token: api.tokens.operator, body });
    assert.equal(recorded.status, 201, recorded.text);
    assert.deepEqual([recorded.body.command, recorded.body.record.by, recorded.body.record.new_k, recorded.body.record.new_b], ['sent', 'operator', 1.25, -2]);
    assert.equal(recorded.body.due.calibration_due_at, new Date(due + 1000 + 365 * DAY).toISOString());
    await eventually(() => commands.length === 1, 3000, 'the calib command');
    assert.deepEqual(commands[0], { cmd: 'calib', k: 1.25, b: -2, t_comp: 0 });
    const after = await api.call('GET', `/api/devices/${SN}`, { token: api.tokens.viewer });
    assert.deepEqual([after.body.calib.k, after.body.calib.b], [1.25, -2], 'the device itself has the new k/b');
    await api.app.testApi.flush();
    assert.deepEqual(await activeOf(api, 'CAL_OVERDUE'), [], 'the recorded calibration cleared CAL_OVERDUE');
    const audit = await api.call('GET', '/api/system/logs?action=calibration.', { token: api.tokens.admin });
    assert.equal(audit.status, 200, audit.text);
    const [entry] = audit.body.data;
    assert.deepEqual([entry.action, entry.username, entry.target], ['calibration.calibration', 'operator', SN], 'the calibration is audited');
    assert.deepEqual([entry.before.calib.k, entry.after.calib.k], [1, 1.25], 'with the k it replaced');
    await device.endAsync();

    // A bump-test interval of 30 days: BUMP_DUE once it is overdue; a failed bump test leaves it, a passing one clears it.
    const intervals = await api.call('PUT', `/api/calibration/devices/${SN}/intervals`, { token: api.tokens.admin, body: { calibration_days: null, bump_test_days: 30 } });
    assert.equal(intervals.status, 200, intervals.text);
    await setClock(api, clock.now() + 30 * DAY);
    await dueCheck(api);
    const [bump] = await activeOf(api, 'BUMP_DUE');
    assert.equal(bump?.priority, 'low');
    const failed = await api.call('POST', `/api/calibration/devices/${SN}`, { token: api.tokens.operator, body: { kind: 'bump_test', test_gas: 'CH4', concentration: 50, as_found: 12, passed: false } });
    assert.equal(failed.status, 201, failed.text);
    await api.app.testApi.flush();
    assert.equal((await activeOf(api, 'BUMP_DUE')).length, 1, 'a failed bump test leaves the detector due');
    await api.call('POST', `/api/calibration/devices/${SN}`, { token: api.tokens.operator, body: { kind: 'bump_test', test_gas: 'CH4', concentration: 50, as_found: 49, passed: true } });
    await api.app.testApi.flush();
    assert.deepEqual(await activeOf(api, 'BUMP_DUE'), []);

    const history = await api.call('GET', `/api/calibration/devices/${SN}`, { token: api.tokens.viewer });
    assert.deepEqual(history.body.records.map((r: any) => [r.kind, r.passed]), [['bump_test', true], ['bump_test', false], ['calibration', true]]);
  } finally {
    await api.stop();
  }
});

test('a bump test cannot change k/b, and the errors say so in both languages', async () => {
  const api = await startApi();
  try {
    const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: SN, gas: 'CH4', unit: '%LEL', high_limit: 20, high2_limit: 40 } });
    assert.equal(created.status, 201, created.text);
    const refused = await api.call('POST', `/api/calibration/devices/${SN}`, { token: api.tokens.operator, body: { kind: 'bump_test', passed: true, k: 2 } });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /bump test does not change k\/b.* \/ 气体测试不能修改/);
    const unknown = await api.call('POST', '/api/calibration/devices/NOPE-1', { token: api.tokens.operator, body: { kind: 'calibration', passed: true } });
    assert.equal(unknown.status, 404);
    const device = await api.call('GET', `/api/devices/${SN}`, { token: api.tokens.viewer });
    assert.equal(device.body.calib.k, 1, 'unchanged');
  } finally {
    await api.stop();
  }
});
