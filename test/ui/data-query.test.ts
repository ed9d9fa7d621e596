// UI-3 / UI-4 data query in headless Chromium against a real appliance: 7 days of readings of two
// detectors (seeded straight into the SQLite file, as the writer stores them), a real HIGH alarm
// raised and cleared over MQTT; both devices on one chart, zoomed by dragging across the chart
// from 7 days to 10 minutes while the requested bucket interval follows (1h → 5m → 1m → 10s,
// seen on the wire), the alarm episode shaded and the setpoints dashed, times on the site clock,
// and the CSV of what is shown matching the chart's devices, span and interval.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { dbFileIn } from '../../appliance/storage/db.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';
import { ADMIN_PASSWORD, FULL_HD, launchBrowser, screenshot, startUiAppliance, type UiAppliance } from './support.ts';

// Browser globals inside page.evaluate() callbacks (the test project has no DOM lib).
declare const document: any;

const SITE_TZ = 'Asia/Shanghai';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const STEP_MS = 20_000;
const DEVICES = [
  { sn: 'DQ-BOILER', name: 'Boiler room', high_limit: 50, high2_limit: 100, low_limit: null },
  { sn: 'DQ-STORE', name: 'Gas store', high_limit: 40, high2_limit: null, low_limit: 2 },
];

let appliance: UiAppliance;
let browser: Browser;
let page: Page;
const historyRequests: { sn: string; interval: string; start: number; end: number }[] = [];

interface ChartState {
  x: { from: number; to: number };
  area: { left: number; right: number; top: number; bottom: number };
  series: { sn: string; label: string; points: number }[];
  setpoints: { sn: string; kind: string; value: number; dashed: boolean }[];
  spans: { id: number; sn: string; type: string; from: number; to: number; left: number; right: number }[];
}
const chartState = (): Promise<ChartState> => page.evaluate(() => document.querySelector('canvas[data-chart="query"]').queryChart());

/** 7 days of readings every 20 s up to a minute ago, ppm a slow wave per device (scaled ×100 as stored). */
function seedReadings(now: number) {
  const db = new Database(dbFileIn(appliance.dataDir));
  db.pragma('busy_timeout = 5000');
  const insert = db.prepare('INSERT INTO readings (sn_id, ts, v_raw, ppm, temp, humi, bat, rssi, seq, err, flags, recv_delta) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
  db.transaction(() => {
    DEVICES.forEach(({ sn }, d) => {
      db.prepare('INSERT OR IGNORE INTO serials (sn) VALUES (?)').run(sn);
      const id = (db.prepare('SELECT id FROM serials WHERE sn = ?').get(sn) as { id: number }).id;
      const first = Math.floor((now - 7 * DAY) / STEP_MS) * STEP_MS;
      for (let ts = first, i = 0; ts < now - 60_000; ts += STEP_MS, i++) {
        const ppm = 10 + 5 * d + 8 * Math.sin(ts / (3 * HOUR));
        insert.run(id, ts, Math.round(ppm * 100), Math.round(ppm * 100), 2500, 4500, 90, -70, i % 65536, 0, 0, 150);
      }
    });
  })();
  db.close();
}

before(async () => {
  appliance = await startUiAppliance({ site: { timezone: SITE_TZ } });
  for (const device of DEVICES) {
    const created = await appliance.api('POST', '/api/devices', { ...device, calib: { k: 1, b: 0 }, password: 'dq-password-1' }, appliance.adminToken);
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  seedReadings(Date.now());
  // A real HIGH episode of the boiler room: a leak reading over the level-1 setpoint, then clean air.
  // Three minutes back: well inside the final 10-minute view, whose end lands some 30 s before the
  // preset's "now" (each drag stops a pixel short of the right edge). 30 s back fell outside it
  // whenever the page was quick to open, so the episode was not drawn (once in the fresh-machine run).
  // Off the 20 s grid of the seeded rows, so no reading is a duplicate the alarm rules never see.
  const client = await connectDevice(appliance.mqttUrl, 'DQ-BOILER', 'dq-password-1');
  const offGrid = (ts: number) => (ts % (STEP_MS / 1000) === 0 ? ts + 1 : ts);
  const second = Math.floor(Date.now() / 1000);
  await publishReading(client, 'DQ-BOILER', { seq: 1, ts: offGrid(second - 180), v_raw: 75 });
  await eventually(() => appliance.app.testApi.alarmRecords({ sn: 'DQ-BOILER', type: 'HIGH' }).items.length > 0, 5000, 'the HIGH alarm');
  await publishReading(client, 'DQ-BOILER', { seq: 2, ts: offGrid(second - 170), v_raw: 5 });
  await publishReading(client, 'DQ-BOILER', { seq: 3, ts: offGrid(second - 160), v_raw: 5 });
  await client.endAsync();

  browser = await launchBrowser();
  // The browser's own zone is UTC: the page must show the site's clock, not the PC's.
  const context = await browser.newContext({ viewport: FULL_HD, locale: 'en-GB', timezoneId: 'UTC', acceptDownloads: true });
  page = await context.newPage();
  page.on('request', (request) => {
    const url = new URL(request.url());
    const match = /^\/api\/devices\/([^/]+)\/history$/.exec(url.pathname);
    if (match) historyRequests.push({ sn: decodeURIComponent(match[1]), interval: url.searchParams.get('interval')!, start: Date.parse(url.searchParams.get('start')!), end: Date.parse(url.searchParams.get('end')!) });
  });
});

after(async () => {
  await browser?.close();
  await appliance?.dispose();
});

/** Drags across the chart's plot from the pixel of `from` to the right edge: the plugin zooms to that span. */
async function dragZoomTo(spanMs: number) {
  const state = await chartState();
  const box = (await page.locator('canvas[data-chart="query"]').boundingBox())!;
  const { left, right, top, bottom } = state.area;
  const fraction = spanMs / (state.x.to - state.x.from);
  const y = box.y + (top + bottom) / 2;
  const end = box.x + right - 1;
  const start = end - (right - left) * fraction;
  await page.mouse.move(start, y);
  await page.mouse.down();
  await page.mouse.move((start + end) / 2, y, { steps: 3 });
  await page.mouse.move(end, y, { steps: 3 });
  await page.mouse.up();
}

async function shownInterval(interval: string) {
  await page.locator(`[data-interval="${interval}"][data-busy="no"]`).waitFor({ timeout: 10_000 });
}

test('two devices on one chart, zoomed from 7 days to 10 minutes: the interval follows, alarms and setpoints drawn, the CSV is what is shown', async () => {
  await page.goto(`${appliance.http}/admin`);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', ADMIN_PASSWORD);
  await page.click('button[type=submit]');
  await page.click('[data-nav="data"]');
  for (const { sn } of DEVICES) await page.locator('select[name=device]').selectOption(sn);
  await page.locator(`[data-shown-devices="${DEVICES.map((d) => d.sn).join(',')}"]`).waitFor();

  await page.click(`[data-preset="${7 * DAY}"]`);
  await shownInterval('1h');
  let state = await chartState();
  assert.deepEqual(state.series.map((s) => s.sn).sort(), DEVICES.map((d) => d.sn).sort(), 'both devices on the one chart');
  for (const s of state.series) assert.ok(s.points >= 160 && s.points <= 170, `${s.sn}: 7 days in hourly buckets, got ${s.points}`);
  assert.ok(Math.abs(state.x.to - state.x.from - 7 * DAY) < 1000, 'the axis spans the 7 days');
  await screenshot(page, 'data-query-7d');

  // Zoom by dragging across the newest part of the chart: 7 d → 12 h → 2 h → 10 min.
  historyRequests.length = 0;
  for (const [span, interval] of [[12 * HOUR, '5m'], [2 * HOUR, '1m'], [10 * 60_000, '10s']] as const) {
    await dragZoomTo(span);
    await shownInterval(interval);
    state = await chartState();
    const shown = state.x.to - state.x.from;
    assert.ok(Math.abs(shown - span) / span < 0.05, `zoomed to ~${span} ms, shows ${shown} ms`);
  }
  const intervals = historyRequests.map((r) => r.interval);
  assert.deepEqual([...new Set(intervals)], ['5m', '1m', '10s'], `the requested intervals switch with the zoom: ${intervals.join(' ')}`);
  for (const sn of DEVICES.map((d) => d.sn)) assert.ok(historyRequests.some((r) => r.sn === sn && r.interval === '10s'), `${sn} asked for at 10 s`);
  const last = historyRequests.filter((r) => r.interval === '10s').at(-1)!;
  assert.ok(Math.abs(last.end - last.start - 10 * 60_000) < 30_000, 'the 10 s request covers the visible 10 minutes');
  for (const s of state.series) assert.ok(s.points >= 25 && s.points <= 61, `${s.sn}: 10 minutes in 10 s buckets of 20 s readings, got ${s.points}`);

  // The HIGH episode of the boiler room is a shaded span inside the view; the setpoints are dashed lines.
  const span = state.spans.find((s) => s.sn === 'DQ-BOILER' && s.type === 'HIGH');
  assert.ok(span, `the HIGH episode is drawn: ${JSON.stringify(state.spans)}`);
  assert.ok(span.right > span.left && span.left >= state.area.left && span.right <= state.area.right, `painted inside the plot: ${JSON.stringify({ span, area: state.area, x: state.x})}`);
  assert.ok(!state.spans.some((s) => s.sn === 'DQ-STORE'), 'the gas store had no alarm');
  const setpoints = state.setpoints.map((p) => `${p.sn}:${p.kind}:${p.value}:${p.dashed}`).sort();
  assert.deepEqual(setpoints, ['DQ-BOILER:high2_limit:100:true', 'DQ-BOILER:high_limit:50:true', 'DQ-STORE:high_limit:40:true', 'DQ-STORE:low_limit:2:true']);

  // Times on the site's clock (UTC+8) while the browser runs in UTC.
  const siteWall = (ms: number) => new Date(ms + 8 * HOUR).toISOString().slice(0, 16);
  assert.equal(await page.locator('input[name=end]').inputValue(), siteWall(state.x.to));
  await page.locator('[data-timezone], p.muted.small', { hasText: SITE_TZ }).first().waitFor();
  await screenshot(page, 'data-query-10min');

  // The CSV: the same devices, the visible span, the interval shown, one line per bucket shown.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="export-shown"]')]);
  const text = await readFile((await download.path())!, 'utf8');
  const lines = text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
  assert.equal(lines[0], 'time,time_utc,sn,name,unit,interval,avg,min,max,count');
  const rows = lines.slice(1).map((line) => line.split(','));
  assert.deepEqual([...new Set(rows.map((r) => r[2]))].sort(), DEVICES.map((d) => d.sn).sort());
  assert.ok(rows.every((r) => r[5] === '10s'), 'at the interval shown');
  for (const s of state.series) assert.equal(rows.filter((r) => r[2] === s.sn).length, s.points, `${s.sn}: as many buckets as drawn`);
  const times = rows.map((r) => Date.parse(r[1]));
  assert.ok(Math.min(...times) >= state.x.from - 10_000 && Math.max(...times) < state.x.to, 'only the visible span');
  assert.match(rows[0][0], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\+8$/, 'site time with its offset');
  assert.equal(rows[0][0].slice(0, 16), siteWall(times[0]).replace('T', ' '), 'the site time is the UTC time at +8');
});
