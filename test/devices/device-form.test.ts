// ALM-9 in the admin UI, headless Chromium against a real appliance: the device form's gas select
// limits the units and proposes the gas's GB/T 50493 setpoints, shows the bound beside each
// setpoint in the device's unit, asks for a reason (audited) when one is outside it; a pending
// serial is approved through the same form; the list names the gas, converts the value, and a
// detector without a setpoint is yellow "no alarm setpoint", not green.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { createDetector, type Detector } from '../../simulator/detector.ts';
import { FULL_HD, launchBrowser, screenshot, startUiAppliance, type UiAppliance } from '../ui/support.ts';

declare const getComputedStyle: any, document: any;

let appliance: UiAppliance;
let browser: Browser;
let page: Page;
const detectors: Detector[] = [];

before(async () => {
  appliance = await startUiAppliance();
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' })).newPage();
  await page.goto(`${appliance.http}/admin`);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', 'admin-secret-1');
  await page.click('button[type=submit]');
  await page.locator('[data-page="overview"]').waitFor();
  await page.click('[data-nav="devices"]');
});

after(async () => {
  await Promise.all(detectors.map((d) => d.stop()));
  await browser?.close();
  await appliance?.dispose();
});

test('choosing H2S limits the units, proposes its setpoints and shows the bound; one outside it needs a reason, which is audited', async () => {
  await page.click('[data-action="add-device"]');
  const form = page.locator('form[data-form="device"]');
  await form.locator('input[name=sn]').fill('UI-H2S1');
  await form.locator('select[name=gas]').selectOption('H2S');
  assert.deepEqual(await form.locator('select[name=unit] option').allTextContents(), ['ppm', 'mg/m³']);
  // MAC 10 mg/m³ at 20 °C is 7.06 ppm; level 2 twice that, rounded down
  assert.equal(await form.locator('input[name=high_limit]').inputValue(), '7.06');
  assert.equal(await form.locator('input[name=high2_limit]').inputValue(), '14.1');
  await form.getByText('GB/T 50493: at most 7.06 ppm (100 % OEL (MAC 10 mg/m³))').waitFor();

  await form.locator('select[name=unit]').selectOption('mg/m3');
  await form.getByText('GB/T 50493: at most 10 mg/m³ (100 % OEL (MAC 10 mg/m³))').waitFor();
  await form.locator('input[name=high_limit]').fill('15');
  await form.locator('input[name=high_limit][data-bound="outside"]').waitFor();
  await form.locator('[data-section="override"]', { hasText: 'level-1 setpoint 15 mg/m³ is above 10 mg/m³' }).waitFor();
  await screenshot(page, 'admin-device-form-bounds');

  await form.locator('button[type=submit]').click(); // no reason: the server refuses
  await form.locator('[data-error="40005"]', { hasText: 'Alarm setpoint refused' }).waitFor();
  assert.equal((await appliance.api('GET', '/api/devices/UI-H2S1', undefined, appliance.adminToken)).status, 404);

  await form.locator('input[name=override_reason]').fill('confined space entry only, agreed with HSE');
  await form.locator('button[type=submit]').click();
  await page.getByRole('button', { name: 'I have noted it' }).click();
  const row = page.locator('tr[data-sn="UI-H2S1"]');
  await row.locator('[data-gas="H2S"]', { hasText: 'Hydrogen sulfide' }).waitFor();
  const logs = await appliance.api('GET', '/api/system/logs?action=device.setpoint_override&target=UI-H2S1', undefined, appliance.adminToken);
  assert.equal(logs.body.data[0].after.reason, 'confined space entry only, agreed with HSE');
});

test('a pending serial is approved through the form with the gas defaults', async () => {
  appliance.app.testApi.recordPendingDevice({ sn: 'UI-PEND1', ts: Date.now(), messages: 2, payload: '{}', remote: '10.0.0.5' });
  await page.reload();
  await page.locator('tr[data-pending="UI-PEND1"] [data-action="approve"]').click();
  const form = page.locator('form[data-form="device"]');
  await form.locator('select[name=gas]').selectOption('CH4');
  assert.equal(await form.locator('select[name=unit]').inputValue(), '%LEL');
  assert.equal(await form.locator('input[name=high_limit]').inputValue(), '25');
  assert.equal(await form.locator('input[name=high2_limit]').inputValue(), '50');
  await form.locator('button[type=submit]').click();
  await page.getByRole('button', { name: 'I have noted it' }).click();
  await page.locator('tr[data-sn="UI-PEND1"] [data-gas="CH4"]').waitFor();
  const device = (await appliance.api('GET', '/api/devices/UI-PEND1', undefined, appliance.adminToken)).body;
  assert.deepEqual([device.gas, device.unit, device.high_limit, device.high2_limit, device.credentials], ['CH4', '%LEL', 25, 50, 'factory']);
});

test('a detector without a setpoint is listed yellow "no alarm setpoint"; a CO value in ppm is also shown in mg/m³', async () => {
  const created = await appliance.api('POST', '/api/devices', { sn: 'UI-CO1', gas: 'CO', unit: 'ppm', high_limit: 17, high2_limit: 34 }, appliance.adminToken);
  assert.equal(created.status, 201);
  const cleared = await appliance.api('PUT', '/api/devices/UI-CO1', { high_limit: null, high2_limit: null, setpoint_override_reason: 'detector under test' }, appliance.adminToken);
  assert.equal(cleared.status, 200);
  const d = createDetector({ sn: 'UI-CO1', url: appliance.mqttUrl, password: created.body.password, intervalMs: 500, reconnectDelayMs: 500 });
  detectors.push(d);
  void d.start();
  const pill = page.locator('tr[data-sn="UI-CO1"] [data-state="unprotected"]');
  await pill.waitFor({ timeout: 10_000 });
  assert.equal(await pill.textContent(), 'no alarm setpoint');
  const colour = await pill.evaluate((el) => getComputedStyle(el).color);
  assert.equal(colour, 'rgb(242, 204, 96)', 'yellow, as the kiosk marker');
  await page.locator('tr[data-sn="UI-CO1"] [data-converted="mg/m3"]').waitFor();
  assert.equal(await page.evaluate(() => document.querySelectorAll('tr[data-sn="UI-CO1"] .pill-ok').length), 0);
});
