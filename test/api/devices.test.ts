// API-1/API-2/API-5 devices through the API: CRUD with the service's validation, strict input
// (types, unknown fields, size, path traversal), all-or-nothing positions, history and export,
// pending adoption, and audit entries with before/after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiForTheseTests } from '../helpers/api.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';

const api = apiForTheseTests();

test('a device is registered, shown once with its password, listed with paging, updated and removed', async () => {
  const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'DEV-A1', name: 'Tank 1', location: 'East', high_limit: 1000 } });
  assert.equal(created.status, 201);
  assert.equal(typeof created.body.password, 'string');
  assert.equal(created.body.device.credentials, 'generated');
  assert.equal(created.body.device.status, 'offline');
  assert.equal((await api.call('GET', '/api/devices/DEV-A1', { token: api.tokens.admin })).body.password, undefined, 'never again');
  for (let i = 2; i <= 5; i++) await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: `DEV-A${i}`, high_limit: 1000 } });
  const page = await api.call('GET', '/api/devices?page=2&size=2&q=DEV-A', { token: api.tokens.viewer });
  assert.equal(page.status, 200);
  assert.equal(page.body.total, 5);
  assert.deepEqual(page.body.data.map((d: { sn: string }) => d.sn), ['DEV-A3', 'DEV-A4']);
  const updated = await api.call('PUT', '/api/devices/DEV-A1', { token: api.tokens.admin, body: { calib: { k: 2 }, high_limit: 800 } });
  assert.equal(updated.status, 200);
  assert.deepEqual(updated.body.calib, { k: 2, b: 0, t_ref: 25, t_comp: 0 });
  assert.equal((await api.call('DELETE', '/api/devices/DEV-A5', { token: api.tokens.admin })).status, 200);
  assert.equal((await api.call('GET', '/api/devices/DEV-A5', { token: api.tokens.admin })).body.code, 40001);
  assert.equal((await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'DEV-A1' } })).body.code, 40002);
});

test('invalid device input gets 400 with 40004 listing every problem, and nothing is stored', async () => {
  const cases: [unknown, RegExp][] = [
    [{ sn: 'DEV-B1', high_limit: '1000' }, /high_limit/],
    [{ sn: 'DEV-B1', colour: 'red' }, /colour|additional/i],
    [{ sn: '../../etc/passwd' }, /sn/],
    [{ sn: 'DEV-B1', high_limit: 900, low_limit: 950 }, /low_limit: must be below high_limit/],
    [{ sn: 'DEV-B1', calib: { k: 0 } }, /calib\/k/],
  ];
  for (const [body, problem] of cases) {
    const response = await api.call('POST', '/api/devices', { token: api.tokens.admin, body });
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(response.body.code, 40004);
    assert.match(JSON.stringify(response.body.detail), problem);
  }
  assert.equal((await api.call('GET', '/api/devices/DEV-B1', { token: api.tokens.admin })).status, 404);
  const wrongType = await api.call('PUT', '/api/devices/DEV-A1', { token: api.tokens.admin, body: { enabled: 'yes' } });
  assert.equal(wrongType.body.code, 40004);
  assert.equal((await api.call('GET', '/api/devices/DEV-A1', { token: api.tokens.admin })).body.enabled, true);
});

test('bad JSON, a wrong content type, an oversize body and a traversing path get 400 in the one shape', async () => {
  const badJson = await api.call('POST', '/api/devices', { token: api.tokens.admin, payload: '{"sn": ', headers: { 'content-type': 'application/json' } });
  assert.equal(badJson.status, 400);
  assert.equal(badJson.body.code, 40004);
  const huge = await api.call('POST', '/api/devices', { token: api.tokens.admin, payload: JSON.stringify({ sn: 'DEV-C1', name: 'x'.repeat(300_000) }), headers: { 'content-type': 'application/json' } });
  assert.equal(huge.status, 400);
  assert.match(huge.body.message, /too large/);
  const traversal = await api.call('GET', '/api/devices/..%2F..%2Fetc%2Fpasswd', { token: api.tokens.admin });
  assert.equal(traversal.status, 400);
  assert.deepEqual(Object.keys(traversal.body).sort(), ['code', 'detail', 'message']);
  const badQuery = await api.call('GET', '/api/devices?size=100000', { token: api.tokens.admin });
  assert.equal(badQuery.status, 400);
  const unknownQuery = await api.call('GET', '/api/devices?drop=table', { token: api.tokens.admin });
  assert.equal(unknownQuery.status, 400);
});

test('positions are saved all or none: one unknown serial leaves every device where it was', async () => {
  const refused = await api.call('POST', '/api/devices/positions', {
    token: api.tokens.admin, body: { positions: [{ sn: 'DEV-A1', x: 10, y: 20 }, { sn: 'NOPE-1', x: 5, y: 5 }] },
  });
  assert.equal(refused.status, 404);
  assert.equal(refused.body.code, 40001);
  assert.equal((await api.call('GET', '/api/devices/DEV-A1', { token: api.tokens.admin })).body.pos_x, null);
  const saved = await api.call('POST', '/api/devices/positions', { token: api.tokens.admin, body: { positions: [{ sn: 'DEV-A1', x: 12.5, y: 40 }] } });
  assert.equal(saved.status, 200);
  const device = (await api.call('GET', '/api/devices/DEV-A1', { token: api.tokens.admin })).body;
  assert.deepEqual([device.pos_x, device.pos_y], [12.5, 40]);
  assert.equal((await api.call('POST', '/api/devices/positions', { token: api.tokens.admin, body: { positions: [{ sn: 'DEV-A1', x: 120, y: 1 }] } })).status, 400);
});

test('a reading shows in the list, realtime, history and the CSV export', async () => {
  const { body } = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'DEV-D1', calib: { k: 0.1, b: 0 }, high_limit: 1000 } });
  const client = await connectDevice(api.url, 'DEV-D1', body.password);
  const second = Math.floor(api.clock.now() / 1000);
  await publishReading(client, 'DEV-D1', { seq: 1, ts: second, v_raw: 1000 });
  await publishReading(client, 'DEV-D1', { seq: 2, ts: second + 1, v_raw: 2000 });
  await client.endAsync();
  await eventually(() => api.app.testApi.lastReadingAt('DEV-D1') !== null, 3000, 'reading in the live state');
  const listed = (await api.call('GET', '/api/devices?q=DEV-D1', { token: api.tokens.viewer })).body.data[0];
  assert.equal(listed.last_ppm, 200);
  const realtime = (await api.call('GET', '/api/devices/DEV-D1/realtime', { token: api.tokens.viewer })).body;
  assert.equal(realtime.ppm, 200);
  const late = Date.parse(realtime.ts) - (second + 1) * 1000;
  assert.ok(late >= 0 && late < 1000, 'the reading second (the key adds the sequence as milliseconds, ING-4)');
  const start = new Date((second - 60) * 1000).toISOString();
  const end = (second + 60) * 1000; // the readings are ahead of the hand-driven clock
  const history = await api.call('GET', `/api/devices/DEV-D1/history?start=${start}&end=${end}&interval=10s`, { token: api.tokens.operator });
  assert.equal(history.status, 200);
  assert.equal(history.body.interval, '10s');
  assert.deepEqual(history.body.points.reduce((n: number, p: { count: number }) => n + p.count, 0), 2);
  const csv = await api.call('GET', `/api/devices/DEV-D1/export?start=${start}&end=${end}`, { token: api.tokens.operator });
  assert.equal(csv.status, 200);
  const lines = csv.text.trim().split('\n');
  assert.equal(lines[0], 'time,sn,v_raw,ppm,temp,humi,bat,rssi,seq');
  assert.equal(lines.length, 3);
  assert.match(lines[2], /,DEV-D1,2000,200,/);
  const tooLong = await api.call('GET', `/api/devices/DEV-D1/history?start=0&interval=10s`, { token: api.tokens.operator });
  assert.equal(tooLong.status, 400);
  assert.match(tooLong.body.message, /7 days/);
});

test('a pending serial is listed and adopted with its factory password', async () => {
  api.app.testApi.recordPendingDevice({ sn: 'PEND-1', ts: api.clock.now(), messages: 3, payload: '{}', remote: '10.0.0.7' });
  const pending = await api.call('GET', '/api/devices/pending', { token: api.tokens.admin });
  assert.deepEqual(pending.body.data.map((p: { sn: string }) => p.sn), ['PEND-1']);
  const adopted = await api.call('POST', '/api/devices/pending/PEND-1/adopt', { token: api.tokens.admin, body: { name: 'Found', high_limit: 1000 } });
  assert.equal(adopted.status, 201);
  assert.equal(adopted.body.password, null);
  assert.equal(adopted.body.device.credentials, 'factory');
  assert.equal((await api.call('GET', '/api/devices/pending', { token: api.tokens.admin })).body.data.length, 0);
});

test('device, calibration and threshold changes are in the audit log with user, address, before and after', async () => {
  await api.call('PUT', '/api/devices/DEV-A2', { token: api.tokens.admin, body: { calib: { b: -10 }, high_limit: 500 } });
  const logs = await api.call('GET', '/api/system/logs?action=device.&target=DEV-A2', { token: api.tokens.admin });
  assert.equal(logs.status, 200);
  const [update, create] = logs.body.data;
  assert.equal(update.action, 'device.update');
  assert.equal(update.username, 'admin');
  assert.equal(update.ip, '127.0.0.1');
  assert.equal(update.before.calib.b, 0);
  assert.equal(update.after.calib.b, -10);
  assert.equal(update.before.high_limit, 1000);
  assert.equal(update.after.high_limit, 500);
  assert.equal(update.after.password_hash, undefined, 'no credential in the log');
  assert.equal(create.action, 'device.create');
  assert.equal(create.before, null);
});
