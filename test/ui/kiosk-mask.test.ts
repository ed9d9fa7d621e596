// Issue 15.1 on the kiosk, through the real parts (broker, SQLite, the writer, the API, the
// WebSocket, Chromium): a masked detector's marker is yellow MASKED with the minutes left and the
// top bar counts it; its alarms are listed as masked; a level-1 alarm under a mask is silent, and a
// level-2 alarm under a mask still sounds (masking.level2_sounds, safety first) — the audio graph
// (window.__kioskAudio) is measured as in kiosk-sound.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { FULL_HD, launchBrowser, loudness, screenshot, startUiAppliance, uiDetectors, type UiAppliance } from './support.ts';

declare const window: any;

const QUIET = 'UI-M001';
const LOUD = 'UI-M002';
const FREE = 'UI-M003';

let appliance: UiAppliance;
let browser: Browser;
let kiosk: Page;
const detectors = uiDetectors();
const { send } = detectors;

before(async () => {
  appliance = await startUiAppliance({}, { licensedDevices: 50 });
  const token = appliance.adminToken;
  await detectors.register(appliance, [
    { sn: QUIET, name: 'Pump 1', location: 'Pump house', high_limit: 100, high2_limit: 300, pos_x: 25, pos_y: 30 },
    { sn: LOUD, name: 'Pump 2', location: 'Pump house', high_limit: 100, high2_limit: 300, pos_x: 50, pos_y: 30 },
    { sn: FREE, name: 'Gate', location: 'Gate', high_limit: 100, high2_limit: 300, pos_x: 75, pos_y: 30 },
  ]);
  const masked = await appliance.api('POST', '/api/devices/mask', { sns: [QUIET, LOUD], minutes: 20, reason: 'bump test' }, token);
  assert.equal(masked.status, 200, JSON.stringify(masked.body));
  const kioskToken = (await appliance.api('POST', '/api/auth/kiosk-tokens', { name: 'hall' }, token)).body.token;
  browser = await launchBrowser({ autoplay: true });
  kiosk = await (await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' })).newPage();
  await kiosk.goto(`${appliance.http}/dashboard?token=${encodeURIComponent(kioskToken)}&kiosk=maint`);
  await kiosk.locator('.kiosk[data-link="live"][data-audio="running"]').waitFor({ timeout: 10_000 });
});

after(async () => {
  await detectors.close();
  await browser?.close();
  await appliance?.dispose();
});

test('the masked detectors show yellow MASKED with the minutes left and are counted in the top bar; the other one is normal', async () => {
  for (const sn of [QUIET, LOUD]) await kiosk.locator(`.marker[data-sn="${sn}"][data-look="masked"]`).waitFor({ timeout: 5000 });
  await kiosk.locator(`.marker[data-sn="${FREE}"][data-look="ok"]`).waitFor();
  const text = (await kiosk.locator(`.marker[data-sn="${QUIET}"] .marker-state`).textContent()) ?? '';
  assert.match(text, /MASKED/);
  const left = Number(await kiosk.locator(`.marker[data-sn="${QUIET}"] .marker-mask-left`).getAttribute('data-mask-left'));
  assert.ok(left >= 19 && left <= 20, `20 min mask: ${left} min left`);
  assert.match(text, new RegExp(`${left} min left`));
  const colour = await kiosk.locator(`.marker[data-sn="${QUIET}"]`).evaluate((el) => getComputedStyle(el).borderTopColor);
  assert.equal(colour, 'rgb(242, 204, 96)', 'yellow');
  assert.equal(await kiosk.locator('[data-count="masked"] .count-value').textContent(), '2');
});

test('a level-1 alarm under a mask is listed as masked and does not sound', async () => {
  await send(QUIET, { v_raw: 150 });
  await kiosk.locator(`.kiosk-alarms .alarm-item[data-masked="yes"][data-level="1"]`).waitFor({ timeout: 5000 });
  assert.match((await kiosk.locator('.kiosk-alarms .alarm-item[data-masked="yes"]').textContent()) ?? '', /MASKED · not notified · \d+ min left/);
  await kiosk.locator(`.marker[data-sn="${QUIET}"][data-look="masked"]`).waitFor();
  const peak = await loudness(kiosk, 1200);
  assert.ok(peak < 0.001, `silent (peak ${peak})`);
  assert.equal(await kiosk.locator('.kiosk').getAttribute('data-pattern'), '');
});

test('a level-2 alarm under a mask still sounds (masking.level2_sounds)', async () => {
  await send(LOUD, { v_raw: 350 });
  await kiosk.locator('.kiosk[data-sound="sounding"][data-pattern="level2"]').waitFor({ timeout: 5000 });
  const peak = await loudness(kiosk, 1500);
  assert.ok(peak > 0.05, `the page is sounding (peak ${peak})`);
  assert.equal(await kiosk.locator(`.kiosk-alarms .alarm-item[data-masked="yes"][data-level="2"]`).count(), 1);
  await screenshot(kiosk, 'kiosk-masked-1920');
});
