// Issue 15.8 several floor plans through the API: plans added, renamed and deleted, an image per
// plan behind its own signed link, devices placed on one plan at a time, and the single-plan
// settings saved before there were plans (one `background` at the top) read as plan 1 with its
// image and its devices.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE_NAME } from '../../appliance/storage/db.ts';
import { upgradeDashboard } from '../../appliance/api/routes/dashboard.ts';
import { startApi, type ApiApp } from '../helpers/api.ts';

let api: ApiApp;
let admin: string;

before(async () => {
  api = await startApi();
  admin = api.tokens.admin;
  for (const sn of ['PL-001', 'PL-002', 'PL-003']) {
    const created = await api.call('POST', '/api/devices', { token: admin, body: { sn, name: sn, high_limit: 100 } });
    assert.equal(created.status, 201, created.text);
  }
});
after(() => api.stop());

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 9)]);
function multipart(content: Buffer, filename: string) {
  const boundary = '----mcs-plans-boundary';
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: image/png\r\n\r\n`),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
const dashboard = async () => (await api.call('GET', '/api/config/dashboard', { token: admin })).body;

/** Writes the settings as an appliance before issue 15.8 saved them, beside the running one (WAL). */
function writeOldShape(value: unknown) {
  const db = new Database(join(api.dataDir, DB_FILE_NAME));
  try {
    db.prepare('INSERT INTO system_config (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run('dashboard', JSON.stringify(value), Date.now());
  } finally {
    db.close();
  }
}

test('the old single-plan shape is read as plan 1 with its image and its placed devices; unknown or missing fields get their defaults', () => {
  const old = { title: 'Plant', stale_after_s: 60, connection_timeout_s: 5, show_unplaced: false, background: { content_type: 'image/png', size: 72, uploaded_at: 1_700_000_000_000, file: 'background.png' } };
  const upgraded = upgradeDashboard(old);
  assert.deepEqual(upgraded.plans, [{ id: 1, name: '', background: old.background }]);
  assert.deepEqual(upgraded.device_plans, {});
  assert.equal(upgraded.title, 'Plant');
  assert.equal(upgraded.show_unplaced, false);
  assert.equal(upgraded.rotate_s, 0, 'the new setting gets its default');
  assert.equal('background' in upgraded, false, 'the old top-level image is not kept twice');
  assert.deepEqual(upgradeDashboard(null).plans, [{ id: 1, name: '', background: null }], 'a fresh appliance has one empty plan');
  // The new shape is read as it is.
  const current = { ...upgraded, plans: [...upgraded.plans, { id: 4, name: 'Hall B', background: null }], device_plans: { X: 4 } };
  assert.deepEqual(upgradeDashboard(JSON.parse(JSON.stringify(current))), current);
});

test('an appliance upgraded from one plan serves that plan as plan 1: its image (old and new link) and the devices placed on it', async () => {
  mkdirSync(join(api.dataDir, 'dashboard'), { recursive: true });
  const uploaded = await api.call('POST', '/api/config/dashboard/bg', { token: admin, ...multipart(PNG, 'x.png') });
  assert.equal(uploaded.status, 200, uploaded.text);
  const saved = await api.call('POST', '/api/devices/positions', { token: admin, body: { positions: [{ sn: 'PL-001', x: 20, y: 30 }] } });
  assert.equal(saved.status, 200, saved.text);
  // Now the stored value as the previous version kept it.
  writeOldShape({ title: 'Old plant', stale_after_s: 90, connection_timeout_s: 5, show_unplaced: true, background: { content_type: 'image/png', size: PNG.length, uploaded_at: 1_700_000_000_000, file: 'background.png' } });

  const view = await dashboard();
  assert.equal(view.title, 'Old plant');
  assert.equal(view.plans.length, 1);
  assert.equal(view.plans[0].id, 1);
  assert.equal(view.plans[0].background.content_type, 'image/png');
  assert.match(view.plans[0].background.url, /^\/api\/config\/dashboard\/plans\/1\/bg\?v=1700000000000&exp=\d+&sig=/);
  assert.match(view.background.url, /^\/api\/config\/dashboard\/bg\?/, 'the single-plan field still names the first image');
  for (const url of [view.plans[0].background.url, view.background.url]) {
    const image = await api.call('GET', url);
    assert.equal(image.status, 200, `${url}: ${image.text}`);
    assert.equal(image.headers['content-type'], 'image/png');
  }
  assert.deepEqual(view.device_plans, {}, 'no device moved: a placed device not listed is on the first plan');
  // The next save writes the new shape.
  await api.call('PUT', '/api/config/dashboard', { token: admin, body: { rotate_s: 20 } });
  const db = new Database(join(api.dataDir, DB_FILE_NAME), { readonly: true });
  const stored = JSON.parse((db.prepare("SELECT value FROM system_config WHERE key = 'dashboard'").get() as { value: string }).value);
  db.close();
  assert.equal(stored.background, undefined);
  assert.equal(stored.plans[0].background.file, 'background.png');
  assert.equal(stored.rotate_s, 20);
});

test('plans are added, renamed and deleted; each has its own image behind its own signed link; a device is on one plan at a time', async () => {
  const added = await api.call('POST', '/api/config/dashboard/plans', { token: admin, body: { name: ' Building B, floor 2 ' } });
  assert.equal(added.status, 201, added.text);
  const planB = added.body.plans.at(-1);
  assert.equal(planB.name, 'Building B, floor 2');
  assert.equal(planB.background, null);
  assert.ok(planB.id > 1);
  assert.equal((await api.call('POST', '/api/config/dashboard/plans', { token: admin, body: { name: '   ' } })).status, 400, 'a blank name is refused');
  assert.equal((await api.call('POST', '/api/config/dashboard/plans', { token: api.tokens.operator, body: { name: 'x' } })).status, 403, 'plans are an admin setting');

  const renamed = await api.call('PUT', `/api/config/dashboard/plans/${planB.id}`, { token: admin, body: { name: 'Tank farm' } });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.body.plans.find((p: { id: number }) => p.id === planB.id).name, 'Tank farm');
  assert.equal((await api.call('PUT', '/api/config/dashboard/plans/999', { token: admin, body: { name: 'x' } })).status, 404);

  // Its own image, its own file, its own link; the first plan's image is untouched.
  const image = await api.call('POST', `/api/config/dashboard/plans/${planB.id}/bg`, { token: admin, ...multipart(JPEG, '../b.jpg') });
  assert.equal(image.status, 200, image.text);
  const withImage = image.body.plans.find((p: { id: number }) => p.id === planB.id);
  assert.equal(withImage.background.content_type, 'image/jpeg');
  assert.ok(readdirSync(join(api.dataDir, 'dashboard')).includes(`plan-${planB.id}.jpg`));
  const served = await api.call('GET', withImage.background.url);
  assert.equal(served.status, 200);
  assert.equal(served.headers['content-type'], 'image/jpeg');
  // A link signed for one plan does not open another one's image.
  const forged = withImage.background.url.replace(`/plans/${planB.id}/`, '/plans/1/');
  assert.equal((await api.call('GET', forged)).status, 401);
  assert.equal((await dashboard()).plans[0].background.content_type, 'image/png');

  // Placing PL-001 on plan B takes it off plan 1; PL-002 goes on plan 1.
  const placed = await api.call('POST', `/api/config/dashboard/plans/${planB.id}/positions`, { token: admin, body: { positions: [{ sn: 'PL-001', x: 50, y: 50 }, { sn: 'PL-003', x: 10, y: 90 }] } });
  assert.equal(placed.status, 200, placed.text);
  assert.deepEqual(placed.body.device_plans, { 'PL-001': planB.id, 'PL-003': planB.id });
  await api.call('POST', '/api/config/dashboard/plans/1/positions', { token: admin, body: { positions: [{ sn: 'PL-002', x: 5, y: 5 }] } });
  const moved = (await api.call('GET', '/api/devices/PL-001', { token: admin })).body;
  assert.deepEqual([moved.pos_x, moved.pos_y], [50, 50]);
  // All or none: an unknown serial changes nothing.
  const refused = await api.call('POST', '/api/config/dashboard/plans/1/positions', { token: admin, body: { positions: [{ sn: 'PL-003', x: 1, y: 1 }, { sn: 'NOPE-1', x: 1, y: 1 }] } });
  assert.equal(refused.status, 404);
  assert.equal((await dashboard()).device_plans['PL-003'], planB.id);
  // Taken off any plan.
  const off = await api.call('POST', `/api/config/dashboard/plans/${planB.id}/positions`, { token: admin, body: { positions: [{ sn: 'PL-003', x: null, y: null }] } });
  assert.equal(off.body.device_plans['PL-003'], undefined);

  // Deleting plan B: its image goes, its devices go off the plan (still registered), the others stay.
  const deleted = await api.call('DELETE', `/api/config/dashboard/plans/${planB.id}`, { token: admin });
  assert.equal(deleted.status, 200, deleted.text);
  assert.deepEqual(deleted.body.plans.map((p: { id: number }) => p.id), [1]);
  assert.deepEqual(deleted.body.device_plans, { 'PL-002': 1 });
  const gone = (await api.call('GET', '/api/devices/PL-001', { token: admin })).body;
  assert.deepEqual([gone.pos_x, gone.pos_y], [null, null]);
  assert.equal((await api.call('GET', '/api/devices/PL-002', { token: admin })).body.pos_x, 5);
  assert.ok(!readdirSync(join(api.dataDir, 'dashboard')).includes(`plan-${planB.id}.jpg`));
  assert.equal((await api.call('GET', withImage.background.url)).status, 404, 'the deleted plan has no image');
  // The last plan stays.
  const last = await api.call('DELETE', '/api/config/dashboard/plans/1', { token: admin });
  assert.equal(last.status, 409);
  assert.match(last.body.message, /last floor plan/);
  // A new plan after the delete.
  const again = await api.call('POST', '/api/config/dashboard/plans', { token: admin, body: { name: 'Again' } });
  assert.equal(again.body.plans.length, 2);
});
