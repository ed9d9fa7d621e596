// Issue 16.10/16.11 in headless Chromium against a real appliance: a refused device form names the
// field in words in English and Chinese; Esc closes a dialog; leaving an editor with unsaved
// changes asks first; the copy buttons put the secret on the clipboard (Clipboard API, and the
// select + execCommand fallback used on plain http://<LAN address>); the floor plan loads with no
// JWT in any image URL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { floorPlanPng, FULL_HD, launchBrowser, signInAsAdmin, startUiAppliance, type UiAppliance } from './support.ts';

/** A floor plan's image: each plan has its own (issue 15.8), the first one also at the old address. */
const PLAN_IMAGE = /\/api\/config\/dashboard\/(plans\/\d+\/)?bg\b/;

// Browser globals inside page.evaluate() callbacks (the test project has no DOM lib).
declare const navigator: any, localStorage: any, window: any, document: any;

let appliance: UiAppliance;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requested: string[] = [];
const imageGets: string[] = [];
const imageStatuses: number[] = [];

before(async () => {
  appliance = await startUiAppliance();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: FULL_HD, locale: 'en-GB', permissions: ['clipboard-read', 'clipboard-write'] });
  page = await context.newPage();
  page.on('request', (request) => {
    requested.push(request.url());
    if (request.method() === 'GET' && PLAN_IMAGE.test(request.url())) imageGets.push(request.url());
  });
  page.on('response', (response) => {
    if (response.request().method() === 'GET' && PLAN_IMAGE.test(response.url())) imageStatuses.push(response.status());
  });
  await signInAsAdmin(page, appliance);
});

after(async () => {
  await browser?.close();
  await appliance?.dispose();
});

async function openAddDevice() {
  await page.click('[data-nav="devices"]');
  await page.click('[data-action="add-device"]');
  return page.locator('form[data-form="device"]');
}

const readClipboard = () => page.evaluate(() => navigator.clipboard.readText() as Promise<string>);

test('a refused device form names the field in words and says what is allowed, in English and in Chinese', async () => {
  const form = await openAddDevice();
  await form.locator('input[name=sn]').fill('broadcast');
  await form.locator('input[name=high_limit]').fill('1000');
  await form.locator('button[type=submit]').click();
  const error = form.locator('.notice-error');
  await error.waitFor();
  const english = (await error.textContent())!;
  assert.match(english, /Serial number must be 1 to 32 letters, digits or _ \. : - starting with a letter or digit, and not “broadcast”/);
  assert.doesNotMatch(english, /body\/sn|Expected|\^\(|\(\?!/, 'no raw path, TypeBox text or regular expression');

  const switchLanguage = () => page.evaluate(() => document.querySelector('.lang-switch').click()); // under the dialog's backdrop
  await switchLanguage();
  await form.locator('button[type=submit]').click();
  await error.filter({ hasText: '设备编号' }).waitFor();
  const chinese = (await error.textContent())!;
  assert.match(chinese, /设备编号须为1–32 位字母、数字或 _ \. : -，以字母或数字开头，且不能是 “broadcast”/);
  assert.doesNotMatch(chinese, /must|Expected|invalid/i, 'no English in the Chinese sentence');
  await switchLanguage(); // back to English
  page.once('dialog', (dialog) => void dialog.accept()); // the form has changes: leaving asks
  await page.keyboard.press('Escape');
  await form.waitFor({ state: 'detached' });
});

test('Esc closes a dialog, also when pressed the moment it shows', async () => {
  let asked = false;
  const onDialog = () => (asked = true);
  page.on('dialog', onDialog);
  // Pressed as soon as the dialog is there, before the browser's next frame: Esc was once lost here
  // (the handler waited for a frame). Ten times, because one press could fall after the frame.
  for (let i = 0; i < 10; i++) {
    const form = await openAddDevice();
    await form.waitFor();
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached', timeout: 2000 });
  }
  page.off('dialog', onDialog);
  assert.equal(asked, false, 'an untouched form closes without a question');
});

test('leaving an editor with unsaved changes asks first; refusing keeps the changes', async () => {
  // A dialog's form: Esc with a change asks; "Cancel" keeps it open with what was typed.
  const form = await openAddDevice();
  await form.locator('input[name=name]').fill('Boiler room');
  const questions: string[] = [];
  page.once('dialog', (dialog) => (questions.push(dialog.message()), void dialog.dismiss()));
  await page.keyboard.press('Escape');
  await page.waitForTimeout(200);
  assert.deepEqual(questions, ['You have unsaved changes. Leave without saving them?']);
  assert.equal(await form.locator('input[name=name]').inputValue(), 'Boiler room');
  page.once('dialog', (dialog) => void dialog.accept());
  await page.keyboard.press('Escape');
  await form.waitFor({ state: 'detached' });

  // A page: the alarm channels with a changed field; moving to another page asks.
  await page.click('[data-nav="channels"]');
  const debounce = page.locator('input[name=debounce_min]');
  await debounce.fill('15');
  page.once('dialog', (dialog) => (questions.push(dialog.message()), void dialog.dismiss()));
  await page.click('[data-nav="devices"]');
  await page.waitForTimeout(200);
  assert.equal(questions.length, 2);
  assert.match(page.url(), /\/admin\/channels$/, 'still on the channels page');
  assert.equal(await debounce.inputValue(), '15');
  // Saved, nothing is asked any more.
  await page.click('[data-action="save-channels"]');
  await page.getByText('Saved.').waitFor();
  await page.click('[data-nav="devices"]');
  await page.locator('[data-action="add-device"]').waitFor();
  assert.equal(questions.length, 2);
});

test('the alarm channels page labels its fields in words and the save button is where the form ends', async () => {
  await page.click('[data-nav="channels"]');
  const email = page.locator('[data-channel="email"]');
  await email.locator('.field-label', { hasText: 'SMTP server' }).waitFor();
  const labels = await page.locator('[data-channel] .field-label, [data-channel] label.check').allTextContents();
  for (const raw of ['host', 'tls_verify', 'at_mobiles', 'access_key_id']) assert.ok(!labels.some((l) => l.trim() === raw), `no raw key ${raw} as a label`);
  const save = await page.locator('[data-action="save-channels"]').boundingBox();
  const lastCard = await page.locator('[data-channel]').last().boundingBox();
  assert.ok(save!.y > lastCard!.y + lastCard!.height - 1, 'the save button comes after the last channel');
  assert.equal(await page.locator('input[name="schedule.start"]').getAttribute('type'), null, 'a 24-hour text field, not the browser\'s AM/PM time picker');
});

test('copy buttons put a one-time secret on the clipboard: the Clipboard API, and the fallback without it', async () => {
  await page.click('[data-nav="users"]');
  await page.fill('input[name=kiosk_name]', 'control room');
  await page.click('[data-section="kiosk-tokens"] button[type=submit]');
  const link = await page.locator('[data-kiosk-link] input').inputValue();
  assert.match(link, /\/dashboard\?token=/);
  await page.click('[data-kiosk-link] [data-action="copy"]');
  await page.locator('[data-kiosk-link] [data-copy-state="copied"]').waitFor();
  assert.equal(await readClipboard(), link);

  // Plain http on the LAN has no navigator.clipboard: the button selects and copies the old way.
  const created = await appliance.api('POST', '/api/devices', { sn: 'COPY-1', high_limit: 1000 }, appliance.adminToken);
  assert.equal(created.status, 201);
  await page.evaluate(() => {
    window.readClipboardLater = navigator.clipboard.readText.bind(navigator.clipboard);
    Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
  });
  await page.click('[data-nav="devices"]');
  await page.locator('tr[data-sn="COPY-1"]').waitFor();
  page.once('dialog', (dialog) => void dialog.accept()); // "give COPY-1 a new password?"
  await page.locator('tr[data-sn="COPY-1"] [data-action="reset"]').click();
  const password = (await page.locator('[data-credentials="COPY-1"] [data-password]').textContent())!.trim();
  await page.click('[data-credentials="COPY-1"] [data-action="copy"]');
  await page.locator('[data-credentials="COPY-1"] [data-copy-state="copied"]').waitFor();
  assert.equal(await page.evaluate(() => window.readClipboardLater() as Promise<string>), password);
  await page.keyboard.press('Escape');
});

test('the floor plan loads with no JWT in its URL', async () => {
  await page.click('[data-nav="editor"]');
  await page.locator('input[name=background]').setInputFiles({ name: 'plan.png', mimeType: 'image/png', buffer: await floorPlanPng(browser) });
  await page.getByText('Floor plan uploaded.').waitFor();
  await page.waitForFunction(() => window.getComputedStyle(document.querySelector('.editor-plan .plan-layer')).backgroundImage.includes('/api/config/dashboard/plans/'));
  for (let i = 0; i < 50 && !imageStatuses.length; i++) await page.waitForTimeout(100);
  assert.deepEqual([...new Set(imageStatuses)], [200], 'the image loaded');
  const token = await page.evaluate(() => Object.values(localStorage).find((v: any) => typeof v === 'string' && v.startsWith('eyJ')) as string);
  assert.ok(token, 'the session token is in the page');
  assert.ok(imageGets.length > 0);
  for (const url of imageGets) {
    assert.ok(!url.includes(token) && !url.includes('token='), `no token in ${url}`);
    assert.match(url, /[?&]sig=/);
  }
  assert.ok(requested.every((u) => !u.includes(token)), 'the JWT is in no URL the admin page requested');
});

test('the audit view shows a change as field: old → new in words, not raw JSON', async () => {
  await page.click('[data-nav="audit"]');
  const row = page.locator('[data-table="audit"] tr', { hasText: 'config.alarm' }).first();
  const change = row.locator('.changes li[data-field="debounce_min"]');
  await change.waitFor();
  assert.equal((await change.textContent())!.trim(), 'Debounce, minutes: 10 → 15', 'only the changed field, labelled, before → after');
  assert.doesNotMatch((await row.locator('td.change').textContent())!, /[{}"]/, 'no raw JSON');
  const login = page.locator('[data-table="audit"] tr', { hasText: 'auth.login' }).first();
  await login.waitFor();
});
