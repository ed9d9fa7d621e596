// Issue 17.7 in headless Chromium against the real appliance and a real Mosquitto (TLS with a
// test CA, a password): Admin → System → Cloud sync is off by default; an MQTT target added in the
// form is refused first with the problem at its field in words (English and Chinese), tested,
// saved, and its card shows it connected with its figures; pause and resume ask first and hold.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startMosquitto, type TestMosquitto } from '../helpers/mosquitto.ts';
import { FULL_HD, launchBrowser, screenshot, signInAsAdmin, startUiAppliance, type UiAppliance } from './support.ts';

// Browser globals inside page.evaluate() callbacks (the test project has no DOM lib).
declare const document: any;

let appliance: UiAppliance;
let mosquitto: TestMosquitto;
let browser: Browser;
let page: Page;

before(async () => {
  mosquitto = await startMosquitto({ users: { 'plant-7': 'broker-pass-1' } });
  appliance = await startUiAppliance();
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' })).newPage();
  await signInAsAdmin(page, appliance);
});

after(async () => {
  await browser?.close();
  await appliance?.dispose();
  await mosquitto?.stop();
});

/** Accepts (or dismisses) the next confirm() and gives its text. */
function nextDialog(accept: boolean): Promise<string> {
  return new Promise((resolve) => page.once('dialog', (dialog) => {
    resolve(dialog.message());
    void (accept ? dialog.accept() : dialog.dismiss());
  }));
}
const switchLanguage = () => page.evaluate(() => document.querySelector('.lang-switch').click()); // also under a dialog's backdrop

test('an MQTT target is added in the form (a refused save says why at the field), saved, shown connected, paused and resumed', async () => {
  await page.click('[data-nav="system"]');
  await page.click('[data-tab="cloud-sync"]');
  assert.match((await page.locator('[data-empty]').textContent())!, /Cloud sync is off: the box runs fully offline/);
  const boxId = (await page.locator('[data-section="box-id"] [data-box-id]').textContent())!;
  assert.match(boxId, /^box-[0-9a-f]{12}$/);

  await page.click('[data-action="add-mqtt"]');
  const form = page.locator('form[data-form="uplink-target"]');
  await form.locator('[name="target.name"]').fill('Cloud broker');
  await form.locator('[name="target.url"]').fill(`mqtts://127.0.0.1:${mosquitto.tlsPort}`);
  await form.locator('[name="target.username"]').fill('plant-7');
  await form.locator('[name="target.password"]').fill('broker-pass-1');
  await form.locator('[name="target.ca"]').fill(mosquitto.pki.ca);
  await form.locator('[name="target.topic_template"]').fill('plants/{box}/+/{kind}');
  await form.locator('[data-action="save-target"]').click();
  const fieldError = form.locator('[data-field-error="topic_template"]');
  await fieldError.waitFor();
  assert.equal(await fieldError.textContent(), 'Topic template ({box}, {kind}, {sn}) must not contain the MQTT wildcards + or #, nor start with $');
  assert.match((await form.locator('.notice-error').textContent())!, /^Invalid cloud sync settings: Topic template/);
  await screenshot(page, 'cloud-sync-form');
  await switchLanguage();
  await form.locator('[data-action="save-target"]').click();
  await fieldError.filter({ hasText: '主题模板' }).waitFor();
  assert.equal(await fieldError.textContent(), '主题模板（{box}、{kind}、{sn}）不能包含 MQTT 通配符 + 或 #，也不能以 $ 开头');
  await switchLanguage(); // back to English

  await form.locator('[name="target.topic_template"]').fill('plants/{box}/{kind}');
  await form.locator('[data-action="test-form"]').click();
  const tested = form.locator('[data-test-result]');
  await tested.waitFor({ timeout: 15_000 });
  assert.equal(await tested.getAttribute('data-test-result'), 'ok', (await tested.textContent())!);
  await form.locator('[data-action="save-target"]').click();
  await form.waitFor({ state: 'detached' });

  const card = page.locator('[data-target="mqtt-1"]');
  await card.locator('[data-state="connected"]').waitFor({ timeout: 15_000 }); // the page polls every 2 s
  assert.equal(await card.locator('[data-name]').textContent(), 'Cloud broker');
  assert.match((await card.locator('[data-state]').textContent())!, /connected/);
  assert.deepEqual(await card.locator('[data-lane]').evaluateAll((rows) => rows.map((r: any) => r.dataset.lane)), ['alarm', 'device', 'live', 'backfill']);
  assert.match((await card.locator('[data-figure="today"]').textContent())!, /records ·/);
  await mosquitto.waitForLog(/New client connected from 127\.0\.0\.1.*u'plant-7'/, 10_000);
  const saved = await appliance.api('GET', '/api/config/uplink', undefined, appliance.adminToken);
  assert.equal(saved.body.targets[0].password, '******');
  assert.equal(saved.body.targets[0].topic_template, 'plants/{box}/{kind}');
  await screenshot(page, 'cloud-sync');

  // Pause asks first; "no" changes nothing, "yes" pauses and it stays paused.
  const pause = card.locator('[data-action="pause"]');
  const dismissed = nextDialog(false);
  await pause.click();
  assert.match(await dismissed, /^Pause sending to Cloud broker\?/);
  assert.equal((await appliance.api('GET', '/api/config/uplink', undefined, appliance.adminToken)).body.targets[0].paused, false);
  const accepted = nextDialog(true);
  await pause.click();
  await accepted;
  await card.locator('[data-state="paused"]').waitFor();
  const status = await appliance.api('GET', '/api/system/uplink', undefined, appliance.adminToken);
  assert.equal(status.body.targets[0].paused, true);
  assert.equal((await appliance.api('GET', '/api/config/uplink', undefined, appliance.adminToken)).body.targets[0].paused, true);

  const resumed = nextDialog(true);
  await card.locator('[data-action="resume"]').click();
  assert.match(await resumed, /^Resume sending to Cloud broker\?/);
  await card.locator('[data-state="connected"]').waitFor({ timeout: 15_000 });
  const audit = await appliance.api('GET', '/api/system/logs?action=uplink.', undefined, appliance.adminToken);
  assert.deepEqual(audit.body.data.map((e: { action: string }) => e.action), ['uplink.resume', 'uplink.pause']);
});

test('Esc closes the target dialog, asking first when something was changed', async () => {
  const card = page.locator('[data-target="mqtt-1"]');
  const form = page.locator('form[data-form="uplink-target"]');
  // Esc the moment the dialog shows (it was once lost before the browser's next frame); nothing changed: no question.
  await card.locator('[data-action="edit"]').click();
  await form.waitFor();
  await page.keyboard.press('Escape');
  await form.waitFor({ state: 'detached', timeout: 2000 });

  await card.locator('[data-action="edit"]').click();
  assert.equal(await form.locator('[name="target.password"]').inputValue(), '******', 'the secret is shown masked');
  assert.equal(await form.locator('[name="target.id"]').isDisabled(), true, 'the id stays: the target’s progress is kept under it');
  await form.locator('[name="target.inflight"]').fill('8');
  const kept = nextDialog(false);
  await page.keyboard.press('Escape');
  await kept;
  assert.equal(await form.count(), 1, 'still open after "no"');
  const left = nextDialog(true);
  await page.keyboard.press('Escape');
  await left;
  await form.waitFor({ state: 'detached' });
});
