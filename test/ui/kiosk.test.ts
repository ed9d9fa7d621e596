// UI-2 the kiosk on its own: it never shows old numbers as live. Appliance stopped → "connection
// lost" within 5 s and values hidden, then it recovers by itself when the appliance is back on the
// same ports (no reload); a silent half-open link → "data stale" after connection_timeout_s; a
// value older than stale_after_s is shown as stale; a bad kiosk token gets a clear message and no
// retry storm; the language switch is remembered. First paint is measured.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { createDetector, type Detector } from '../../simulator/detector.ts';
import { connectDevice, publishReading } from '../helpers/appliance.ts';
import { freezableProxy, FULL_HD, launchBrowser, screenshot, startUiAppliance, type UiAppliance } from './support.ts';

// Browser globals inside page.evaluate() callbacks (the test project has no DOM lib).
declare const document: any, window: any;

let appliance: UiAppliance;
let browser: Browser;
let context: BrowserContext;
let kiosk: Page;
let detector: Detector;
let oldDevice: MqttClient | null = null;
const SN = 'UI-K001';
const OLD_SN = 'UI-K002';

before(async () => {
  appliance = await startUiAppliance({}, { licensedDevices: 50 }); // more than evaluation's 10 devices
  const token = appliance.adminToken;
  const created = await appliance.api('POST', '/api/devices', { sn: SN, name: 'Compressor', high_limit: 5000, pos_x: 30, pos_y: 50 }, token);
  await appliance.api('POST', '/api/devices', { sn: OLD_SN, name: 'Dryer', high_limit: 5000, pos_x: 70, pos_y: 50 }, token).then(async (old) => {
    oldDevice = await connectDevice(appliance.mqttUrl, OLD_SN, old.body.password);
  });
  detector = createDetector({ sn: SN, url: appliance.mqttUrl, password: created.body.password, intervalMs: 1000, reconnectDelayMs: 500 });
  void detector.start();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' });
  kiosk = await context.newPage();
});

after(async () => {
  await detector?.stop();
  await oldDevice?.endAsync();
  await browser?.close();
  await appliance?.dispose();
});

const valueOf = (page: Page, sn: string) => page.locator(`.marker[data-sn="${sn}"] .marker-value`).textContent();

test('the kiosk paints live values fast, and a value older than stale_after_s is shown as stale, not as live', async () => {
  const kioskToken = (await appliance.api('POST', '/api/auth/kiosk-tokens', { name: 'hall' }, appliance.adminToken)).body.token as string;
  await kiosk.goto(`${appliance.http}/dashboard?token=${encodeURIComponent(kioskToken)}`);
  await kiosk.waitForFunction((sn) => /\d/.test(document.querySelector(`.marker[data-sn="${sn}"][data-look="ok"] .marker-value`)?.textContent ?? ''), SN, { timeout: 10_000 });
  // Reload now that the detector reports: the time to the first live value from a warm appliance.
  await kiosk.reload();
  await kiosk.waitForFunction((sn) => /\d/.test(document.querySelector(`.marker[data-sn="${sn}"][data-look="ok"] .marker-value`)?.textContent ?? ''), SN);
  const paint = await kiosk.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    firstValue: performance.now(),
  }));
  console.log(`kiosk first contentful paint ${paint.fcp?.toFixed(0) ?? 'n/a'} ms, first live value painted after ${paint.firstValue.toFixed(0)} ms`);
  // The meaningful paint is a live number on the plan, not an empty frame: budget 1.5 s on loopback.
  assert.ok(paint.firstValue < 1500, `first live value after ${paint.firstValue} ms`);

  // A reading 200 s old (buffered in the detector, say): the device is online but its value is not current.
  await publishReading(oldDevice!, OLD_SN, { ts: Math.floor(Date.now() / 1000) - 200, seq: 1, v_raw: 42 });
  await kiosk.locator(`.marker[data-sn="${OLD_SN}"][data-look="stale"]`).waitFor({ timeout: 5000 });
  assert.equal(await valueOf(kiosk, OLD_SN), '—');
  assert.equal(await kiosk.locator(`.marker[data-sn="${OLD_SN}"] .marker-state`).textContent(), 'no recent data');
  await publishReading(oldDevice!, OLD_SN, { ts: Math.floor(Date.now() / 1000), seq: 2, v_raw: 42 });
  await kiosk.locator(`.marker[data-sn="${OLD_SN}"][data-look="ok"]`).waitFor({ timeout: 5000 });
  assert.equal(await valueOf(kiosk, OLD_SN), '42');
  await screenshot(kiosk, 'kiosk-1920');
});

test('appliance stopped: within 5 s the kiosk shows the lost connection and hides values; restarted, it recovers by itself', async () => {
  await kiosk.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  const stoppedAt = Date.now();
  const stopping = appliance.stop(); // OPS-4 shutdown: the kiosk must notice while it is still under way
  await kiosk.locator('.kiosk[data-link="lost"], .kiosk[data-link="stale"]').waitFor({ timeout: 5000 });
  const noticedMs = Date.now() - stoppedAt;
  console.log(`kiosk noticed the stop after ${noticedMs} ms`);
  assert.ok(noticedMs <= 5000);
  await stopping;
  await kiosk.locator('.kiosk-banner[role="alert"]').waitFor();
  assert.equal(await valueOf(kiosk, SN), '—', 'no number is shown as live while the link is down');
  assert.equal(await kiosk.locator('[data-count="online"] .count-value').textContent(), '—');
  await screenshot(kiosk, 'kiosk-connection-lost-1920');

  await appliance.restart();
  await kiosk.locator('.kiosk[data-link="live"]').waitFor({ timeout: 15_000 });
  await kiosk.waitForFunction((sn) => /\d/.test(document.querySelector(`.marker[data-sn="${sn}"][data-look="ok"] .marker-value`)?.textContent ?? ''), SN, { timeout: 15_000 });
  assert.equal(await kiosk.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'recovered without a reload');
  assert.equal(await kiosk.locator('.kiosk-banner').count(), 0);
});

test('a silent link (half-open, no close) turns to "data stale" after connection_timeout_s and recovers when data flows again', async () => {
  const proxy = await freezableProxy(appliance.ports.http);
  const page = await context.newPage();
  try {
    await page.goto(`${proxy.url}/dashboard?token=${encodeURIComponent(appliance.adminToken)}`);
    await page.waitForFunction((sn) => /\d/.test(document.querySelector(`.marker[data-sn="${sn}"][data-look="ok"] .marker-value`)?.textContent ?? ''), SN, { timeout: 10_000 });
    const frozenAt = Date.now();
    proxy.freeze();
    await page.locator('.kiosk[data-link="stale"], .kiosk[data-link="lost"]').waitFor({ timeout: 8000 });
    const staleMs = Date.now() - frozenAt;
    console.log(`silent link shown stale after ${staleMs} ms (connection_timeout_s = 5)`);
    assert.ok(staleMs >= 4000 && staleMs <= 7000, `stale after ${staleMs} ms`);
    assert.equal(await valueOf(page, SN), '—');
    proxy.thaw();
    await page.locator('.kiosk[data-link="live"]').waitFor({ timeout: 15_000 });
    await page.waitForFunction((sn) => /\d/.test(document.querySelector(`.marker[data-sn="${sn}"] .marker-value`)?.textContent ?? ''), SN);
  } finally {
    await page.close();
    await proxy.close();
  }
});

test('the language switch is remembered; a bad kiosk token says so and stops retrying', async () => {
  await kiosk.locator('.kiosk-top .lang-switch').click();
  await kiosk.locator('[data-count="online"] .count-label', { hasText: '在线' }).waitFor();
  await kiosk.reload();
  await kiosk.locator('[data-count="online"] .count-label', { hasText: '在线' }).waitFor();
  await kiosk.locator('.kiosk[data-link="live"]').waitFor();
  await screenshot(kiosk, 'kiosk-zh-1920');
  await kiosk.locator('.kiosk-top .lang-switch').click();
  await kiosk.locator('[data-count="online"] .count-label', { hasText: 'Online' }).waitFor();

  const other = await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' }); // its own localStorage
  const page = await other.newPage();
  let sockets = 0;
  page.on('websocket', () => sockets++);
  await page.goto(`${appliance.http}/dashboard?token=not-a-valid-token`);
  await page.getByText('Kiosk link invalid').waitFor();
  await page.getByText('Ask the admin for a kiosk link', { exact: false }).waitFor();
  await page.waitForTimeout(3000);
  assert.equal(sockets, 1, 'close code 4401 is final: no reconnect loop');
  await screenshot(page, 'kiosk-token-invalid-1920');
  await other.close();
});

const ALARM_COUNT = 16; // about twice what the list shows at 1920×1080

test('more alarms than fit: the list scrolls by itself (nobody scrolls a kiosk)', async () => {
  const clients: MqttClient[] = [];
  try {
    for (let i = 1; i <= ALARM_COUNT; i++) {
      const sn = `UI-ALM${String(i).padStart(2, '0')}`;
      const created = await appliance.api('POST', '/api/devices', { sn, name: `Tank ${i}`, high_limit: 100 }, appliance.adminToken);
      const client = await connectDevice(appliance.mqttUrl, sn, created.body.password);
      clients.push(client);
      await publishReading(client, sn, { ts: Math.floor(Date.now() / 1000), seq: 1, v_raw: 500 });
    }
    // The list must overflow (it shows about 8 at 1920×1080). Every acknowledged leak is an alarm
    // (ALM-8): the HIGH that once went missing here was an evaluation racing the writer's commit
    // for the lock and its SQLITE_BUSY swallowed (issue 13), fixed by judging readings in the commit.
    const active = (await appliance.api('GET', '/api/alarms?state=active&type=HIGH&size=100', undefined, appliance.adminToken)).body;
    assert.equal(active.total, ALARM_COUNT, 'every acknowledged leak reading has its HIGH alarm');
    await kiosk.locator('.kiosk-alarms .alarm-item').nth(ALARM_COUNT - 1).waitFor({ timeout: 10_000 });
    const list = kiosk.locator('.kiosk-alarms ul');
    assert.ok(await list.evaluate((el) => el.scrollHeight > el.clientHeight), 'the alarms overflow the list');
    // It may already have moved while the alarms came in (the list is shorter since the SILENCE
    // button and the first alarm sit above it): it must move again by itself, down or back to the top.
    const from = await list.evaluate((el) => el.scrollTop);
    await kiosk.waitForFunction((start) => Math.abs(document.querySelector('.kiosk-alarms ul').scrollTop - start) > 10, from, { timeout: 10_000 });
  } finally {
    await Promise.all(clients.map((c) => c.endAsync()));
  }
});
