// UI-2 / UI-3 end to end in headless Chromium against a real appliance and simulated detectors:
// an admin logs in, adds a device and its simulator brings it online on the kiosk; drag-to-place
// on the floor plan survives a reload; a leak turns the marker red and blinking, is acknowledged
// from the admin page with a comment and the kiosk shows it acknowledged; a viewer sees no admin
// actions and the API refuses them anyway. Screenshots go to test-output/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createDetector, type Detector } from '../../simulator/detector.ts';
import { createScenario } from '../../simulator/scenarios.ts';
import { dragToPlan, floorPlanPng, FULL_HD, launchBrowser, percentOnPlan, PHONE, screenshot, signInAsNewViewer, startUiAppliance, type UiAppliance } from './support.ts';

// Browser globals inside page.evaluate() callbacks (the test project has no DOM lib).
declare const document: any, getComputedStyle: any, localStorage: any;

let appliance: UiAppliance;
let browser: Browser;
let adminContext: BrowserContext;
let kioskContext: BrowserContext;
let admin: Page;
let kiosk: Page;
const detectors: Detector[] = [];
const SN = 'UI-A001';
const LEAK_SN = 'UI-LEAK1';

function detector(sn: string, password: string, scenario?: ReturnType<typeof createScenario>) {
  const d = createDetector({ sn, url: appliance.mqttUrl, password, intervalMs: 1000, scenario, reconnectDelayMs: 500 });
  detectors.push(d);
  void d.start();
  return d;
}

before(async () => {
  appliance = await startUiAppliance();
  browser = await launchBrowser();
  adminContext = await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' });
  kioskContext = await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' });
  admin = await adminContext.newPage();
  kiosk = await kioskContext.newPage();
});

after(async () => {
  await Promise.all(detectors.map((d) => d.stop()));
  await browser?.close();
  await appliance?.dispose();
});

test('an admin logs in, adds a device, and its simulated detector shows online with a value on the kiosk', async () => {
  const kioskToken = (await appliance.api('POST', '/api/auth/kiosk-tokens', { name: 'control room' }, appliance.adminToken)).body.token as string;
  await kiosk.goto(`${appliance.http}/dashboard?token=${encodeURIComponent(kioskToken)}`);
  await kiosk.locator('.kiosk[data-link="live"]').waitFor();
  assert.equal(new URL(kiosk.url()).search, '', 'the token leaves the address bar (kept in localStorage)');

  await admin.goto(`${appliance.http}/`);
  assert.match(admin.url(), /\/admin$/, '/ redirects to /admin');
  await admin.fill('input[name=username]', 'admin');
  await admin.fill('input[name=password]', 'wrong-password');
  await admin.click('button[type=submit]');
  await admin.getByText('Wrong user name or password.').waitFor();
  await admin.fill('input[name=password]', 'admin-secret-1');
  await admin.click('button[type=submit]');
  await admin.locator('[data-page="overview"] [data-tile="online"]').waitFor();
  await admin.locator('[data-license="evaluation"]', { hasText: 'up to 10 devices' }).waitFor(); // LIC-6 banner

  await admin.click('[data-nav="devices"]');
  await admin.click('[data-action="add-device"]');
  const form = admin.locator('form[data-form="device"]');
  await form.locator('input[name=sn]').fill(SN);
  await form.locator('input[name=name]').fill('Boiler room');
  await form.locator('input[name=high_limit]').fill('1000');
  await form.locator('button[type=submit]').click();
  const password = (await admin.locator(`[data-credentials="${SN}"] [data-password]`).textContent())!.trim();
  assert.ok(password.length >= 12, 'the generated password is shown once');
  await admin.getByRole('button', { name: 'I have noted it' }).click();
  await admin.locator(`tr[data-sn="${SN}"]`).waitFor();

  detector(SN, password);
  // Not on the plan yet: the strip of unplaced devices shows it, green with a number.
  const marker = kiosk.locator(`.kiosk-unplaced .marker[data-sn="${SN}"][data-look="ok"]`);
  await marker.waitFor({ timeout: 8000 });
  assert.match((await marker.locator('.marker-value').textContent())!, /^\d+(\.\d)?$/);
  await kiosk.locator('[data-count="online"] .count-value', { hasText: '1' }).waitFor();
  await admin.locator(`tr[data-sn="${SN}"] [data-state="ok"]`).waitFor({ timeout: 8000 }); // the list refreshes by itself
  await screenshot(admin, 'admin-devices-1920');
});

test('a device dragged onto the floor plan and saved is where it was put after a reload', async () => {
  await admin.click('[data-nav="editor"]');
  await admin.locator('input[name=background]').setInputFiles({ name: 'plan.png', mimeType: 'image/png', buffer: await floorPlanPng(browser) });
  await admin.getByText('Floor plan uploaded.').waitFor();
  await admin.waitForFunction(() => getComputedStyle(document.querySelector('.editor-plan .plan-layer')!).backgroundImage.includes('/api/config/dashboard/plans/1/bg?')); // issue 15.8: the first plan's signed image link

  await dragToPlan(admin, `.editor-list li[data-device="${SN}"]`, 30, 40);
  await admin.locator(`[data-pin="${SN}"]`).waitFor();
  await dragToPlan(admin, `[data-pin="${SN}"]`, 22, 27); // and moved again on the plan
  await admin.click('[data-action="save-positions"]');
  await admin.getByText('Positions saved.').waitFor();

  const saved = (await appliance.api('GET', `/api/devices/${SN}`, undefined, appliance.adminToken)).body;
  assert.ok(Math.abs(saved.pos_x - 22) < 1 && Math.abs(saved.pos_y - 27) < 1, `saved at ${saved.pos_x}, ${saved.pos_y}`);

  await admin.reload();
  await admin.locator(`[data-pin="${SN}"]`).waitFor();
  const pin = await percentOnPlan(admin, `[data-pin="${SN}"]`, '.editor-plan .plan-layer');
  assert.ok(Math.abs(pin.x - 22) < 1 && Math.abs(pin.y - 27) < 1, `after reload the pin is at ${pin.x}, ${pin.y}`);
  await screenshot(admin, 'admin-editor-1920');

  await kiosk.reload();
  const marker = kiosk.locator(`.kiosk-plan .marker[data-sn="${SN}"]`);
  await marker.waitFor();
  const onKiosk = await percentOnPlan(kiosk, `.kiosk-plan .marker[data-sn="${SN}"]`);
  assert.ok(Math.abs(onKiosk.x - 22) < 1 && Math.abs(onKiosk.y - 27) < 1, `on the kiosk at ${onKiosk.x}, ${onKiosk.y}`);
  assert.equal(await kiosk.locator(`.kiosk-unplaced .marker[data-sn="${SN}"]`).count(), 0);
});

test('a leak turns the marker red and blinking and lists the alarm; acknowledged from the admin page, the kiosk shows it', async () => {
  const created = await appliance.api('POST', '/api/devices', { sn: LEAK_SN, name: 'Gas store', high_limit: 1000, pos_x: 70, pos_y: 25 }, appliance.adminToken);
  assert.equal(created.status, 201);
  detector(LEAK_SN, created.body.password, createScenario('leak', { highLimit: 1000, leakStartS: 1, leakRampS: 2, leakHoldS: 900 }));

  const marker = kiosk.locator(`.kiosk-plan .marker[data-sn="${LEAK_SN}"][data-look="alarm"]`);
  await marker.waitFor({ timeout: 10_000 });
  assert.equal(await marker.evaluate((el) => getComputedStyle(el).animationName), 'blink');
  assert.ok(Number(await marker.locator('.marker-value').textContent()) > 1000);
  const item = kiosk.locator('.kiosk-alarms .alarm-item', { hasText: 'Gas store' });
  await item.waitFor();
  assert.equal(await item.getAttribute('data-acked'), 'no');
  await kiosk.locator('[data-count="alarm"] .count-value', { hasText: '1' }).waitFor();
  await marker.click(); // the last-hour trend
  await kiosk.locator(`.kiosk-trend[data-trend="${LEAK_SN}"] canvas`).waitFor();
  await screenshot(kiosk, 'kiosk-alarm-1920');

  await admin.click('[data-nav="alarms"]');
  const row = admin.locator('tr', { hasText: LEAK_SN }).filter({ has: admin.locator('[data-action="ack"]') });
  await row.locator('[data-action="ack"]').click();
  await admin.locator('textarea[name=comment]').fill('Valve closed, area ventilated');
  await admin.click('[data-action="confirm-ack"]');
  await admin.locator('tr', { hasText: LEAK_SN }).locator('[data-acked="yes"]').waitFor();
  await screenshot(admin, 'admin-alarms-1920');

  await kiosk.locator('.kiosk-alarms .alarm-item[data-acked="yes"]', { hasText: 'Valve closed, area ventilated' }).waitFor({ timeout: 3000 });
  assert.match((await item.textContent())!, /acknowledged by admin/);
});

test('a viewer sees no admin actions, and the API refuses them anyway', async () => {
  const page = await signInAsNewViewer(browser, appliance, 'watcher'); // through API-4's forced first password change
  const nav = await page.locator('.admin-nav a').evaluateAll((links) => links.map((a) => a.getAttribute('data-nav')));
  assert.deepEqual(nav, ['overview', 'devices', 'alarms', 'calibration', 'system']);
  // The calibration due report is for reading (JJG 693-2011 due dates); recording one is an operator's.
  await page.click('[data-nav="calibration"]');
  await page.locator('[data-page="calibration"]').waitFor();
  assert.equal(await page.locator('[data-action="record"], form[data-form="calibration"]').count(), 0, 'no record form for a viewer');
  await page.click('[data-nav="devices"]');
  await page.locator(`tr[data-sn="${SN}"]`).waitFor();
  for (const action of ['add-device', 'edit', 'commands', 'reset', 'remove']) assert.equal(await page.locator(`[data-action="${action}"]`).count(), 0, action);
  assert.equal(await page.locator('[data-section="pending"]').count(), 0);
  await page.click('[data-nav="alarms"]');
  await page.locator('tr', { hasText: LEAK_SN }).first().waitFor();
  for (const action of ['ack', 'bulk-ack', 'export-alarms']) assert.equal(await page.locator(`[data-action="${action}"]`).count(), 0, action);
  await page.goto(`${appliance.http}/admin/users`); // a hidden page asked for by URL falls back to the overview
  await page.locator('[data-page="overview"]').waitFor();

  const token = await page.evaluate(() => localStorage.getItem('mcs.token'));
  const refused = await appliance.api('POST', '/api/devices', { sn: 'UI-NOPE' }, token!);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 10003);
  const ack = await appliance.api('POST', '/api/alarms/ack', { ids: [1], comment: 'x' }, token!);
  assert.equal(ack.status, 403);
  await page.context().close();
});

test('a webhook saved with a secret keeps it when sent back as ******; CSV exports download with the token; storage settings save, archiving shows as off', async () => {
  const received: { signature: string; body: string }[] = [];
  const hook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk)).on('end', () => {
      received.push({ signature: String(request.headers['x-mcs-signature'] ?? ''), body });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
  try {
    await admin.goto(`${appliance.http}/admin/channels`);
    const card = admin.locator('[data-channel="webhook"]');
    await card.locator('input[name="webhook.enabled"]').check();
    await card.locator('input[name="webhook.url"]').fill(url);
    await card.locator('input[name="webhook.secret"]').fill('s3cret-of-the-plant');
    await admin.click('[data-action="save-channels"]');
    await admin.getByText('Saved.').waitFor();
    await admin.reload();
    assert.equal(await admin.locator('input[name="webhook.secret"]').inputValue(), '******', 'the secret never comes back in clear');
    await admin.locator('[data-channel="webhook"] [data-action="test-send"]').click();
    await admin.locator('[data-channel="webhook"]').getByText('Test notice sent.').waitFor();
    assert.equal(received.length, 1);
    const expected = `sha256=${createHmac('sha256', 's3cret-of-the-plant').update(received[0].body).digest('hex')}`;
    assert.equal(received[0].signature, expected, 'signed with the stored secret, not with "******"');
  } finally {
    await new Promise((resolve) => hook.close(resolve));
  }

  await admin.goto(`${appliance.http}/admin/alarms`);
  await admin.locator('tr', { hasText: LEAK_SN }).first().waitFor();
  const [download] = await Promise.all([admin.waitForEvent('download'), admin.click('[data-action="export-alarms"]')]);
  assert.match(download.suggestedFilename(), /^alarms_\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = await readFile((await download.path())!, 'utf8');
  assert.match(csv, new RegExp(LEAK_SN));
  assert.match(csv, /Valve closed, area ventilated/);

  await admin.goto(`${appliance.http}/admin/data`);
  await admin.selectOption('select[name=device]', SN);
  await admin.locator('canvas[data-chart="query"]').waitFor();
  const [readings] = await Promise.all([admin.waitForEvent('download'), admin.click('[data-action="export-readings"]:not([disabled])')]);
  const rows = (await readFile((await readings.path())!, 'utf8')).trim().split('\n');
  assert.equal(rows[0], 'time,sn,v_raw,ppm,temp,humi,bat,rssi,seq');
  assert.ok(rows.length > 3 && rows.slice(1).every((r) => r.split(',')[1] === SN));

  await admin.goto(`${appliance.http}/admin/system`);
  await admin.locator('[data-section="license"] [data-license-mode="evaluation"]').waitFor();
  const storage = admin.locator('[data-section="storage"]');
  await storage.locator('input[name=bucket]').fill('plant-a-archive');
  assert.equal(await storage.locator('input[name=secret_access_key]').getAttribute('type'), 'password');
  await storage.getByRole('button', { name: 'Save' }).click();
  await storage.getByText('Saved.').waitFor();
  assert.equal((await appliance.api('GET', '/api/config/storage', undefined, appliance.adminToken)).body.bucket, 'plant-a-archive');
  await admin.locator('[data-section="archives"] [data-archiving="off"]').waitFor(); // ARC-5: the UI says archiving is off
});

test('screenshots of the main admin pages at 1920×1080 and at phone size', async () => {
  for (const [name, path] of [['overview', 'overview'], ['data', 'data'], ['channels', 'channels'], ['system', 'system'], ['users', 'users']] as const) {
    await admin.goto(`${appliance.http}/admin/${path}`);
    await admin.locator(`[data-page="${name}"]`).waitFor();
    if (name === 'data') {
      await admin.selectOption('select[name=device]', LEAK_SN);
      await admin.locator('[data-preset="3600000"]').click();
      await admin.locator('canvas[data-chart="query"]').waitFor();
    }
    await admin.waitForTimeout(300);
    await screenshot(admin, `admin-${name}-1920`);
  }
  const phone = await browser.newContext({ viewport: PHONE, locale: 'zh-CN', isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await phone.newPage();
  await page.goto(`${appliance.http}/admin`);
  await page.evaluate((token) => localStorage.setItem('mcs.token', token), appliance.adminToken);
  for (const path of ['overview', 'devices', 'alarms']) {
    await page.goto(`${appliance.http}/admin/${path}`);
    await page.locator(`[data-page="${path}"] table, [data-page="${path}"] .tiles`).first().waitFor();
    await page.waitForTimeout(300);
    await screenshot(page, `admin-${path}-phone`);
  }
  assert.equal(await page.locator('.admin-nav').isVisible(), false, 'the menu folds away on a phone');
  await page.click('.menu-toggle');
  assert.equal(await page.locator('.admin-nav').isVisible(), true);
  await page.goto(`${appliance.http}/dashboard?token=${encodeURIComponent(appliance.adminToken)}`);
  await page.locator('.kiosk[data-link="live"]').waitFor();
  await page.locator(`.marker[data-sn="${LEAK_SN}"][data-look="alarm"]`).waitFor();
  await screenshot(page, 'kiosk-phone');
  await phone.close();
});
