// Issue 15.8 in Chromium against a real appliance: 120 detectors on one plan, most of them in ten
// tight racks (a warehouse), some on their own. Real MQTT detectors: one rack all reporting normal,
// one rack with a leak over its setpoint, the rest never heard of (offline). At 1366×768 and on a
// phone the racks become cluster markers — count, worst state colour — that do not cover each
// other, while the detectors with room around them stay as dots; a tap on the leaking rack lists its
// detectors worst first, and a tap on one opens its trend. The admin plan editor groups the same
// pins and lets one be dragged out of its cluster's list.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';
import { dragToPlan, floorPlanPng, launchBrowser, PHONE, screenshot, startUiAppliance, type UiAppliance } from './support.ts';

declare const document: any, localStorage: any;

let appliance: UiAppliance;
let browser: Browser;
let kioskUrl: string;
const clients: MqttClient[] = [];
const RACKS = 10;
const PER_RACK = 11;
const SINGLES = 10;
const rackSn = (rack: number, k: number) => `CL-R${rack}-${String(k).padStart(2, '0')}`;
const singleSn = (i: number) => `CL-S${String(i).padStart(2, '0')}`;
const OK_RACK = 0;
const LEAK_RACK = 3;
const LEAK_SN = rackSn(LEAK_RACK, 5);
const HIGH = 1000;

before(async () => {
  appliance = await startUiAppliance({}, { licensedDevices: 200 });
  browser = await launchBrowser();
  const token = appliance.adminToken;
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(await floorPlanPng(browser))], { type: 'image/png' }), 'plan.png');
  const uploaded = await fetch(`${appliance.http}/api/config/dashboard/plans/1/bg`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  assert.equal(uploaded.status, 200, await uploaded.text());

  const passwords = new Map<string, string>();
  const positions: { sn: string; x: number; y: number }[] = [];
  for (let rack = 0; rack < RACKS; rack++) {
    for (let k = 0; k < PER_RACK; k++) {
      // A rack: 4 × 3 detectors under 1 % apart — a few pixels on any screen.
      positions.push({ sn: rackSn(rack, k), x: 8 + (rack % 5) * 20 + (k % 4) * 0.8, y: 22 + Math.floor(rack / 5) * 50 + Math.floor(k / 4) * 1.2 });
    }
  }
  for (let i = 0; i < SINGLES; i++) positions.push({ sn: singleSn(i), x: 5 + i * 10, y: 50 }); // 10 % apart: room around each
  assert.equal(positions.length, 120);
  for (const { sn } of positions) {
    const created = await appliance.api('POST', '/api/devices', { sn, name: sn.startsWith('CL-S') ? `Aisle ${sn.slice(4)}` : `Rack ${sn.slice(4)}`, high_limit: HIGH, calib: { k: 1, b: 0 } }, token);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    passwords.set(sn, created.body.password);
  }
  const placed = await appliance.api('POST', '/api/config/dashboard/plans/1/positions', { positions }, token);
  assert.equal(placed.status, 200, JSON.stringify(placed.body));

  // One rack all normal; one detector of another rack leaking; the rest never report (offline).
  const ts = Math.floor(Date.now() / 1000);
  for (const sn of [...Array.from({ length: PER_RACK }, (_, k) => rackSn(OK_RACK, k)), LEAK_SN]) {
    const client = await connectDevice(appliance.mqttUrl, sn, passwords.get(sn)!);
    clients.push(client);
    await publishReading(client, sn, { seq: 1, ts, v_raw: sn === LEAK_SN ? 1500 : 20 });
  }
  await eventually(() => appliance.app.testApi.activeAlarms().some((a) => a.sn === LEAK_SN && a.type === 'HIGH'), 5000, 'the leak alarm');
  kioskUrl = `${appliance.http}/dashboard?token=${encodeURIComponent((await appliance.api('POST', '/api/auth/kiosk-tokens', { name: 'warehouse' }, token)).body.token)}`;
});

after(async () => {
  await Promise.all(clients.map((c) => c.endAsync()));
  await browser?.close();
  await appliance?.dispose();
});

interface Box { what: string; x: number; y: number; w: number; h: number }
/** The on-plan markers and clusters as drawn. */
const drawn = (page: Page, scope: string): Promise<Box[]> => page.evaluate((scope: string) =>
  [...document.querySelectorAll(`${scope} .marker.placed, ${scope} .marker-cluster`)].map((el: any) => {
    const r = el.getBoundingClientRect();
    return { what: el.dataset.sn ?? `cluster ${el.dataset.first}`, x: r.left, y: r.top, w: r.width, h: r.height };
  }), scope);

function overlapping(boxes: Box[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]!, b = boxes[j]!;
      const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
      const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
      if (w > 0 && h > 0) out.push(`${a.what} × ${b.what}`);
    }
  }
  return out;
}

async function openKiosk(viewport: { width: number; height: number }): Promise<Page> {
  const page = await (await browser.newContext({ viewport, locale: 'en-GB' })).newPage();
  await page.goto(kioskUrl);
  await page.locator('.kiosk[data-link="live"] .kiosk-plan.dense').waitFor({ timeout: 10_000 });
  await page.locator(`.marker-cluster[data-first="${rackSn(LEAK_RACK, 0)}"][data-state="alarm"]`).waitFor({ timeout: 10_000 });
  return page;
}

/** Every rack is one cluster of 11 in the colour of its worst detector; the singles stay dots; nothing covers anything. */
async function checkClusters(page: Page) {
  const clusters = await page.locator('.kiosk-plan .marker-cluster').evaluateAll((els: any[]) =>
    els.map((el) => ({ first: el.dataset.first as string, n: Number(el.dataset.cluster), state: el.dataset.state as string, text: el.textContent as string })));
  assert.deepEqual(clusters.map((c) => c.first).sort(), Array.from({ length: RACKS }, (_, rack) => rackSn(rack, 0)));
  assert.ok(clusters.every((c) => c.n === PER_RACK && c.text === String(PER_RACK)), `each rack of ${PER_RACK}: ${JSON.stringify(clusters)}`);
  const stateOf = (rack: number) => clusters.find((c) => c.first === rackSn(rack, 0))!.state;
  assert.equal(stateOf(LEAK_RACK), 'alarm', 'the worst state of the rack: its leak');
  assert.equal(stateOf(OK_RACK), 'ok', 'a rack all normal is green');
  assert.equal(stateOf(7), 'offline', 'a rack never heard of is grey');
  const singles = await page.locator('.kiosk-plan .marker.placed').evaluateAll((els: any[]) => els.map((el) => el.dataset.sn as string));
  assert.deepEqual(singles.sort(), Array.from({ length: SINGLES }, (_, i) => singleSn(i)), 'the detectors with room around them stay dots');
  const boxes = await drawn(page, '.kiosk-plan');
  assert.deepEqual(overlapping(boxes), [], 'nothing on the plan covers anything else');
  assert.ok(boxes.every((b) => b.w <= 40 && b.h <= 40), 'small enough to leave the room names readable');
}

test('at 1366×768 the racks become clusters in their worst colour; a tap lists the leaking rack worst first, a tap on the leak opens its trend', async () => {
  const page = await openKiosk({ width: 1366, height: 768 });
  await checkClusters(page);
  const cluster = page.locator(`.marker-cluster[data-first="${rackSn(LEAK_RACK, 0)}"]`);
  assert.equal(await cluster.getAttribute('aria-expanded'), 'false');
  await cluster.click();
  const list = page.locator(`.cluster-list[data-cluster-list="${PER_RACK}"]`);
  await list.waitFor();
  assert.equal(await cluster.getAttribute('aria-expanded'), 'true');
  const members = await list.locator('.marker').evaluateAll((els: any[]) => els.map((el) => `${el.dataset.sn}:${el.dataset.look}`));
  assert.equal(members.length, PER_RACK);
  assert.equal(members[0], `${LEAK_SN}:alarm`, 'the leak first');
  assert.ok(members.slice(1).every((m) => m.endsWith(':offline')), members.join(' '));
  const leak = list.locator(`.marker[data-sn="${LEAK_SN}"]`);
  assert.equal((await leak.locator('.marker-value').textContent())!.trim(), '1500', 'the value readable in the list');
  assert.equal(await leak.locator('.marker-name').textContent(), `Rack ${LEAK_SN.slice(4)}`);
  await screenshot(page, 'plans-clusters-kiosk-1366');
  await leak.click();
  await page.locator(`.kiosk-trend[data-trend="${LEAK_SN}"]`).waitFor();
  assert.equal(await cluster.evaluate((el: any) => el.classList.contains('selected')), true, 'the cluster holding the detector shown is marked');
  await list.locator('.close').click();
  await list.waitFor({ state: 'detached' });
  await page.context().close();
});

test('on a phone (390×844) the racks are clusters too, and an opened rack lists full markers whose words are not cut', async () => {
  const page = await openKiosk(PHONE);
  await checkClusters(page);
  await page.locator(`.marker-cluster[data-first="${rackSn(OK_RACK, 0)}"]`).click();
  const list = page.locator(`.cluster-list[data-cluster-list="${PER_RACK}"]`);
  await list.waitFor();
  assert.deepEqual(await list.locator('.marker').evaluateAll((els: any[]) => [...new Set(els.map((el) => el.dataset.look))]), ['ok']);
  const cut: string[] = await page.evaluate(() => [...document.querySelectorAll('.cluster-list .marker-name, .cluster-list .marker-value, .cluster-list h2')]
    .filter((el: any) => el.scrollWidth > el.clientWidth && el.clientWidth > 0).map((el: any) => el.textContent));
  assert.deepEqual(cut, []);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `nothing wider than the phone (${overflow} px over)`);
  await list.scrollIntoViewIfNeeded();
  await screenshot(page, 'plans-clusters-kiosk-phone');
  await page.context().close();
});

test('the admin plan editor groups the same pins; a pin dragged out of a cluster list is moved and the cluster shrinks', async () => {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB' })).newPage();
  await page.goto(`${appliance.http}/admin`);
  await page.evaluate((token: string) => localStorage.setItem('mcs.token', token), appliance.adminToken);
  await page.goto(`${appliance.http}/admin/editor`);
  const cluster = page.locator(`.editor-plan .pin-cluster[data-first="${rackSn(LEAK_RACK, 0)}"]`);
  await cluster.waitFor({ timeout: 10_000 });
  assert.equal(await cluster.getAttribute('data-state'), 'alarm', 'the editor shows the worst state too');
  // Each rack is one cluster (the aisle pins, wider name labels, may pair up too).
  const firsts = await page.locator('.editor-plan .pin-cluster').evaluateAll((els: any[]) => els.map((el) => `${el.dataset.first}:${el.dataset.cluster}`));
  for (let rack = 0; rack < RACKS; rack++) assert.ok(firsts.includes(`${rackSn(rack, 0)}:${PER_RACK}`), `rack ${rack}: ${firsts.join(' ')}`);
  assert.deepEqual(overlapping(await page.evaluate(() => [...document.querySelectorAll('.editor-plan .pin, .editor-plan .pin-cluster')].map((el: any) => {
    const r = el.getBoundingClientRect();
    return { what: el.dataset.pin ?? `cluster ${el.dataset.first}`, x: r.left, y: r.top, w: r.width, h: r.height };
  }))), [], 'no pin covers another');

  await cluster.click();
  const list = page.locator(`.pin-cluster-list[data-pin-cluster-list="${PER_RACK}"]`);
  await list.waitFor();
  await list.locator(`[data-pin-member="${LEAK_SN}"]`).scrollIntoViewIfNeeded();
  await dragToPlan(page, `.pin-cluster-list [data-pin-member="${LEAK_SN}"]`, 50, 36); // between the racks and the aisle
  const moved = page.locator(`.editor-plan .pin[data-pin="${LEAK_SN}"]`);
  await moved.waitFor();
  assert.equal(await page.locator(`.editor-plan .pin-cluster[data-first="${rackSn(LEAK_RACK, 0)}"]`).getAttribute('data-cluster'), String(PER_RACK - 1));
  assert.equal(await page.locator('[data-action="save-positions"]').textContent(), 'Save positions (1)');
  await page.locator('[data-action="save-positions"]').click();
  await page.getByText('Positions saved.').waitFor();
  const saved = (await appliance.api('GET', `/api/devices/${LEAK_SN}`, undefined, appliance.adminToken)).body;
  assert.ok(Math.abs(saved.pos_x - 50) < 1 && Math.abs(saved.pos_y - 36) < 1, `saved where it was dropped: ${saved.pos_x}, ${saved.pos_y}`);
  await page.context().close();
});
