// The README's screenshots of the alarm screens (issue 14), made again from scratch: a real
// appliance in a temp dir, three detectors on MQTT driven into each state, a local webhook that
// takes the notifications, and Chromium. Not a test (`npm test` does not run it):
//
//   node --import tsx test/ui/screenshots.ts [output dir, default docs/screenshots]
//
// kiosk-sound-alarm-1920.png     a level-1 leak: red flashing marker, first alarm, SILENCE sounding
// kiosk-sound-silenced-1920.png  the same after SILENCE (消音), until the next new alarm
// kiosk-sound-fault-1920.png     a sensor fault (err 50): yellow, ERR, never ALARM
// kiosk-sound-off-1920.png       a browser that blocks autoplay: SOUND OFF until a tap
// admin-alarms-1920.png          the admin alarm list: priority, level, ISA state, name and location
// admin-alarm-journal-1920.png   one episode's journal: raised, silence, level 2, notifications, acknowledgement, clear
// admin-device-page-phone.png    issue 15.6: a CO detector's page on a phone (390×844), the whole page: value,
//                                setpoints, battery, signal, temperature, humidity, firmware, loss, skew, alarms,
//                                calibration records and exposure (STEL/TWA against PC-STEL/PC-TWA)
// admin-data-query-zoomed-1920.png  issue 15.7: the two tanks on one chart, zoomed from 3 days to the last
//                                half hour (10 s buckets): Tank A's alarm episode shaded, the setpoints dashed
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { dbFileIn } from '../../appliance/storage/db.ts';
import { connectDevice, publishReading, ROOT, type Reading } from '../helpers/appliance.ts';
import { CHROMIUM, CHROMIUM_ARGS, floorPlanPng, FULL_HD, launchBrowser, PHONE, startUiAppliance, type UiAppliance } from './support.ts';

// Browser globals inside page.evaluate() callbacks (the test project has no DOM lib).
declare const localStorage: any, document: any;

const OUT = resolve(process.argv[2] ?? join(ROOT, 'docs', 'screenshots'));
const KIOSK_NAME = 'control-room';
const DEVICES = [
  { sn: 'MCS-T001', name: 'Tank A', location: 'Gas storage', high_limit: 100, high2_limit: 300, pos_x: 58, pos_y: 25 },
  { sn: 'MCS-T002', name: 'Tank B', location: 'Gas storage', high_limit: 100, high2_limit: 300, pos_x: 84, pos_y: 25 },
  { sn: 'MCS-B001', name: 'Boiler', location: 'Boiler room', high_limit: 100, high2_limit: 300, pos_x: 20, pos_y: 25 },
  { sn: 'MCS-W001', name: 'Workshop', location: 'Workshop', high_limit: 100, high2_limit: 300, pos_x: 16, pos_y: 75 },
];
const [TANK_A, , BOILER] = DEVICES.map((d) => d.sn);

const clients = new Map<string, MqttClient>();
let seq = 1;
/** Resolves on the PUBACK: the reading and its alarm consequences are stored (ING-6). */
const send = (sn: string, fields: Partial<Reading>) => publishReading(clients.get(sn)!, sn, { ts: Math.floor(Date.now() / 1000), seq: seq++, ...fields });

async function shoot(page: Page, name: string, fullPage = false): Promise<void> {
  // Blinking markers are captured in their "on" phase (the animation is reset for the shot only).
  await page.screenshot({ path: join(OUT, `${name}.png`), animations: 'disabled', fullPage });
  console.log(`${join(OUT, name)}.png`);
}

/** A local webhook receiver, so the journal shows notifications delivered. */
async function webhookReceiver() {
  const server = createServer((request, response) => {
    request.resume().on('end', () => response.end('ok'));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, close: () => new Promise((done) => server.close(done)) };
}

async function setUp(appliance: UiAppliance, browser: Browser, webhookUrl: string) {
  const token = appliance.adminToken;
  const channels = await appliance.api('PUT', '/api/config/alarm', { channels: { webhook: { enabled: true, settings: { url: webhookUrl } } } }, token);
  assert.equal(channels.status, 200, JSON.stringify(channels.body));
  for (const device of DEVICES) {
    const created = await appliance.api('POST', '/api/devices', device, token);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    clients.set(device.sn, await connectDevice(appliance.mqttUrl, device.sn, created.body.password));
    await send(device.sn, { v_raw: 12 });
  }
  const plan = new FormData();
  plan.append('file', new Blob([new Uint8Array(await floorPlanPng(browser))], { type: 'image/png' }), 'plan.png');
  const uploaded = await fetch(`${appliance.http}/api/config/dashboard/bg`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: plan });
  assert.ok(uploaded.ok, `floor plan upload: ${uploaded.status}`);
  return (await appliance.api('POST', '/api/auth/kiosk-tokens', { name: 'hall' }, token)).body.token as string;
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const started = Date.now(); // the history written for the data query ends here, where the live readings begin
  const appliance = await startUiAppliance({}, { licensedDevices: 50 });
  const webhook = await webhookReceiver();
  // A kiosk as the README sets it up: autoplay allowed, so it sounds without a tap.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'] });
  try {
    const kioskToken = await setUp(appliance, browser, webhook.url);
    const kioskUrl = `${appliance.http}/dashboard?token=${encodeURIComponent(kioskToken)}&kiosk=${KIOSK_NAME}`;
    const kiosk = await (await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' })).newPage();
    await kiosk.goto(kioskUrl);
    await kiosk.locator('.kiosk[data-link="live"][data-audio="running"]').waitFor({ timeout: 10_000 });

    // A leak at level 1: red flashing marker, the first alarm, SILENCE sounding.
    await send(TANK_A, { v_raw: 160 });
    await kiosk.locator(`.marker[data-sn="${TANK_A}"][data-look="alarm"]`).waitFor({ timeout: 5000 });
    await kiosk.locator('.kiosk[data-sound="sounding"][data-pattern="level1"]').waitFor({ timeout: 5000 });
    await kiosk.locator(`.first-alarm[data-sn="${TANK_A}"]`).waitFor();
    await shoot(kiosk, 'kiosk-sound-alarm-1920');

    // SILENCE (消音): quiet until the next new alarm, journaled with the screen's name.
    await kiosk.locator('.silence[data-sound="sounding"]').click();
    await kiosk.locator('.kiosk[data-sound="silenced"]').waitFor({ timeout: 2000 });
    await shoot(kiosk, 'kiosk-sound-silenced-1920');

    // A sensor fault: yellow, ERR, never ALARM (and the fault beep sounds).
    await send(BOILER, { v_raw: 12, err: 50 });
    await kiosk.locator(`.marker[data-sn="${BOILER}"][data-look="fault"]`).waitFor({ timeout: 5000 });
    await kiosk.locator('.alarm-item[data-type="FAULT"]').waitFor();
    await kiosk.waitForTimeout(300);
    await shoot(kiosk, 'kiosk-sound-fault-1920');

    // A browser that blocks autoplay: SOUND OFF until someone taps (read without a gesture: no Playwright click).
    const plain = await launchBrowser();
    try {
      const page = await (await plain.newContext({ viewport: FULL_HD, locale: 'en-GB' })).newPage();
      await page.goto(kioskUrl);
      await page.locator('.sound-off').waitFor({ timeout: 10_000 });
      await page.locator(`.marker[data-sn="${BOILER}"][data-look="fault"]`).waitFor({ timeout: 5000 });
      await shoot(page, 'kiosk-sound-off-1920');
    } finally {
      await plain.close();
    }

    // The episode of Tank A goes on: level 2, acknowledged with a comment, then the gas clears.
    await send(TANK_A, { v_raw: 420 });
    const alarm = (await appliance.api('GET', `/api/alarms?sn=${TANK_A}&type=HIGH`, undefined, appliance.adminToken)).body.data[0];
    assert.equal(alarm.level, 2, JSON.stringify(alarm));
    const journal = async () => (await appliance.api('GET', `/api/alarms/${alarm.id}/journal`, undefined, appliance.adminToken)).body.data as { kind: string; detail: string | null }[];
    const sent = async (n: number) => {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((done) => setTimeout(done, 200))) {
        if ((await journal()).filter((e) => e.kind === 'notification' && /: sent/.test(e.detail ?? '')).length >= n) return;
      }
      throw new Error(`fewer than ${n} notifications sent: ${JSON.stringify(await journal())}`);
    };
    await sent(2); // raised and level 2, through the webhook
    const ack = await appliance.api('POST', `/api/alarms/${alarm.id}/ack`, { comment: 'Valve V-12 closed, area ventilated, fire brigade informed' }, appliance.adminToken);
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    await send(TANK_A, { v_raw: 40 });
    await sent(3); // cleared

    const admin = await (await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' })).newPage();
    await admin.goto(`${appliance.http}/admin`);
    await admin.evaluate((token) => localStorage.setItem('mcs.token', token), appliance.adminToken);
    await send(DEVICES[1].sn, { v_raw: 150 }); // Tank B: a second gas alarm for the list
    await admin.goto(`${appliance.http}/admin/alarms`);
    await admin.locator(`tr[data-alarm-id="${alarm.id}"]`).waitFor();
    await admin.locator('tr[data-alarm-id][data-priority="high"]').first().waitFor();
    await shoot(admin, 'admin-alarms-1920');

    await admin.goto(`${appliance.http}/admin/alarms/${alarm.id}`);
    await admin.locator(`[data-journal="${alarm.id}"] tr[data-kind="cleared"]`).waitFor();
    await admin.locator('[data-timezone]').waitFor();
    await shoot(admin, 'admin-alarm-journal-1920');

    await devicePage(appliance, browser);
    await dataQueryZoomed(appliance, admin, started);
  } finally {
    await Promise.all([...clients.values()].map((c) => c.endAsync()));
    await browser.close();
    await webhook.close();
    await appliance.dispose();
  }
}

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

/** Readings every `stepMs` over [from, to), as the writer stores them (ppm × 100); a live reading at the same time wins. */
function seedReadings(appliance: UiAppliance, sn: string, from: number, to: number, stepMs: number, ppmAt: (ts: number) => number) {
  const db = new Database(dbFileIn(appliance.dataDir));
  db.pragma('busy_timeout = 5000');
  db.transaction(() => {
    db.prepare('INSERT OR IGNORE INTO serials (sn) VALUES (?)').run(sn);
    const id = (db.prepare('SELECT id FROM serials WHERE sn = ?').get(sn) as { id: number }).id;
    const insert = db.prepare('INSERT OR IGNORE INTO readings (sn_id, ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
    for (let ts = Math.ceil(from / stepMs) * stepMs, seq = 1; ts < to; ts += stepMs, seq++) {
      const ppm = Math.round(ppmAt(ts) * 100);
      insert.run(id, ts, ppm, ppm, 2450, 4800, 80, -78, seq % 65536, 0, 0, 150);
    }
  })();
  db.close();
}

/**
 * Issue 15.6: a CO detector's page on a phone, every figure filled: 8 hours of per-minute history
 * (exposure), three live readings over MQTT with one sequence number lost and the detector's clock
 * 3 s ahead, a calibration and a bump test recorded.
 */
async function devicePage(appliance: UiAppliance, browser: Browser) {
  const token = appliance.adminToken;
  const sn = 'MCS-C001';
  const created = await appliance.api('POST', '/api/devices', { sn, name: 'Boiler CO', location: 'Boiler room', gas: 'CO', unit: 'ppm', high_limit: 17, high2_limit: 34, calib: { k: 1, b: 0 } }, token);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const now = Date.now();
  // A boiler start at 8 ppm, then 16 ppm over the last 40 minutes: STEL near PC-STEL, TWA well below PC-TWA.
  seedReadings(appliance, sn, now - 8 * 60 * MIN - 10 * MIN, now - 2 * MIN, MIN, (ts) => (ts >= now - 40 * MIN ? 16 : 8 + 2 * Math.sin(ts / (40 * MIN))));
  const client = await connectDevice(appliance.mqttUrl, sn, created.body.password);
  clients.set(sn, client);
  const fields = { bat: 76, rssi: -83, temp: 24.5, humi: 48, ver: '2.4.0' };
  for (const seq of [1, 2, 4]) await publishReading(client, sn, { ...fields, seq, ts: Math.floor(Date.now() / 1000) + 3, v_raw: 16 });
  for (const record of [
    // (recorded now: the API refuses `at` today — its 'date-time' format is not registered with the validator)
    { kind: 'bump_test', test_gas: 'CO', concentration: 50, as_found: 49.2, passed: true },
    { kind: 'calibration', test_gas: 'CO', concentration: 50, as_found: 46.8, as_left: 50, passed: true, comment: 'Annual verification (JJG 693)' },
  ]) {
    const recorded = await appliance.api('POST', `/api/calibration/devices/${sn}`, record, token);
    assert.ok(recorded.status < 300, JSON.stringify(recorded.body));
  }
  const phone = await browser.newContext({ viewport: PHONE, locale: 'en-GB', isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  try {
    const page = await phone.newPage();
    await page.goto(`${appliance.http}/admin`);
    await page.evaluate((t: string) => localStorage.setItem('mcs.token', t), token);
    await page.goto(`${appliance.http}/admin/devices/${sn}`);
    await page.locator('[data-figure="value"] .big', { hasText: '16' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-figure="loss"]', { hasText: '%' }).waitFor();
    await page.locator('[data-section="calibration"] [data-record]').first().waitFor();
    await page.locator('[data-section="exposure"] [data-exposure="twa"]').waitFor();
    await shoot(page, 'admin-device-page-phone', true);
  } finally {
    await phone.close();
  }
}

/** Issue 15.7: the two tanks on one chart, 3 days, then zoomed by dragging to the last half hour. */
async function dataQueryZoomed(appliance: UiAppliance, admin: Page, started: number) {
  // 3 days of history up to the live readings: a slow daily swing, and on Tank B a rise to 70 ppm half
  // an hour ago that stayed under its setpoint (100 ppm); Tank A's live episode is at the right edge.
  const rise = (ts: number) => Math.max(0, 1 - Math.abs(ts - (started - 25 * MIN)) / (8 * MIN));
  for (const [i, sn] of DEVICES.slice(0, 2).map((d) => d.sn).entries()) {
    seedReadings(appliance, sn, started - 3 * DAY, started, 20_000, (ts) => 12 + 3 * i + 4 * Math.sin(ts / (4 * 3_600_000) + i) + (i === 1 ? 56 * rise(ts) : 0));
  }
  await admin.goto(`${appliance.http}/admin/data`);
  for (const sn of DEVICES.slice(0, 2).map((d) => d.sn)) await admin.locator('select[name=device]').selectOption(sn);
  await admin.click(`[data-preset="${3 * DAY}"]`);
  await admin.locator('[data-interval="1h"][data-busy="no"]').waitFor({ timeout: 10_000 });
  // Drag across the plot from the pixel of "45 minutes ago" to its right edge: the chart zooms there.
  const canvas = admin.locator('canvas[data-chart="query"]');
  const state = await canvas.evaluate((el: any) => el.queryChart()) as { x: { from: number; to: number }; area: { left: number; right: number; top: number; bottom: number } };
  const box = (await canvas.boundingBox())!;
  const { left, right, top, bottom } = state.area;
  const y = box.y + (top + bottom) / 2;
  const end = box.x + right - 1;
  const start = end - ((right - left) * 45 * MIN) / (state.x.to - state.x.from);
  await admin.mouse.move(start, y);
  await admin.mouse.down();
  await admin.mouse.move((start + end) / 2, y, { steps: 3 });
  await admin.mouse.move(end, y, { steps: 3 });
  await admin.mouse.up();
  await admin.locator('[data-interval="10s"][data-busy="no"]').waitFor({ timeout: 10_000 });
  // A pixel of the 3-day chart is minutes: "later" brings the view up to now (it stops at now).
  await admin.click('[data-action="pan-later"]');
  await admin.waitForFunction(() => document.querySelector('canvas[data-chart="query"]').queryChart().spans.length >= 2);
  await admin.locator('[data-interval="10s"][data-busy="no"]').waitFor({ timeout: 10_000 });
  await shoot(admin, 'admin-data-query-zoomed-1920');
}

await main();
