// API-1 alarms (ALM-7) through the API: filters and paging, detail, acknowledge once, bulk ack,
// statistics and the CSV export.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type ApiApp } from '../helpers/api.ts';
import { reportSystemAlarm } from '../helpers/appliance.ts';

let api: ApiApp;
let ids: number[];
before(async () => {
  api = await startApi({ site: { timezone: 'Asia/Shanghai', language: 'en' } });
  ids = [];
  for (const [type, source] of [['DISK', 'disk'], ['ARCHIVE', 'archive'], ['LICENSE', 'license']] as const) {
    ids.push((await reportSystemAlarm(api.app, type, source, `${source} problem`)).id);
  }
  await reportSystemAlarm(api.app, 'ARCHIVE', 'archive', null);
});
after(() => api.stop());

test('records are filtered by state and type and paged, newest first', async () => {
  const { viewer } = api.tokens;
  const active = await api.call('GET', '/api/alarms?state=active', { token: viewer });
  assert.equal(active.body.total, 2);
  const byType = await api.call('GET', '/api/alarms?type=ARCHIVE', { token: viewer });
  assert.deepEqual(byType.body.data.map((a: { state: string }) => a.state), ['cleared']);
  const paged = await api.call('GET', '/api/alarms?page=2&size=2', { token: viewer });
  assert.deepEqual([paged.body.total, paged.body.data.length], [3, 1]);
  assert.equal((await api.call('GET', '/api/alarms?state=open', { token: viewer })).status, 400);
  assert.equal((await api.call('GET', '/api/alarms?start=yesterday', { token: viewer })).status, 400);
  const detail = await api.call('GET', `/api/alarms/${ids[0]}`, { token: viewer });
  assert.equal(detail.body.type, 'DISK');
  assert.match(detail.body.triggered_at, /^\d{4}-\d{2}-\d{2}T.*Z$/);
  assert.equal((await api.call('GET', '/api/alarms/999999', { token: viewer })).status, 404);
});

test('an alarm is acknowledged once; bulk ack reports what it skipped', async () => {
  const { operator } = api.tokens;
  const first = await api.call('POST', `/api/alarms/${ids[0]}/ack`, { token: operator, body: { comment: 'fan checked' } });
  assert.equal(first.status, 200);
  assert.deepEqual([first.body.ack_by, first.body.ack_comment, first.body.state], ['operator', 'fan checked', 'active']);
  assert.equal((await api.call('POST', `/api/alarms/${ids[0]}/ack`, { token: operator, body: {} })).status, 409);
  const bulk = await api.call('POST', '/api/alarms/ack', { token: operator, body: { ids, comment: 'shift end' } });
  assert.deepEqual(bulk.body, { acknowledged: [ids[1], ids[2]], skipped: [ids[0]] });
  assert.equal((await api.call('POST', '/api/alarms/ack', { token: operator, body: { ids: [] } })).status, 400);
  assert.equal((await api.call('POST', '/api/alarms/ack', { token: operator, body: { ids: ['1'] } })).status, 400);
});

test('statistics count by type and site day; the export is an Excel-friendly CSV', async () => {
  const day = new Date(api.clock.now()).toISOString().slice(0, 10);
  const stats = await api.call('GET', `/api/alarms/stats?start=${Date.parse(day) - 86_400_000}&end=${Date.parse(day) + 2 * 86_400_000}`, { token: api.tokens.viewer });
  assert.equal(stats.status, 200);
  assert.equal(stats.body.total, 3);
  assert.equal(stats.body.timezone, 'Asia/Shanghai');
  assert.deepEqual(stats.body.by_type.map((t: { type: string }) => t.type).sort(), ['ARCHIVE', 'DISK', 'LICENSE']);
  const csv = await api.call('GET', '/api/alarms/export?type=DISK', { token: api.tokens.operator });
  assert.equal(csv.status, 200);
  assert.match(String(csv.headers['content-disposition']), /attachment; filename="alarms_/);
  const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^ID,Device SN,Type/);
  assert.match(lines[1], /fan checked/);
});
