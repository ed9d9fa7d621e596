// Issue 14.9, UI-3 through the real parts (broker, SQLite, the API, Chromium): the admin alarm list
// shows each alarm by priority, gas level and ISA-18.2 state in words, with the detector's name and
// location (the serial as secondary text); the free-text search narrows it; a click opens the
// journal (raised, level change, acknowledgement); acknowledging takes a comment (required where
// the policy says so); the overview says "1 active alarm" in red instead of "healthy" and warns that
// no notification channel is on; a gas alarm that cleared unacknowledged stays listed as "returned
// to normal, unacknowledged" until someone acknowledges it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { connectDevice, publishReading, type Reading } from '../helpers/appliance.ts';
import { FULL_HD, launchBrowser, screenshot, startUiAppliance, type UiAppliance } from './support.ts';

// Browser globals inside page.evaluate() callbacks (the test project has no DOM lib).
declare const localStorage: any;

const TANK = { sn: 'UI-AL01', name: 'Tank farm north', location: 'Gas storage, bay 3', high_limit: 100, high2_limit: 300 };
const BOILER = { sn: 'UI-AL02', name: 'Boiler feed', location: 'Boiler room', high_limit: 100, high2_limit: 300 };

let appliance: UiAppliance;
let browser: Browser;
let context: BrowserContext;
let admin: Page;
const clients = new Map<string, MqttClient>();
let seq = 1;

/** Resolves on the PUBACK: the reading and its alarm consequences are stored (ING-6). */
const send = (sn: string, fields: Partial<Reading>) => publishReading(clients.get(sn)!, sn, { ts: Math.floor(Date.now() / 1000), seq: seq++, ...fields });

async function alarmOf(sn: string) {
  const answer = await appliance.api('GET', `/api/alarms?sn=${sn}&type=HIGH`, undefined, appliance.adminToken);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.total, 1, `one HIGH record of ${sn}`);
  return answer.body.data[0] as { id: number; level: number; priority: string; isa_state: string; device_name: string; device_location: string };
}

const row = (id: number) => admin.locator(`tr[data-alarm-id="${id}"]`);

before(async () => {
  appliance = await startUiAppliance();
  for (const device of [TANK, BOILER]) {
    const created = await appliance.api('POST', '/api/devices', device, appliance.adminToken);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    clients.set(device.sn, await connectDevice(appliance.mqttUrl, device.sn, created.body.password));
    await send(device.sn, { v_raw: 10 });
  }
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' });
  admin = await context.newPage();
  await admin.goto(`${appliance.http}/admin`);
  await admin.evaluate((token) => localStorage.setItem('mcs.token', token), appliance.adminToken);
});

after(async () => {
  await Promise.all([...clients.values()].map((c) => c.endAsync()));
  await browser?.close();
  await appliance?.dispose();
});

test('the API lists each alarm with its device name and location, and finds it by free text', async () => {
  await send(TANK.sn, { v_raw: 150 });
  await send(TANK.sn, { v_raw: 400 });
  const tank = await alarmOf(TANK.sn);
  assert.deepEqual({ level: tank.level, priority: tank.priority, name: tank.device_name, location: tank.device_location },
    { level: 2, priority: 'critical', name: TANK.name, location: TANK.location });
  const search = async (q: string) =>
    ((await appliance.api('GET', `/api/alarms?q=${encodeURIComponent(q)}`, undefined, appliance.adminToken)).body.data as { sn: string }[]).map((a) => a.sn);
  assert.deepEqual(await search('bay 3'), [TANK.sn], 'by location');
  assert.deepEqual(await search('tank FARM'), [TANK.sn], 'by name, any case');
  assert.deepEqual(await search('AL01'), [TANK.sn], 'by serial');
  assert.deepEqual(await search('High gas'), [TANK.sn], "by the type's label");
  assert.deepEqual(await search('boiler'), [], 'the boiler has no alarm yet');
  assert.deepEqual(await search('100%'), [], '% is a character, not a wildcard');
  const listed = (await appliance.api('GET', '/api/alarms?listed=true', undefined, appliance.adminToken)).body;
  assert.equal(listed.total, 1);
});

test('the overview says "1 active alarm" in red instead of "healthy", and warns that no notification channel is on', async () => {
  await admin.goto(`${appliance.http}/admin/overview`);
  const badge = admin.locator('[data-page="overview"] .overview-alarms[data-active-alarms="1"]');
  await badge.waitFor();
  assert.equal((await badge.textContent())?.trim(), '1 active alarm');
  const look = await badge.evaluate((el) => ({ color: getComputedStyle(el).color, background: getComputedStyle(el).backgroundColor }));
  assert.deepEqual(look, { color: 'rgb(255, 161, 152)', background: 'rgb(90, 20, 20)' }, 'red');
  assert.equal(await admin.locator('[data-health="ok"]').count(), 0, 'not "healthy" while an alarm is listed');
  assert.equal(await admin.locator('[data-tile="alarms"] .tile-value').textContent(), '1', 'the tile counts the same records');
  const warning = admin.locator('[data-warning="no-channels"]');
  await warning.waitFor();
  assert.match((await warning.textContent()) ?? '', /No notification channel is switched on/);
  await screenshot(admin, 'admin-overview-alarm-1920');
});

test('the alarm list shows name, location, priority critical, level 2 and the state in words; the search narrows it', async () => {
  await send(BOILER.sn, { v_raw: 150 });
  const tank = await alarmOf(TANK.sn);
  const boiler = await alarmOf(BOILER.sn);
  await admin.click('[data-nav="alarms"]');
  await row(tank.id).waitFor();
  await row(boiler.id).waitFor();
  const ids = await admin.locator('tr[data-alarm-id]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-alarm-id'))));
  assert.deepEqual(ids, [tank.id, boiler.id], 'critical before high (ALM-10)');
  const tankRow = row(tank.id);
  assert.equal(await tankRow.locator('[data-device-name]').textContent(), TANK.name);
  assert.equal(await tankRow.locator('[data-device-location]').textContent(), TANK.location);
  assert.equal(await tankRow.locator('code').textContent(), TANK.sn, 'the serial as secondary text');
  assert.equal(await tankRow.locator('.alarm-priority').textContent(), 'critical');
  assert.equal(await tankRow.locator('.alarm-level').textContent(), 'Level 2');
  assert.equal(await tankRow.locator('[data-isa]').last().textContent(), 'active, unacknowledged');
  assert.match((await tankRow.textContent()) ?? '', /peak 400 ppm.*\/ 300 ppm/, 'value / limit');
  assert.equal(await row(boiler.id).locator('.alarm-priority').textContent(), 'high');
  assert.equal(await row(boiler.id).locator('.alarm-level').textContent(), 'Level 1');

  await admin.fill('input[name=q]', 'boiler room');
  await row(tank.id).waitFor({ state: 'detached' });
  assert.deepEqual(await admin.locator('tr[data-alarm-id]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-alarm-id')))), [boiler.id]);
  await admin.fill('input[name=q]', 'AL01');
  await row(boiler.id).waitFor({ state: 'detached' });
  await row(tank.id).waitFor();
  await admin.fill('input[name=q]', 'no such detector');
  await admin.locator('[data-table="alarms"] .empty').waitFor();
  await admin.fill('input[name=q]', '');
  await row(boiler.id).waitFor();
  await screenshot(admin, 'admin-alarm-list-1920');

  // The same list in Chinese: 二级 and 紧急, the state in words.
  const zh = await browser.newContext({ viewport: FULL_HD, locale: 'zh-CN' });
  try {
    const page = await zh.newPage();
    await page.goto(`${appliance.http}/admin`);
    await page.evaluate((token) => localStorage.setItem('mcs.token', token), appliance.adminToken);
    await page.goto(`${appliance.http}/admin/alarms`);
    const zhRow = page.locator(`tr[data-alarm-id="${tank.id}"]`);
    await zhRow.waitFor();
    assert.equal(await zhRow.locator('.alarm-level').textContent(), '二级');
    assert.equal(await zhRow.locator('.alarm-priority').textContent(), '紧急');
    assert.equal(await zhRow.locator('[data-isa]').last().textContent(), '报警中 · 未确认');
  } finally {
    await zh.close();
  }
});

test('a click opens the journal: raised at level 1 with its value, then level 1 → level 2; acknowledged there with a comment', async () => {
  const tank = await alarmOf(TANK.sn);
  await admin.goto(`${appliance.http}/admin/alarms`);
  await row(tank.id).locator('[data-device-location]').click();
  await admin.waitForURL(`**/admin/alarms/${tank.id}`);
  const journal = admin.locator(`[data-journal="${tank.id}"]`);
  await journal.waitFor();
  assert.equal(await admin.locator('[data-device-name]').textContent(), TANK.name);
  assert.equal(await admin.locator('[data-device-location]').textContent(), TANK.location);
  const raised = journal.locator('tr[data-kind="raised"]');
  assert.match((await raised.textContent()) ?? '', /Raised.*Level 1.*value 150 ppm/);
  const level = journal.locator('tr[data-kind="level"]');
  assert.match((await level.textContent()) ?? '', /Level changed.*Level 1 → Level 2.*value 400 ppm/);
  const times = await journal.locator('tbody td[data-time]').allTextContents();
  assert.ok(times.length >= 2 && times.every((time) => /^\d{4}-\d{2}-\d{2} ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/.test(time)), `24-hour times: ${times}`);
  await admin.locator('[data-timezone]').waitFor(); // the site's zone, said so

  await admin.click('[data-action="ack"]');
  const comment = admin.locator('textarea[name=comment]');
  assert.equal(await comment.getAttribute('data-required'), 'yes', 'the default policy asks a comment for a critical alarm (ALM-11)');
  await comment.fill('Leak at the flange of valve V-12 isolated; area ventilated');
  await admin.click('[data-action="confirm-ack"]');
  const ack = journal.locator('tr[data-kind="acknowledged"]');
  await ack.waitFor();
  assert.match((await ack.textContent()) ?? '', /Acknowledged.*by admin.*Leak at the flange of valve V-12 isolated/);
  await admin.locator('.alarm-card [data-isa="active_acknowledged"]').waitFor();
  const kinds = await journal.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
  assert.deepEqual(kinds.filter((k) => k !== 'notification' && k !== 'peak'), ['raised', 'level', 'acknowledged'], 'oldest first');
  await screenshot(admin, 'admin-alarm-journal-1920');

  await admin.click('[data-action="back-to-alarms"]');
  await row(tank.id).locator('[data-acked="yes"]', { hasText: 'Leak at the flange' }).waitFor();
  assert.equal(await row(tank.id).locator('[data-isa]').last().textContent(), 'active, acknowledged');
});

test('a gas alarm that cleared unacknowledged stays listed as "returned to normal, unacknowledged" until someone acknowledges it', async () => {
  const boiler = await alarmOf(BOILER.sn);
  await admin.goto(`${appliance.http}/admin/alarms?isa=listed`);
  await row(boiler.id).waitFor();
  await send(BOILER.sn, { v_raw: 10 });
  assert.equal((await alarmOf(BOILER.sn)).isa_state, 'returned_unacknowledged');
  const returned = admin.locator(`tr[data-alarm-id="${boiler.id}"][data-isa="returned_unacknowledged"]`);
  await returned.waitFor({ timeout: 10_000 }); // the list follows by itself
  assert.equal(await returned.locator('[data-isa]').last().textContent(), 'returned to normal, unacknowledged');
  await admin.reload();
  await returned.waitFor(); // still listed: gas alarms latch (ALM-11)
  await returned.locator('[data-action="ack"]').click();
  await admin.locator('textarea[name=comment]').fill('Reading back to normal, checked on site');
  await admin.click('[data-action="confirm-ack"]');
  await row(boiler.id).waitFor({ state: 'detached' }); // normal now: off the "needing attention" list
  assert.equal((await alarmOf(BOILER.sn)).isa_state, 'normal');
  await admin.goto(`${appliance.http}/admin/overview`);
  await admin.locator('.overview-alarms[data-active-alarms="1"]').waitFor(); // the tank's, acknowledged but active
});

test('the comment is marked required where the policy says so, and the server\'s refusal of a missing one reads in words', async () => {
  await send(BOILER.sn, { v_raw: 150 }); // a new episode at level 1: priority high, no comment needed by default
  const boiler = (await appliance.api('GET', `/api/alarms?sn=${BOILER.sn}&isa_state=active_unacknowledged`, undefined, appliance.adminToken)).body.data[0];
  assert.equal(boiler.priority, 'high');
  await admin.goto(`${appliance.http}/admin/alarms`);
  await row(boiler.id).locator('[data-action="ack"]').click();
  await admin.locator('textarea[name=comment][data-required="no"]').waitFor();

  // Meanwhile an admin makes comments required for high alarms: this page still holds the old policy.
  const settings = (await appliance.api('GET', '/api/config/alarm', undefined, appliance.adminToken)).body;
  delete settings.updated_at;
  const saved = await appliance.api('PUT', '/api/config/alarm', { ...settings, ack_comment_required: { ...settings.ack_comment_required, high: true } }, appliance.adminToken);
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  const refused = admin.waitForResponse((r) => r.url().endsWith(`/api/alarms/${boiler.id}/ack`));
  await admin.click('[data-action="confirm-ack"]');
  assert.equal((await refused).status(), 400);
  await admin.locator('.modal [role="alert"]', { hasText: 'Write a comment: it is required to acknowledge a high alarm.' }).waitFor();
  assert.equal((await alarmOf(BOILER.sn)).isa_state, 'active_unacknowledged');
  await admin.click('.modal [data-action="confirm-ack"] + button'); // cancel

  // Loaded again, the dialog marks it required and says so before sending anything.
  await admin.reload();
  await row(boiler.id).locator('[data-action="ack"]').click();
  await admin.locator('textarea[name=comment][data-required="yes"]').waitFor();
  assert.match((await admin.locator('.modal').textContent()) ?? '', /Comment \(what was done\) \*.*A comment is required to acknowledge high alarms/);
  let posted = 0;
  const count = (request: { method(): string; url(): string }) => void (request.method() === 'POST' && request.url().includes('/ack') && posted++);
  admin.on('request', count);
  await admin.click('[data-action="confirm-ack"]');
  await admin.locator('.modal [role="alert"]', { hasText: 'Write a comment: it is required to acknowledge a high alarm.' }).waitFor();
  assert.equal(posted, 0, 'nothing sent without the comment');
  admin.off('request', count);
  await admin.locator('textarea[name=comment]').fill('Bump test gas, announced');
  await admin.click('[data-action="confirm-ack"]');
  await row(boiler.id).locator('[data-acked="yes"]', { hasText: 'Bump test gas' }).waitFor();

  // The same refusal in Chinese.
  await send(BOILER.sn, { v_raw: 10 });
  await send(BOILER.sn, { v_raw: 150 });
  const next = (await appliance.api('GET', `/api/alarms?sn=${BOILER.sn}&isa_state=active_unacknowledged`, undefined, appliance.adminToken)).body.data[0];
  const zh = await browser.newContext({ viewport: FULL_HD, locale: 'zh-CN' });
  try {
    const page = await zh.newPage();
    await page.goto(`${appliance.http}/admin`);
    await page.evaluate((token) => localStorage.setItem('mcs.token', token), appliance.adminToken);
    await page.goto(`${appliance.http}/admin/alarms/${next.id}`);
    await page.locator('[data-action="ack"]').click();
    await page.locator('[data-action="confirm-ack"]').click();
    await page.locator('.modal [role="alert"]', { hasText: '请填写备注：确认高优先级报警必须填写备注。' }).waitFor();
  } finally {
    await zh.close();
  }
});
