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
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { connectDevice, publishReading, ROOT, type Reading } from '../helpers/appliance.ts';
import { CHROMIUM, CHROMIUM_ARGS, floorPlanPng, FULL_HD, launchBrowser, startUiAppliance, type UiAppliance } from './support.ts';

// Browser globals inside page.evaluate() callbacks (the test project has no DOM lib).
declare const localStorage: any;

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

async function shoot(page: Page, name: string): Promise<void> {
  // Blinking markers are captured in their "on" phase (the animation is reset for the shot only).
  await page.screenshot({ path: join(OUT, `${name}.png`), animations: 'disabled' });
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
  } finally {
    await Promise.all([...clients.values()].map((c) => c.endAsync()));
    await browser.close();
    await webhook.close();
    await appliance.dispose();
  }
}

await main();
