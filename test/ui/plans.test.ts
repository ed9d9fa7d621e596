// Issue 15.8 several floor plans in Chromium: the kiosk's site overview (a tile per plan in its
// worst state); 120 detectors on one plan at 1366×768 become dots that do not cover each other
// (their value on hover); at 390×844 no tile cuts its words; and a real MQTT detector leaking on
// the second plan while the kiosk shows the first brings the second forward with the alarm.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { createDetector, type Detector } from '../../simulator/detector.ts';
import { createScenario } from '../../simulator/scenarios.ts';
import { floorPlanPng, launchBrowser, PHONE, screenshot, startUiAppliance, type UiAppliance } from './support.ts';

declare const document: any;

let appliance: UiAppliance;
let browser: Browser;
let kioskUrl: string;
const detectors: Detector[] = [];
const plan = { hall: 1, tanks: 0, dense: 0 };
const NORMAL_SN = 'PL-HALL1';
const LEAK_SN = 'PL-TANK1';
const DENSE = 120;

async function uploadPlan(id: number, png: Buffer) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'plan.png');
  const response = await fetch(`${appliance.http}/api/config/dashboard/plans/${id}/bg`, { method: 'POST', headers: { authorization: `Bearer ${appliance.adminToken}` }, body: form });
  assert.equal(response.status, 200, await response.text());
}
async function addPlan(name: string): Promise<number> {
  const added = await appliance.api('POST', '/api/config/dashboard/plans', { name }, appliance.adminToken);
  assert.equal(added.status, 201, JSON.stringify(added.body));
  return added.body.plans.at(-1).id;
}
async function place(planId: number, positions: { sn: string; x: number; y: number }[]) {
  const placed = await appliance.api('POST', `/api/config/dashboard/plans/${planId}/positions`, { positions }, appliance.adminToken);
  assert.equal(placed.status, 200, JSON.stringify(placed.body));
}
async function device(sn: string, name: string) {
  const created = await appliance.api('POST', '/api/devices', { sn, name, high_limit: 1000 }, appliance.adminToken);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.password as string;
}

before(async () => {
  appliance = await startUiAppliance({}, { licensedDevices: 200 });
  browser = await launchBrowser();
  const png = await floorPlanPng(browser);
  await appliance.api('PUT', `/api/config/dashboard/plans/${plan.hall}`, { name: 'Assembly building' }, appliance.adminToken);
  plan.tanks = await addPlan('Tank farm');
  plan.dense = await addPlan('Warehouse');
  for (const id of [plan.hall, plan.tanks, plan.dense]) await uploadPlan(id, png);
  const normal = await device(NORMAL_SN, 'Hall compressor');
  await place(plan.hall, [{ sn: NORMAL_SN, x: 30, y: 40 }]);
  const d = createDetector({ sn: NORMAL_SN, url: appliance.mqttUrl, password: normal, intervalMs: 1000, reconnectDelayMs: 500 });
  detectors.push(d);
  void d.start();
  // 120 detectors on one plan, 12 × 10, about 70 × 48 px apart at 1366×768.
  const grid: { sn: string; x: number; y: number }[] = [];
  for (let i = 0; i < DENSE; i++) {
    const sn = `PL-W${String(i).padStart(3, '0')}`;
    await device(sn, `Rack ${i}`);
    grid.push({ sn, x: 4 + (i % 12) * 8.4, y: 5 + Math.floor(i / 12) * 10 });
  }
  await place(plan.dense, grid);
  const kioskToken = (await appliance.api('POST', '/api/auth/kiosk-tokens', { name: 'control room' }, appliance.adminToken)).body.token as string;
  kioskUrl = `${appliance.http}/dashboard?token=${encodeURIComponent(kioskToken)}`;
});

after(async () => {
  for (const d of detectors) await d.stop();
  await browser?.close();
  await appliance?.dispose();
});

async function openKiosk(viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport, locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto(kioskUrl);
  await page.locator('.kiosk[data-link="live"]').waitFor({ timeout: 10_000 });
  // The first snapshot fills the tiles' counts, which widens them: a click before it lands where the
  // next tile moves to (it did, 2 runs in 3 on a loaded machine: the kiosk stayed on the first plan).
  await page.locator(`[data-plan-tile="${plan.dense}"] .n-total`, { hasText: String(DENSE) }).waitFor();
  return page;
}

test('120 detectors on one plan at 1366×768 are dots that do not cover each other, each showing its value on hover', async () => {
  const page = await openKiosk({ width: 1366, height: 768 });
  await page.locator(`[data-plan-tile="${plan.dense}"]`).click();
  await page.locator(`.kiosk[data-plan="${plan.dense}"] .kiosk-plan.dense`).waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('.kiosk-plan .marker.placed').length === n, DENSE);
  const boxes: { w: number; h: number; x: number; y: number }[] = await page.evaluate(() =>
    [...document.querySelectorAll('.kiosk-plan .marker.placed')].map((el: any) => {
      const r = el.getBoundingClientRect();
      return { x: r.left, y: r.top, w: r.width, h: r.height };
    }));
  const overlapping: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]!, b = boxes[j]!;
      const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
      const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
      // A bound: two markers may touch, but never share more than 5 % of the smaller one.
      if (w > 0 && h > 0 && w * h > 0.05 * Math.min(a.w * a.h, b.w * b.h)) overlapping.push(`${i}×${j}`);
    }
  }
  assert.deepEqual(overlapping, [], `markers covering each other: ${overlapping.slice(0, 10).join(', ')}`);
  const largest = Math.max(...boxes.map((b) => b.w * b.h));
  assert.ok(largest <= 24 * 24, `a marker of ${largest} px² hides the plan's room names`);
  // The value is one hover (or tap) away.
  const one = page.locator('.kiosk-plan .marker[data-sn="PL-W005"]');
  await one.hover();
  const shown = await one.locator('.marker-name').boundingBox();
  assert.ok(shown && shown.width > 10, 'hovering a dot shows its name and value');
  assert.equal(await one.locator('.marker-name').textContent(), 'Rack 5');
  await screenshot(page, 'plans-kiosk-1366-dense');
  await page.context().close();
});

test('on a phone (390×844) no top-bar count or plan tile cuts its words', async () => {
  const page = await openKiosk(PHONE);
  await page.locator('[data-count="online"] .count-value', { hasText: /\d/ }).waitFor();
  const cut: string[] = await page.evaluate(() =>
    [...document.querySelectorAll('.kiosk-top .count, .kiosk-top .count *, .plan-tile, .plan-tile *')]
      .filter((el: any) => el.scrollWidth > el.clientWidth && el.clientWidth > 0)
      .map((el: any) => `${el.className}: "${el.textContent}" ${el.scrollWidth} > ${el.clientWidth}`));
  assert.deepEqual(cut, []);
  const tiles = await page.locator('.plan-tile').count();
  assert.equal(tiles, 3);
  assert.equal(await page.locator('[data-count="online"] .count-label').textContent(), 'Online');
  await screenshot(page, 'plans-kiosk-phone');
  await page.context().close();
});

test('a leak on the second plan while the kiosk shows the first brings the second forward with the alarm, and its tile turns red', async () => {
  const page = await openKiosk({ width: 1920, height: 1080 });
  await page.locator(`.kiosk[data-plan="${plan.hall}"] .kiosk-plan .marker[data-sn="${NORMAL_SN}"][data-look="ok"]`).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator(`[data-plan-tile="${plan.hall}"]`).getAttribute('data-state'), 'ok');
  const password = await device(LEAK_SN, 'Tank 3 valve');
  await place(plan.tanks, [{ sn: LEAK_SN, x: 60, y: 30 }]);
  // The kiosk reads the plans every minute; a reload stands in for the wait (the leak is not yet on).
  await page.reload();
  await page.locator(`.kiosk[data-plan="${plan.hall}"][data-link="live"]`).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator(`.kiosk-plan .marker[data-sn="${LEAK_SN}"]`).count(), 0, 'the second plan is not on screen');
  await page.locator(`[data-plan-tile="${plan.tanks}"] .n-total`).waitFor();
  const tileBoxes = () => page.evaluate(() =>
    [...document.querySelectorAll('.plan-tile')].map((el, _, all) => {
      const r = el.getBoundingClientRect();
      const row = r.top - all[0]!.getBoundingClientRect().top; // an alarm bar above may move the tiles down together
      return `${(el as HTMLElement).dataset.planTile}: x ${Math.round(r.left)} row ${Math.round(row)} w ${Math.round(r.width)}`;
    }));
  const tilesBefore = await tileBoxes();

  const leak = createDetector({ sn: LEAK_SN, url: appliance.mqttUrl, password, intervalMs: 1000, reconnectDelayMs: 500, scenario: createScenario('leak', { highLimit: 1000, leakStartS: 2, leakRampS: 2, leakHoldS: 900 }) });
  detectors.push(leak);
  void leak.start();
  const marker = page.locator(`.kiosk[data-plan="${plan.tanks}"] .kiosk-plan .marker[data-sn="${LEAK_SN}"][data-look="alarm"]`);
  await marker.waitFor({ timeout: 15_000 });
  assert.ok(Number(await marker.locator('.marker-value').textContent()) > 1000);
  assert.equal(await page.locator(`[data-plan-tile="${plan.tanks}"]`).getAttribute('data-state'), 'alarm');
  assert.match((await page.locator(`[data-plan-tile="${plan.tanks}"]`).getAttribute('class'))!, /current/);
  // The alarm's count on the tile wraps inside it: no tile moved or grew sideways under the operator's finger.
  await page.locator(`[data-plan-tile="${plan.tanks}"] .n-alarm`).waitFor();
  assert.deepEqual(await tileBoxes(), tilesBefore);
  await page.locator('.kiosk-alarms .alarm-item', { hasText: 'Tank 3 valve' }).waitFor();
  // It stays while the alarm is active: a tap on another plan does not hide it.
  await page.locator(`[data-plan-tile="${plan.hall}"]`).click();
  await page.waitForTimeout(500);
  assert.equal(await page.locator('.kiosk').getAttribute('data-plan'), String(plan.tanks));
  await screenshot(page, 'plans-kiosk-alarm-forward');
  await page.context().close();
});
