// Issue 15.3 (ALM-16, GBZ 2.1-2019) on the kiosk, in Chromium against a real appliance: a CO
// detector with 8 hours of per-minute readings in its SQLite file (10 ppm, then 40 ppm for the last
// 20 minutes); the kiosk, with its own kiosk token (viewer), opens the detector's trend and shows the
// 15-minute and 8-hour averages against PC-STEL / PC-TWA — equal to the hand-computed figures — with
// STEL over its limit and its EXPOSURE_STEL alarm raised by the exposure job. A methane detector's
// trend shows no exposure figures; the device page shows the same figures as the kiosk.
//
// CO (M = 28.01 g/mol, 24.061 L/mol at 20 °C, GBZ 159): PC-STEL 30 mg/m³ = 25.770 ppm,
// PC-TWA 20 mg/m³ = 17.180 ppm.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import type { Browser } from 'playwright-core';
import { MOLAR_VOLUME_L } from '../../appliance/contract/gas.ts';
import { dbFileIn } from '../../appliance/storage/db.ts';
import { FULL_HD, launchBrowser, PHONE, screenshot, startUiAppliance, type UiAppliance } from './support.ts';

declare const localStorage: any;

const CO_SN = 'EXP-CO-1';
const CH4_SN = 'EXP-CH4-1';
const MIN = 60_000;
const HIGH_MINUTES = 20; // 40 ppm in the last 20 per-minute readings
const ppmOfMg = (mg: number) => (mg * MOLAR_VOLUME_L) / 28.01;
const PC_STEL_PPM = ppmOfMg(30);
const PC_TWA_PPM = ppmOfMg(20);

let appliance: UiAppliance;
let browser: Browser;
let kioskUrl: string;
/** The first reading at 40 ppm (UTC ms, a minute start). */
let highFrom = 0;

/**
 * The hand-computed averages at `at` (GBZ 159: Σ C·T over the whole window): each per-minute value
 * stands until the next one; 10 ppm before `highFrom`, 40 ppm from it to `at`.
 */
function expected(at: number) {
  const highMin = (at - highFrom) / MIN;
  return { stel: 40, twa: (10 * (480 - highMin) + 40 * highMin) / 480 };
}

/** One reading a minute for the last 8 h 10 min, written as the writer stores them (ppm × 100). */
function seedReadings(now: number) {
  const db = new Database(dbFileIn(appliance.dataDir));
  db.pragma('busy_timeout = 5000');
  const lastMinute = Math.floor(now / MIN) * MIN;
  highFrom = lastMinute - (HIGH_MINUTES - 1) * MIN; // the last of them stands until now
  db.transaction(() => {
    db.prepare('INSERT OR IGNORE INTO serials (sn) VALUES (?)').run(CO_SN);
    const id = (db.prepare('SELECT id FROM serials WHERE sn = ?').get(CO_SN) as { id: number }).id;
    const insert = db.prepare('INSERT INTO readings (sn_id, ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
    for (let ts = lastMinute - 490 * MIN, seq = 1; ts <= lastMinute; ts += MIN, seq++) {
      const ppm = ts >= highFrom ? 40 : 10;
      insert.run(id, ts, ppm * 100, ppm * 100, 2500, 4500, 90, -70, seq, 0, 0, 150);
    }
  })();
  db.close();
}

before(async () => {
  appliance = await startUiAppliance();
  browser = await launchBrowser();
  const token = appliance.adminToken;
  for (const body of [
    { sn: CO_SN, name: 'Boiler house CO', location: 'Boiler house', gas: 'CO', unit: 'ppm', high_limit: 17, high2_limit: 34, calib: { k: 1, b: 0 } },
    { sn: CH4_SN, name: 'Compressor CH4', location: 'Compressor hall', gas: 'CH4', unit: '%LEL', high_limit: 20, high2_limit: 40 },
  ]) {
    const created = await appliance.api('POST', '/api/devices', body, token);
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  seedReadings(Date.now());
  // The exposure job (every minute) judges now rather than at the next minute: EXPOSURE_STEL raised.
  const outcome = await appliance.app.testApi.runJob('exposure');
  assert.equal(outcome.ok, true, outcome.error);
  await appliance.app.testApi.flush();
  assert.ok(appliance.app.testApi.activeAlarms().some((a) => a.sn === CO_SN && a.type === 'EXPOSURE_STEL'), 'the STEL alarm raised');
  const kiosk = await appliance.api('POST', '/api/auth/kiosk-tokens', { name: 'boiler house' }, token);
  assert.equal(kiosk.status, 201, JSON.stringify(kiosk.body));
  kioskUrl = `${appliance.http}/dashboard?token=${encodeURIComponent(kiosk.body.token)}`;
});

after(async () => {
  await browser?.close();
  await appliance?.dispose();
});

test('the kiosk trend of a CO detector shows STEL and TWA against PC-STEL and PC-TWA, equal to the hand-computed averages; methane shows none', async () => {
  const page = await browser.newPage({ viewport: FULL_HD, locale: 'en-GB' });
  await page.goto(kioskUrl);
  await page.locator('.kiosk[data-link="live"]').waitFor({ timeout: 10_000 });
  await page.locator(`.kiosk-unplaced .marker[data-sn="${CO_SN}"]`).click();
  const trend = page.locator(`.kiosk-trend[data-trend="${CO_SN}"][data-exposure-state="watched"]`);
  await trend.waitFor({ timeout: 10_000 });
  const now = Date.now();
  const hand = expected(now);

  const stel = trend.locator('[data-exposure="stel"]');
  const twa = trend.locator('[data-exposure="twa"]');
  const number = async (row: typeof stel, attribute: string) => Number(await row.getAttribute(attribute));
  assert.ok(Math.abs((await number(stel, 'data-average')) - hand.stel) < 0.005, `STEL ${await stel.getAttribute('data-average')} ≠ ${hand.stel}`);
  assert.ok(Math.abs((await number(twa, 'data-average')) - hand.twa) < 0.01, `TWA ${await twa.getAttribute('data-average')} ≠ ${hand.twa}`);
  assert.ok(Math.abs((await number(stel, 'data-limit')) - PC_STEL_PPM) < 0.001, 'PC-STEL in ppm');
  assert.ok(Math.abs((await number(twa, 'data-limit')) - PC_TWA_PPM) < 0.001, 'PC-TWA in ppm');
  // As people read it: the figures, their limits by name, over or the share of the limit.
  const text = async (row: typeof stel) => (await row.innerText()).replace(/\s+/g, ' ');
  assert.match(await text(stel), /STEL, 15 min 40 \/ 25\.77 ppm PC-STEL/);
  assert.match(await text(stel), /EXPOSURE ALARM: over PC-STEL ≈ 46\.5[67] mg\/m³/, '40 ppm × 28.01 / 24.061 = 46.565 mg/m³');
  assert.equal(await stel.getAttribute('data-over'), 'true');
  assert.equal(await stel.getAttribute('data-alarm'), 'true');
  assert.match(await stel.getAttribute('class') ?? '', /\bover\b/);
  assert.match(await text(twa), new RegExp(`TWA, 8 h 11\\.\\d\\d? / 17\\.18 ppm PC-TWA ${Math.round((hand.twa / PC_TWA_PPM) * 100)} % of PC-TWA`));
  assert.equal(await twa.getAttribute('data-over'), 'false');
  assert.ok(!/\bover\b/.test(await twa.getAttribute('class') ?? ''));
  await page.locator('.kiosk-alarms .alarm-item', { hasText: 'Boiler house CO' }).waitFor();
  await screenshot(page, 'kiosk-trend-exposure-1920');

  // Methane (flammable, % LEL): no exposure limits, nothing shown once its figures have been read.
  const answered = page.waitForResponse((response) => response.url().includes(`/api/devices/${CH4_SN}/exposure`));
  await page.locator(`.kiosk-unplaced .marker[data-sn="${CH4_SN}"]`).click();
  assert.equal((await answered).status(), 200);
  await page.locator(`.kiosk-trend[data-trend="${CH4_SN}"][data-exposure-state="not-watched"]`).waitFor();
  assert.equal(await page.locator('.kiosk-trend .exposure').count(), 0);
  await page.close();
});

test('the device page on a phone shows the same exposure figures', async () => {
  const page = await (await browser.newContext({ viewport: PHONE, locale: 'en-GB', isMobile: true, hasTouch: true })).newPage();
  await page.goto(`${appliance.http}/admin`);
  await page.evaluate((token: string) => localStorage.setItem('mcs.token', token), appliance.adminToken);
  await page.goto(`${appliance.http}/admin/devices/${CO_SN}`);
  const section = page.locator('[data-section="exposure"][data-available="true"]');
  await section.locator('[data-exposure="stel"]').waitFor();
  const hand = expected(Date.now());
  assert.ok(Math.abs(Number(await section.locator('[data-exposure="stel"]').getAttribute('data-average')) - hand.stel) < 0.005);
  assert.ok(Math.abs(Number(await section.locator('[data-exposure="twa"]').getAttribute('data-average')) - hand.twa) < 0.01);
  assert.equal(await section.locator('[data-exposure="stel"]').getAttribute('data-alarm'), 'true');
  await page.goto(`${appliance.http}/admin/devices/${CH4_SN}`);
  await page.locator('[data-section="exposure"] [data-exposure="not-watched"]').waitFor();
  await page.context().close();
});
