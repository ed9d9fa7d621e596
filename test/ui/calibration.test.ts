// Issue 15.2 in headless Chromium against a real appliance on a hand-driven clock: the calibration
// page's due report shows a detector due soon in yellow and one overdue in red (JJG 693-2011
// intervals, CAL_DUE lead time); recording a passing calibration through the form clears the
// overdue state; the CSV export downloads a file with each detector's due date in the site timezone.
// The device page shows the same detector's last calibration, due date and records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatSiteTime } from '../../appliance/contract/site-format.ts';
import { ADMIN_PASSWORD, startApi } from '../helpers/api.ts';
import { ensureUi, FULL_HD, launchBrowser, PHONE, screenshot } from './support.ts';

declare const localStorage: any, getComputedStyle: any;

const DAY = 86_400_000;
const SOON = 'CAL-SOON';
const LATE = 'CAL-LATE';

test('the due report shows due soon in yellow and overdue in red; a passing calibration recorded in the form clears the overdue; the CSV lists the due dates; the device page shows the records', async () => {
  await ensureUi();
  const api = await startApi({ site: { timezone: 'Asia/Shanghai', language: 'en' }, calibration: { interval_days: 365, due_lead_days: 30, bump_test_days: 0 } });
  const browser = await launchBrowser();
  try {
    const registered = api.clock.now();
    for (const sn of [SOON, LATE]) {
      const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn, name: `Detector ${sn}`, gas: 'CH4', unit: '%LEL', high_limit: 20 } });
      assert.equal(created.status, 201, created.text);
    }
    // CAL-LATE is verified every 300 days; CAL-SOON on the site's 365.
    const intervals = await api.call('PUT', `/api/calibration/devices/${LATE}/intervals`, { token: api.tokens.admin, body: { calibration_days: 300, bump_test_days: null } });
    assert.equal(intervals.status, 200, intervals.text);

    // 350 days later: CAL-SOON falls due in 15 days (within the 30-day lead), CAL-LATE is 50 days overdue.
    api.clock.advance(350 * DAY);
    const token = await api.login('admin', ADMIN_PASSWORD); // the first session expired in those days
    const context = await browser.newContext({ viewport: FULL_HD, locale: 'en-GB', acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${api.http}/admin`);
    await page.evaluate((t: string) => localStorage.setItem('mcs.token', t), token);
    await page.goto(`${api.http}/admin/calibration`);

    const dueCell = (sn: string) => page.locator(`table[data-table="calibration"] tr[data-sn="${sn}"] td`).nth(2);
    const dueState = async (sn: string) => dueCell(sn).locator('[data-due]').getAttribute('data-due');
    await dueCell(SOON).locator('[data-due]').waitFor();
    assert.equal(await dueState(SOON), 'due');
    assert.equal(await dueState(LATE), 'overdue');
    assert.match(await dueCell(SOON).innerText(), /due soon/);
    assert.match(await dueCell(LATE).innerText(), /overdue/);
    // Colours as the state pills draw them: yellow (red and green high) for due soon, red for overdue.
    const colour = async (sn: string) => {
      const text: string = await dueCell(sn).locator('.pill').evaluate((el: any) => getComputedStyle(el).color);
      const [r, g, b] = text.match(/\d+/g)!.map(Number);
      return { r, g, b };
    };
    const soon = await colour(SOON);
    const late = await colour(LATE);
    assert.ok(soon.r > 200 && soon.g > 180 && soon.b < 140, `due soon is yellow: ${JSON.stringify(soon)}`);
    assert.ok(late.r > 200 && late.g < 180, `overdue is red: ${JSON.stringify(late)}`);
    // Soonest due first: the overdue detector heads the list.
    assert.deepEqual(await page.locator('table[data-table="calibration"] tbody tr').evaluateAll((rows: any[]) => rows.map((r) => r.dataset.sn)), [LATE, SOON]);
    await screenshot(page, 'calibration-due-report');

    // A passing calibration on CAL-LATE through the form.
    await page.locator(`tr[data-sn="${LATE}"] [data-action="record"]`).click();
    const form = page.locator('form[data-form="calibration"]');
    await form.locator('[name="test_gas"]').fill('CH4 50 %LEL');
    await form.locator('[name="concentration"]').fill('50');
    await form.locator('[name="as_found"]').fill('46');
    await form.locator('[name="as_left"]').fill('50');
    assert.equal(await form.locator('[name="passed"]').isChecked(), true);
    await form.locator('button[type="submit"]').click();
    await form.waitFor({ state: 'detached' });
    const calibratedAt = api.clock.now();
    await page.locator(`tr[data-sn="${LATE}"] td:nth-child(3) [data-due="ok"]`).waitFor();
    assert.equal(await dueState(SOON), 'due', 'the other detector is still due soon');
    const records = await api.call('GET', `/api/calibration/devices/${LATE}`, { token });
    assert.deepEqual(
      records.body.records.map((r: any) => [r.kind, r.passed, r.by, r.test_gas, r.as_found, r.as_left]),
      [['calibration', true, 'admin', 'CH4 50 %LEL', 46, 50]],
    );
    assert.equal(Date.parse(records.body.due.calibration_due_at), calibratedAt + 300 * DAY);
    const alarms = api.app.testApi.alarmRecords({ sn: LATE, type: 'CAL_OVERDUE' }).items;
    assert.ok(alarms.every((a) => a.state !== 'active'), 'no CAL_OVERDUE left active on the calibrated detector');

    // The CSV: each detector's due date, site-local.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-action="calibration-csv"]').click()]);
    assert.match(download.suggestedFilename(), /^calibration-due_.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    const line = (sn: string) => csv.split(/\r?\n/).find((l) => l.startsWith(`${sn},`)) ?? assert.fail(`no ${sn} line in:\n${csv}`);
    assert.match(csv.split(/\r?\n/)[0].replace(/^\uFEFF/, ''), /^Serial,Name,Location,Calibration interval \(days\),Last calibration,Calibration due,Calibration state/);
    assert.ok(line(SOON).includes(`,${formatSiteTime(registered + 365 * DAY, 'Asia/Shanghai')},due soon`), line(SOON));
    assert.ok(line(LATE).includes(`,${formatSiteTime(calibratedAt, 'Asia/Shanghai')},${formatSiteTime(calibratedAt + 300 * DAY, 'Asia/Shanghai')},ok`), line(LATE));
    await context.close();

    // The device page (phone): last calibration, due date, and the record with who and what.
    const phone = await browser.newContext({ viewport: PHONE, locale: 'en-GB', isMobile: true, hasTouch: true });
    const devicePage = await phone.newPage();
    await devicePage.goto(`${api.http}/admin`);
    await devicePage.evaluate((t: string) => localStorage.setItem('mcs.token', t), token);
    await devicePage.goto(`${api.http}/admin/devices/${LATE}`);
    const section = devicePage.locator('[data-section="calibration"]');
    await section.locator('[data-calibration="due"]').waitFor();
    const text = (await section.innerText()).replace(/\s+/g, ' ');
    const shown = (ms: number) => formatSiteTime(ms, 'Asia/Shanghai').slice(0, 16); // the page's 'YYYY-MM-DD HH:mm', site-local
    assert.equal(await section.locator('[data-calibration="due"] [data-due]').getAttribute('data-due'), 'ok');
    assert.match(text, /every 300 days/);
    assert.ok(text.includes(shown(calibratedAt + 300 * DAY)), `the due date in: ${text}`);
    assert.ok(text.includes(shown(calibratedAt)), `the last calibration in: ${text}`);
    const record = section.locator('[data-record]');
    assert.equal(await record.count(), 1);
    assert.match((await record.innerText()).replace(/\s+/g, ' '), /Calibration.*passed.*CH4 50 %LEL.*46.*50.*by admin/);
    await section.scrollIntoViewIfNeeded();
    await screenshot(devicePage, 'device-page-calibration-phone');
    await phone.close();
  } finally {
    await browser.close();
    await api.stop();
  }
});
