// Issue 15 admin leftovers end to end in headless Chromium against a real appliance: masking
// (屏蔽, ISA-18.2 shelving) from the device list — one detector with a reason, several selected —
// shows MASKED with the minutes left, the API lists the masks, a mask longer than the maximum is
// refused in words, unmasking removes the badge, the device page shows it too, and a viewer sees no
// mask buttons; the kiosk's plan rotation (rotate_s) saves; an output module is added through the
// form without gas or setpoints; an alarm's journal downloads as CSV.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { createDetector, type Detector } from '../../simulator/detector.ts';
import { createScenario } from '../../simulator/scenarios.ts';
import { FULL_HD, launchBrowser, signInAsAdmin, signInAsNewViewer, startUiAppliance, type UiAppliance } from './support.ts';

let appliance: UiAppliance;
let browser: Browser;
let admin: Page;
const detectors: Detector[] = [];
const [ONE, TWO, THREE] = ['MSK-001', 'MSK-002', 'MSK-003'];
const LEAK = 'MSK-LEAK';
const OUTPUT = 'OUT-001';

const masksNow = async () => (await appliance.api('GET', '/api/masks', undefined, appliance.adminToken)).body as { data: { sn: string; reason: string; until: string }[] };

before(async () => {
  appliance = await startUiAppliance();
  for (const sn of [ONE, TWO, THREE]) {
    const created = await appliance.api('POST', '/api/devices', { sn, name: `Detector ${sn}`, high_limit: 1000 }, appliance.adminToken);
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  browser = await launchBrowser();
  admin = await (await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' })).newPage();
  await signInAsAdmin(admin, appliance);
});

after(async () => {
  await Promise.all(detectors.map((d) => d.stop()));
  await browser?.close();
  await appliance?.dispose();
});

test('an operator masks a detector from the list with a reason: MASKED with minutes left, listed by the API; unmasked, the badge goes', async () => {
  await admin.click('[data-nav="devices"]');
  const row = admin.locator(`tr[data-sn="${ONE}"]`);
  await row.locator('[data-action="mask"]').click();
  const dialog = admin.locator('form[data-form="mask"]');
  assert.equal(await dialog.locator('input[name=minutes]').inputValue(), '30', 'the default length comes from the masking settings');
  await dialog.locator('select[name=reason]').selectOption('calibration');
  await dialog.locator('input[name=minutes]').fill('481');
  await dialog.locator('[data-action="mask-confirm"]').click();
  await dialog.locator('[data-error="mask"]', { hasText: 'A mask lasts between 1 and 480 minutes.' }).waitFor();
  assert.equal((await masksNow()).data.length, 0, 'nothing masked past the maximum');

  await dialog.locator('input[name=minutes]').fill('15');
  await dialog.locator('[data-action="mask-confirm"]').click();
  const badge = row.locator(`.pill-masked[data-masked="${ONE}"]`);
  await badge.waitFor();
  const left = Number(await badge.getAttribute('data-mask-left'));
  assert.ok(left >= 14 && left <= 15, `a 15 min mask: ${left} min left`);
  assert.match((await badge.textContent())!, /^MASKED · 1[45] min left$/);
  const masks = await masksNow();
  assert.deepEqual(masks.data.map((m) => [m.sn, m.reason]), [[ONE, 'calibration']]);
  const minutes = (Date.parse(masks.data[0].until) - Date.now()) / 60_000;
  assert.ok(minutes > 14 && minutes <= 15, `until ${masks.data[0].until}`);
  assert.equal(await admin.locator(`tr[data-sn="${TWO}"] .pill-masked`).count(), 0, 'the others are not masked');

  admin.once('dialog', (d) => void d.accept());
  await row.locator('[data-action="unmask"]').click();
  await row.locator('[data-action="mask"]').waitFor();
  assert.equal(await row.locator('.pill-masked').count(), 0);
  assert.equal((await masksNow()).data.length, 0);
  const audit = (await appliance.api('GET', '/api/system/logs?size=50', undefined, appliance.adminToken)).body as { data: { action: string }[] };
  assert.ok(['device.mask', 'device.unmask'].every((a) => audit.data.some((entry) => entry.action === a)), 'both audited');
});

test('several selected detectors are masked at once with a reason in words; the device page shows the mask and unmasks', async () => {
  await admin.locator(`tr[data-sn="${TWO}"] input[name=select]`).check();
  await admin.locator(`tr[data-sn="${THREE}"] input[name=select]`).check();
  await admin.click('[data-action="mask-selected"]');
  const dialog = admin.locator('form[data-form="mask"]');
  await dialog.locator('select[name=reason]').selectOption('other');
  await dialog.locator('[data-action="mask-confirm"]').click();
  await dialog.locator('[data-error="mask"]', { hasText: 'Say why the detector is masked.' }).waitFor();
  await dialog.locator('input[name=reason_text]').fill('sensor head swap');
  await dialog.locator('input[name=minutes]').fill('40');
  await dialog.locator('[data-action="mask-confirm"]').click();
  for (const sn of [TWO, THREE]) await admin.locator(`tr[data-sn="${sn}"] .pill-masked`).waitFor();
  assert.deepEqual((await masksNow()).data.map((m) => [m.sn, m.reason]).sort(), [[TWO, 'sensor head swap'], [THREE, 'sensor head swap']]);
  assert.equal(await admin.locator('[data-action="mask-selected"]').count(), 0, 'the selection is cleared');

  await admin.locator(`tr[data-sn="${TWO}"] [data-action="open-device"]`).click();
  const page = admin.locator(`[data-device="${TWO}"]`);
  const badge = page.locator('.device-state .pill-masked');
  await badge.waitFor();
  const left = Number(await badge.getAttribute('data-mask-left'));
  assert.ok(left >= 39 && left <= 40, `${left} min left`);
  admin.once('dialog', (d) => void d.accept());
  await page.locator('[data-action="unmask"]').click();
  await page.locator('[data-action="mask"]').waitFor();
  assert.equal(await page.locator('.pill-masked').count(), 0);
  assert.deepEqual((await masksNow()).data.map((m) => m.sn), [THREE]);
});

test('a viewer sees the MASKED badge but no mask buttons', async () => {
  const page = await signInAsNewViewer(browser, appliance, 'watcher');
  await page.click('[data-nav="devices"]');
  await page.locator(`tr[data-sn="${THREE}"] .pill-masked`).waitFor();
  for (const action of ['mask', 'unmask', 'mask-selected']) assert.equal(await page.locator(`[data-action="${action}"]`).count(), 0, action);
  assert.equal(await page.locator('input[name=select]').count(), 0, 'no selection for a viewer');
  await page.goto(`${appliance.http}/admin/devices/${THREE}`);
  await page.locator(`[data-device="${THREE}"] .pill-masked`).waitFor();
  assert.equal(await page.locator('[data-action="mask"], [data-action="unmask"]').count(), 0);
  await page.context().close();
});

test('the kiosk plan rotation (rotate_s) is saved from the kiosk settings', async () => {
  await admin.click('[data-nav="editor"]');
  const form = admin.locator('form[data-form="kiosk-settings"]');
  assert.equal(await form.locator('input[name=rotate_s]').inputValue(), '0', 'no rotation by default');
  await form.locator('input[name=rotate_s]').fill('45');
  await form.locator('button[type=submit]').click();
  await form.getByText('Saved.').waitFor();
  assert.equal((await appliance.api('GET', '/api/config/dashboard', undefined, appliance.adminToken)).body.rotate_s, 45);
  await admin.reload();
  assert.equal(await admin.locator('form[data-form="kiosk-settings"] input[name=rotate_s]').inputValue(), '45');
});

test('an output module is added through the form without gas or setpoints', async () => {
  await admin.click('[data-nav="devices"]');
  await admin.click('[data-action="add-device"]');
  const form = admin.locator('form[data-form="device"]');
  await form.locator('select[name=kind]').selectOption('output');
  for (const field of ['gas', 'unit', 'range_max', 'high_limit', 'high2_limit', 'low_limit', 'k']) {
    assert.equal(await form.locator(`[name=${field}]`).count(), 0, `${field} hidden for an output module`);
  }
  assert.equal(await form.locator('[data-warning="no-setpoint"]').count(), 0, 'no setpoint warning for an output module');
  await form.locator('input[name=sn]').fill(OUTPUT);
  await form.locator('input[name=name]').fill('Fan relay box');
  await form.locator('button[type=submit]').click();
  await admin.locator(`[data-credentials="${OUTPUT}"]`).waitFor();
  await admin.getByRole('button', { name: 'I have noted it' }).click();
  await admin.locator(`tr[data-sn="${OUTPUT}"] [data-kind="output"]`).waitFor();
  const device = (await appliance.api('GET', `/api/devices/${OUTPUT}`, undefined, appliance.adminToken)).body;
  assert.equal(device.kind, 'output');
  assert.equal(device.high_limit, null);
  assert.equal(await admin.locator(`tr[data-sn="${OUTPUT}"] [data-action="mask"]`).count(), 0, 'an output module is not masked');

  await admin.locator(`tr[data-sn="${OUTPUT}"] [data-action="edit"]`).click();
  assert.equal(await admin.locator('form[data-form="device"] select[name=kind]').count(), 0, 'the kind is fixed once registered');
  await admin.locator('form[data-form="device"]').getByRole('button', { name: 'Cancel' }).click();
});

test("an alarm's journal downloads as CSV from its page", async () => {
  const created = await appliance.api('POST', '/api/devices', { sn: LEAK, name: 'Gas store', high_limit: 1000 }, appliance.adminToken);
  const detector = createDetector({
    sn: LEAK, url: appliance.mqttUrl, password: created.body.password, intervalMs: 1000, reconnectDelayMs: 500,
    scenario: createScenario('leak', { highLimit: 1000, leakStartS: 1, leakRampS: 2, leakHoldS: 900 }),
  });
  detectors.push(detector);
  void detector.start();
  let id: number | null = null;
  for (let i = 0; i < 100 && id === null; i++) {
    const alarms = (await appliance.api('GET', `/api/alarms?sn=${LEAK}`, undefined, appliance.adminToken)).body as { data: { id: number }[] };
    id = alarms.data[0]?.id ?? null;
    if (id === null) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(id !== null, 'the leak raised an alarm');

  await admin.goto(`${appliance.http}/admin/alarms/${id}`);
  await admin.locator(`[data-alarm-id="${id}"]`).waitFor();
  const [download] = await Promise.all([admin.waitForEvent('download'), admin.click('[data-action="journal-csv"]')]);
  assert.equal(download.suggestedFilename(), `alarm-${id}_journal.csv`);
  const csv = await readFile((await download.path())!, 'utf8');
  const served = (await appliance.api('GET', `/api/alarms/${id}/journal.csv`, undefined, appliance.adminToken)).body as string;
  const lines = csv.trim().split(/\r?\n/);
  assert.equal(lines[0], served.trim().split(/\r?\n/)[0], 'the journal CSV header');
  assert.ok(lines.length >= 2, csv);
  assert.match(lines[1], new RegExp(LEAK));
});
