// `npm run bench:ui -- [--devices 500] [--duration 120] [--alarms 25]`: the kiosk under load
// (UI-2 performance budget). A real appliance with N placed devices, N simulated detectors
// reporting every second (some leaking → red, blinking), and the kiosk at 1920×1080 in headless
// Chromium. Prints one JSON line: bundle size, time to the first live value and to all values,
// the page's main-thread CPU (CDP Performance.getMetrics TaskDuration), the whole browser's CPU
// (/proc, all Chromium processes), and the JS heap after forced GCs at start and end.
import { readFileSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { FULL_HD, launchBrowser, startUiAppliance } from '../test/ui/support.ts';
import { buildUi } from '../ui/build.ts';
import { benchArgs, numberOption } from './args.ts';

const USAGE = `Usage: npm run bench:ui -- [--devices N] [--duration S] [--alarms N]

The kiosk under load (UI-2): a real appliance with N placed devices reporting every second, some of
them in alarm, and the kiosk at 1920×1080 in headless Chromium. Prints one JSON line.

  --devices N     placed devices (default 500)
  --duration S    seconds measured (default 120)
  --alarms N      devices leaking (red, blinking; default 25)
  -h, --help      this text`;

const values = benchArgs('bench:ui', USAGE, {
  devices: { type: 'string', default: '500' }, duration: { type: 'string', default: '120' }, alarms: { type: 'string', default: '25' },
});
const N = numberOption('bench:ui', 'devices', values.devices, 1);
const DURATION_S = numberOption('bench:ui', 'duration', values.duration, 1);
const ALARMS = Math.min(N, numberOption('bench:ui', 'alarms', values.alarms));
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

/** CPU seconds (user + system) of every Chromium process under this one. */
function chromiumCpuSeconds(): number {
  const ticks = 100; // CLK_TCK on Linux
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  const times = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      parent.set(Number(entry), Number(fields[1]));
      names.set(Number(entry), name);
      times.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / ticks);
    } catch {
      /* gone */
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const [pid, name] of names) if (/chrom/i.test(name) && descends(pid)) total += times.get(pid) ?? 0;
  return total;
}

const built = await buildUi();
const appliance = await startUiAppliance({}, { licensedDevices: N + 10 }); // beyond evaluation's 10 devices
const token = appliance.adminToken;
log(`appliance on ${appliance.http}; registering ${N} devices`);
const PASSWORD = 'bench-password-1';
const sns = Array.from({ length: N }, (_, i) => `BENCH-${String(i + 1).padStart(4, '0')}`);
for (let i = 0; i < N; i += 25) {
  await Promise.all(sns.slice(i, i + 25).map(async (sn, j) => {
    const created = await appliance.api('POST', '/api/devices', { sn, name: `Point ${i + j + 1}`, high_limit: 1000, password: PASSWORD }, token);
    if (created.status !== 201) throw new Error(`create ${sn}: ${JSON.stringify(created.body)}`);
  }));
}
const columns = Math.ceil(Math.sqrt(N * 16 / 9));
const rows = Math.ceil(N / columns);
await appliance.api('POST', '/api/devices/positions', {
  positions: sns.map((sn, i) => ({ sn, x: Math.round(((i % columns) + 0.5) * (100 / columns) * 10) / 10, y: Math.round((Math.floor(i / columns) + 0.5) * (100 / rows) * 10) / 10 })),
}, token);

// The detectors run in their own process (the simulator CLI), as a real fleet is not on the box.
const simulator = spawn(process.execPath, ['--import', 'tsx', new URL('../simulator/main.ts', import.meta.url).pathname,
  '--url', appliance.mqttUrl, '--devices', String(N), '--sn-prefix', 'BENCH', '--password', PASSWORD, '--interval', '1',
  ...(ALARMS ? ['--scenario', 'leak', '--scenario-devices', String(ALARMS), '--high-limit', '1000', '--leak-start-s', '5', '--leak-ramp-s', '5', '--leak-hold-s', '100000'] : [])],
{ stdio: ['ignore', 'ignore', 'pipe'] });
simulator.stderr!.on('data', () => undefined);
const simulatorExited = new Promise((resolve) => simulator.on('exit', resolve));
await new Promise((resolve) => setTimeout(resolve, 5000));
log(`${N} detectors reporting every second (${ALARMS} leaking)`);

const browser = await launchBrowser();
const page = await browser.newPage({ viewport: FULL_HD });
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m: { name: string; value: number }) => [m.name, m.value]));
const liveValues = `document.querySelectorAll('.marker .marker-value').length && [...document.querySelectorAll('.marker[data-look="ok"] .marker-value, .marker[data-look="alarm"] .marker-value')].filter((e) => /\\d/.test(e.textContent)).length`;

// Where the time goes before the first value: the socket's open and first message, seen from the page.
await page.addInitScript(`(() => {
  const Native = window.WebSocket;
  window.__ws = {};
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.__ws.created ??= performance.now();
      this.addEventListener('open', () => (window.__ws.open ??= performance.now()));
      this.addEventListener('message', () => (window.__ws.first_message ??= performance.now()));
    }
  };
  new MutationObserver((_, observer) => {
    const value = document.querySelector('.marker[data-look="ok"] .marker-value, .marker[data-look="alarm"] .marker-value');
    if (value && /\\d/.test(value.textContent)) {
      window.__ws.first_value_in_dom = performance.now();
      requestAnimationFrame(() => (window.__ws.first_value_frame = performance.now()));
      observer.disconnect();
    }
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
})()`);
const t0 = Date.now();
await page.goto(`${appliance.http}/dashboard?token=${encodeURIComponent(token)}`);
await page.waitForFunction(`(${liveValues}) > 0`, undefined, { timeout: 30_000, polling: 'raf' });
const firstValueMs = Date.now() - t0;
const timing = await page.evaluate(`(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const js = performance.getEntriesByType('resource').find((r) => r.name.includes('/assets/') && r.name.endsWith('.js'));
  return { page_now_ms: Math.round(performance.now()), html_ms: Math.round(nav.responseEnd), js_loaded_ms: js ? Math.round(js.responseEnd) : null,
    dom_content_loaded_ms: Math.round(nav.domContentLoadedEventEnd), ws: Object.fromEntries(Object.entries(window.__ws).map(([k, v]) => [k, Math.round(v)])), fcp_ms: Math.round(performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1) };
})()`);
log(`page timing ${JSON.stringify(timing)}`);
await page.waitForFunction(`(${liveValues}) >= ${N}`, undefined, { timeout: 60_000, polling: 500 });
const allValuesMs = Date.now() - t0;
log(`first live value after ${firstValueMs} ms, all ${N} after ${allValuesMs} ms; warming up 15 s`);
await page.waitForTimeout(15_000);

const gcHeap = async () => {
  await cdp.send('HeapProfiler.collectGarbage');
  return (await metrics()).JSHeapUsedSize as number;
};
const heapStart = await gcHeap();
const start = { m: await metrics(), wall: Date.now(), cpu: chromiumCpuSeconds() };
const samples: { t: number; pageCpuPct: number; browserCpuPct: number; heapMB: number; nodes: number }[] = [];
let last = start;
while (Date.now() - start.wall < DURATION_S * 1000) {
  await page.waitForTimeout(10_000);
  const now = { m: await metrics(), wall: Date.now(), cpu: chromiumCpuSeconds() };
  const wallS = (now.wall - last.wall) / 1000;
  samples.push({
    t: Math.round((now.wall - start.wall) / 1000),
    pageCpuPct: Math.round(((now.m.TaskDuration - last.m.TaskDuration) / wallS) * 1000) / 10,
    browserCpuPct: Math.round(((now.cpu - last.cpu) / wallS) * 1000) / 10,
    heapMB: Math.round((now.m.JSHeapUsedSize / 1048576) * 10) / 10,
    nodes: now.m.Nodes,
  });
  log(JSON.stringify(samples[samples.length - 1]));
  last = now;
}
const heapEnd = await gcHeap();
const wallS = (last.wall - start.wall) / 1000;
const shown = await page.evaluate(`(${liveValues})`);
const looks = await page.evaluate(`[...document.querySelectorAll('.marker')].reduce((a, e) => (a[e.dataset.look] = (a[e.dataset.look] || 0) + 1, a), {})`);
const result = {
  devices: N,
  alarms: ALARMS,
  duration_s: Math.round(wallS),
  bundle_gzip_kb: Math.round(built.gzipBytes / 102.4) / 10,
  /** the first frame painted with a live value (in-page, from navigation start): the first meaningful paint */
  first_meaningful_paint_ms: (timing as { ws: { first_value_frame?: number } }).ws.first_value_frame ?? null,
  first_value_seen_by_driver_ms: firstValueMs,
  page_timing: timing,
  all_values_ms: allValuesMs,
  page_main_thread_cpu_pct: Math.round(((last.m.TaskDuration - start.m.TaskDuration) / wallS) * 1000) / 10,
  page_script_pct: Math.round(((last.m.ScriptDuration - start.m.ScriptDuration) / wallS) * 1000) / 10,
  page_style_layout_pct: Math.round(((last.m.RecalcStyleDuration - start.m.RecalcStyleDuration + last.m.LayoutDuration - start.m.LayoutDuration) / wallS) * 1000) / 10,
  browser_all_processes_cpu_pct: Math.round(((last.cpu - start.cpu) / wallS) * 1000) / 10,
  heap_after_gc_mb: { start: Math.round(heapStart / 104857.6) / 10, end: Math.round(heapEnd / 104857.6) / 10 },
  dom_nodes: { start: start.m.Nodes, end: last.m.Nodes },
  markers_with_value_at_end: shown,
  marker_looks_at_end: looks,
  samples,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
await browser.close();
simulator.kill('SIGTERM');
await simulatorExited;
await appliance.dispose();
process.exit(0);
