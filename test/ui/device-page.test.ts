// Issue 15.6 in headless Chromium against a real appliance and a real MQTT detector client: the
// device page on a phone (390×844) with every figure filled from the detector's readings — value
// in its unit, setpoints, battery, signal, temperature, humidity, firmware, last reading time,
// packet loss (one sequence number skipped), clock skew (the detector's clock 20 s ahead), alarm
// history with the journal link; a reboot goes out only after it is confirmed (watched on the
// detector's own command topic); the kiosk marker shows the low-battery icon at 15 %.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { cmdTopic } from '../../appliance/contract/topics.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';
import { FULL_HD, launchBrowser, PHONE, screenshot, startUiAppliance, type UiAppliance } from './support.ts';

declare const document: any, localStorage: any;

let appliance: UiAppliance;
let browser: Browser;
let detector: MqttClient | null = null;
const commands: string[] = [];
const SN = 'PAGE-CH4-1';
const SKEW_S = 20;

before(async () => {
  appliance = await startUiAppliance();
  browser = await launchBrowser();
  const created = await appliance.api('POST', '/api/devices', { sn: SN, name: 'Compressor hall', location: 'Bay 3', gas: 'CH4', unit: '%LEL', high_limit: 20, high2_limit: 40 }, appliance.adminToken);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  detector = await connectDevice(appliance.mqttUrl, SN, created.body.password);
  await detector.subscribeAsync(cmdTopic(SN), { qos: 1 });
  detector.on('message', (_topic, payload) => commands.push(payload.toString()));
  // A leak over level 1, then back down; seq 3 is lost on the way. Calibration k = 1: ppm = v_raw (% LEL here).
  const deviceNow = () => Math.floor(Date.now() / 1000) + SKEW_S;
  const fields = { bat: 15, rssi: -105, temp: 31.5, humi: 40, ver: '2.3.1' };
  await publishReading(detector, SN, { ...fields, seq: 1, ts: deviceNow(), v_raw: 26 });
  await eventually(() => appliance.app.testApi.activeAlarms().some((a) => a.sn === SN && a.type === 'HIGH'), 5000, 'the HIGH alarm');
  await publishReading(detector, SN, { ...fields, seq: 2, ts: deviceNow(), v_raw: 12.5 });
  await publishReading(detector, SN, { ...fields, seq: 4, ts: deviceNow(), v_raw: 12.5 });
  await eventually(() => appliance.app.testApi.liveFigures(SN).stored === 3, 5000, 'three readings stored');
});

after(async () => {
  await detector?.endAsync();
  await browser?.close();
  await appliance?.dispose();
});

test('the device page on a phone shows every figure from the detector, and reboot asks before it sends', async () => {
  const phone = await browser.newContext({ viewport: PHONE, locale: 'en-GB', isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await phone.newPage();
  await page.goto(`${appliance.http}/admin`);
  await page.evaluate((token: string) => localStorage.setItem('mcs.token', token), appliance.adminToken);
  await page.goto(`${appliance.http}/admin/devices`);
  await page.locator(`tr[data-sn="${SN}"] [data-action="open-device"]`).click();
  await page.locator(`.device-page[data-device="${SN}"]`).waitFor();
  assert.equal(new URL(page.url()).pathname, `/admin/devices/${SN}`);

  const figure = async (name: string) => (await page.locator(`[data-figure="${name}"]`).innerText()).replace(/\s+/g, ' ').trim();
  await page.locator('[data-figure="value"] .big', { hasText: '12.5' }).waitFor();
  assert.match(await figure('value'), /^12\.5 % LEL/, 'the value in the catalogue unit label, not the unit id');
  assert.match(await figure('setpoints'), /Level 1 20 % LEL/);
  assert.match(await figure('setpoints'), /Level 2 40 % LEL/);
  assert.match(await figure('battery'), /15 % low battery/);
  assert.match(await figure('signal'), /-105 dBm weak signal/);
  assert.match(await figure('temperature'), /31\.5 °C/);
  assert.match(await figure('humidity'), /40 % RH/);
  assert.match(await figure('firmware'), /2\.3\.1/);
  const received = appliance.app.testApi.liveFigures(SN).lastReceivedAt!;
  const hhmmss = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone: await siteZone() }).format(received);
  assert.ok((await figure('last-reading')).includes(hhmmss), `last reading at ${hhmmss}: ${await figure('last-reading')}`);
  assert.match(await figure('loss'), /25 % 1 missing since start/, '1 of 4 sequence numbers missing');
  assert.match(await figure('skew'), /\+(19|20)(\.\d)? s \(device ahead\)/);
  const alarm = page.locator('[data-section="alarms"] [data-alarm] a[data-action="journal"]', { hasText: /high/i }).first();
  await alarm.waitFor();
  const journal = await alarm.getAttribute('href');
  assert.match(journal!, /^\/admin\/alarms\/\d+$/);
  await page.locator('[data-section="calibration"][data-available]:not([data-available=""])').waitFor();
  await page.locator('[data-section="exposure"][data-available]:not([data-available=""])').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `nothing wider than the phone (${overflow} px over)`);
  await screenshot(page, 'device-page-phone');

  await page.locator('[data-action="commands"]').click();
  await page.locator('[data-cmd="reboot"]').click();
  const confirmBox = page.locator('[data-confirm="reboot"]');
  await confirmBox.waitFor();
  assert.match(await confirmBox.innerText(), new RegExp(`Reboot ${SN} in 5 s`));
  await page.waitForTimeout(500);
  assert.deepEqual(commands, [], 'nothing sent before the confirmation');
  await confirmBox.locator('[data-action="cancel-command"]').click();
  await page.waitForTimeout(300);
  assert.deepEqual(commands, [], 'nothing sent after cancelling');
  await page.locator('[data-cmd="reboot"]').click();
  await page.locator('[data-confirm="reboot"] [data-action="confirm-command"]').click();
  await eventually(() => commands.length > 0, 5000, 'the reboot on the detector');
  assert.deepEqual(commands.map((c) => JSON.parse(c)), [{ cmd: 'reboot', delay: 5 }]);
  await page.getByText('Command reboot sent.').waitFor();

  await page.goto(`${appliance.http}${journal}`);
  await page.locator('[data-page="alarms"]').waitFor();
  await phone.close();
});

test('the kiosk marker shows the unit label and a low-battery and a weak-signal icon', async () => {
  const kiosk = await browser.newPage({ viewport: FULL_HD, locale: 'en-GB' });
  await kiosk.goto(`${appliance.http}/dashboard?token=${encodeURIComponent(appliance.adminToken)}`);
  const marker = kiosk.locator(`.marker[data-sn="${SN}"]`);
  await marker.locator('[data-flag="low-battery"]').waitFor();
  await marker.locator('[data-flag="weak-signal"]').waitFor();
  assert.equal((await marker.locator('.marker-unit').innerText()).trim(), '% LEL');
  await kiosk.close();
});

async function siteZone(): Promise<string> {
  return (await appliance.api('GET', '/api/system/stats', undefined, appliance.adminToken)).body.timezone as string;
}
