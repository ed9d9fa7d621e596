// `npm run bench`: the ingest path's figures (the spine: PUBACK → SQLite), measured end to end. Starts the appliance as its own
// process on a temp data dir, registers N detectors, optionally pre-fills the hot store, drives
// them from a separate load-generator process (simulator load mode, SIM-3) at a fixed rate at
// QoS 1, then counts what SQLite holds and times the STO-5 queries. Prints one JSON line.
// A benchmark, not a test: it never fails on slow figures.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serials } from '../simulator/cli.ts';
import { dbFileIn, openDb } from '../appliance/storage/db.ts';
import { createDeviceRepository } from '../appliance/storage/devices.ts';
import { createReadingStore } from '../appliance/storage/reading-store.ts';
import { createReadingRepository } from '../appliance/storage/readings.ts';
import * as R from '../appliance/storage/reading-row.ts';
import { DEFAULT_SETTINGS } from '../appliance/devices/service.ts';
import { buildAppliance } from '../appliance/build.ts';
import { derivedDevicePassword } from '../appliance/contract/credentials.ts';
import mqtt from 'mqtt';
import { createServer as createHttpServer } from 'node:http';
import { systemClock } from '../appliance/core/clock.ts';
import { createSecretBox } from '../appliance/core/secrets.ts';
import { createAlarmSettings } from '../appliance/notify/alarm-settings.ts';
import { createConfigRepository } from '../appliance/storage/config.ts';
import { startApiProbe } from './api-probe.ts';
import { writeDevLicense } from '../licensing/dev-license.ts';
import { benchArgs, numberOption } from './args.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const SECRET = 'bench-factory-secret';
const PREFIX = 'BENCH';

const USAGE = `Usage: npm run bench -- [options]

The ingest path end to end: the appliance in its own process on a temp data dir, N detectors driven
by the simulator's load mode (SIM-3) at a fixed rate, then what SQLite holds and the STO-5 query
times. Prints one JSON line (figures in BENCHMARKS.md). A benchmark, not a test.

  --devices N            detectors (default 1000)
  --rate N               readings per second, all detectors together (default 20000)
  --duration S           seconds of load (default 60)
  --prefill N            readings put in the hot store before the load (default 0)
  --qos 0|1              QoS of the readings (default 1)
  --synchronous MODE     SQLite synchronous: FULL or NORMAL (default FULL)
  --connect-rate N       connections per second at the start (default 1000)
  --url URL              drive another broker instead (no appliance started; load figures only)
  --from-source          run the appliance with tsx (npm start) instead of the dist/ bundle
  --alarm-probe          one extra device flips an alarm every 500 ms; alarm latency under load (ALM-8)
  --hung-webhook         the probe's notifications go to a webhook that never answers (ALM-6)
  --api-probe            time the device page and a 24 h history while the load runs (issue 4)
  --ws-clients N         dashboard WebSocket clients of the API probe (default 50)
  --node-args "FLAGS"    extra node flags for the appliance, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  --keep                 keep the temp data dir
  -h, --help             this text

Examples:
  npm run bench -- --devices 1000 --rate 20000 --duration 60 --prefill 10000000
  npm run bench -- --devices 20 --rate 200 --duration 3 --from-source     # a few seconds`;

const values = benchArgs('bench', USAGE, {
  devices: { type: 'string', default: '1000' },
  rate: { type: 'string', default: '20000' },
  duration: { type: 'string', default: '60' },
  prefill: { type: 'string', default: '0' },
  qos: { type: 'string', default: '1' },
  synchronous: { type: 'string', default: 'FULL' },
  'connect-rate': { type: 'string', default: '1000' },
  url: { type: 'string' },
  keep: { type: 'boolean', default: false },
  'from-source': { type: 'boolean', default: false },
  'alarm-probe': { type: 'boolean', default: false },
  'hung-webhook': { type: 'boolean', default: false },
  'api-probe': { type: 'boolean', default: false },
  'ws-clients': { type: 'string', default: '50' },
  'node-args': { type: 'string', default: '' },
});
const devices = numberOption('bench', 'devices', values.devices, 1);
const rate = numberOption('bench', 'rate', values.rate, 1);
const duration = numberOption('bench', 'duration', values.duration, 1);
const prefill = numberOption('bench', 'prefill', values.prefill);
const qos = numberOption('bench', 'qos', values.qos);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function runLoad(url: string): Promise<Record<string, number | string>> {
  const args = [
    '--import', 'tsx', join(ROOT, 'simulator/main.ts'), 'load', '--url', url, '--devices', String(devices),
    '--sn-prefix', PREFIX, '--factory-secret', SECRET, '--rate', String(rate), '--duration', String(duration),
    '--qos', String(qos), '--connect-rate', values['connect-rate']!,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`load generator exited ${code} without a result: ${out}`));
      }
    });
  });
}

/**
 * Inserts `rows` readings spread over the devices, one every 10 s per device up to now (a store
 * that has been running), device by device (fast sequential appends), then brings the roll-ups up
 * to date as the running appliance keeps them.
 */
function prefillHotStore(file: string, snIds: number[], rows: number) {
  const db = openDb(file, { synchronous: 'NORMAL', cacheMb: 256 });
  const store = createReadingStore(db);
  const perDevice = Math.ceil(rows / snIds.length);
  const start = Date.now() - 60_000 - perDevice * 10_000;
  const chunk = 50_000;
  const buffer = new Float64Array(chunk * R.ROW_FIELDS);
  let written = 0;
  for (const snId of snIds) {
    for (let i = 0; i < perDevice && written < rows; ) {
      let n = 0;
      for (; n < chunk && i < perDevice && written < rows; n++, i++, written++) {
        const o = n * R.ROW_FIELDS;
        const ts = start + i * 10_000;
        buffer.set([snId, ts, 2350.5 + (i % 97), 300 + (i % 113), 25.4, 60.2, 85, -75, i % 65_536, 0, 0, ts + 150], o);
      }
      store.writeBatch(buffer, n);
    }
  }
  store.rollup(Date.now());
  db.close();
}

/** STO-5 query times on the store as it is. */
function queryFigures(file: string, sn: string) {
  const db = openDb(file, { readonly: true });
  try {
    const readings = createReadingRepository(db);
    const now = Date.now();
    return {
      latest_all_ms: timeMs(() => readings.latestAll()),
      device_last_hour_ms: timeMs(() => readings.raw(sn, now - 3_600_000, now)),
      device_last_hour_rows: readings.raw(sn, now - 3_600_000, now).length,
      device_7d_5m_ms: timeMs(() => readings.history(sn, now - 7 * 86_400_000, now, '5m')),
    };
  } finally {
    db.close();
  }
}

const PROBE_SN = 'PROBE-1';

/** A webhook receiver that takes every request and never answers (ALM-6: must not slow ingestion). */
async function startHungWebhook() {
  let requests = 0;
  const server = createHttpServer(() => void requests++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    requests: () => requests,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * Issue 3's alarm latency under load: one extra device alternates an over-limit and a normal
 * reading every 500 ms while the load runs; the appliance logs each alarm change with the time
 * from the reading's arrival to the committed record and its event.
 */
async function startAlarmProbe(url: string) {
  const client = await mqtt.connectAsync(url, {
    username: `device_${PROBE_SN}`, password: derivedDevicePassword(PROBE_SN, SECRET), clientId: PROBE_SN, protocolVersion: 4, reconnectPeriod: 0,
  });
  let seq = 0;
  let acked = 0;
  const timer = setInterval(() => {
    seq++;
    const payload = { ts: Math.floor(Date.now() / 1000), seq, v_raw: seq % 2 ? 5000 : 100, temp: 25, bat: 90, rssi: -70, err: 0 };
    client.publish(`mcs/${PROBE_SN}/up`, JSON.stringify(payload), { qos: 1 }, (err) => {
      if (!err) acked++;
    });
  }, 500);
  return {
    /** Stops; resolves with the probe readings acknowledged — each flips the alarm, so each must give one event (ALM-8). */
    stop: async (): Promise<number> => {
      clearInterval(timer);
      await client.endAsync();
      return acked;
    },
  };
}

/**
 * ALM-8 item 5: an operator's acknowledgement while the load runs — every second the probe's
 * unacknowledged alarms are acknowledged over the API; each answer's time and status are kept.
 */
async function startAckProbe(http: string) {
  const login = await fetch(`${http}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-admin-pass' }),
  });
  if (!login.ok) throw new Error(`ack probe login: ${login.status} ${await login.text()}`);
  const headers = { authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}`, 'content-type': 'application/json' };
  const times: number[] = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const list = await fetch(`${http}/api/alarms?sn=${PROBE_SN}&acknowledged=false&size=50`, { headers });
      const ids = ((await list.json()) as { data: { id: number }[] }).data.map((a) => a.id);
      if (!ids.length) continue;
      const started = performance.now();
      const answer = await fetch(`${http}/api/alarms/ack`, { method: 'POST', headers, body: JSON.stringify({ ids, comment: 'bench' }) });
      times.push(performance.now() - started);
      if (!answer.ok) failures++;
      await answer.arrayBuffer();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      const sorted = [...times].sort((a, b) => a - b);
      const at = (q: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]) : null);
      return { acks: sorted.length, ack_failures: failures, ack_p50_ms: at(0.5), ack_p99_ms: at(0.99), ack_max_ms: sorted.length ? Math.round(sorted.at(-1)!) : null };
    },
  };
}

function collectAlarmLatencies(stdout: NodeJS.ReadableStream): number[] {
  const latencies: number[] = [];
  let buffer = '';
  stdout.on('data', (chunk) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      if (!line.includes('"msg":"alarm"') || !line.includes(PROBE_SN)) continue;
      const entry = JSON.parse(line) as { kind: string; type: string; latency_ms: number };
      // The probe's readings flip HIGH; its acknowledgements and the OFFLINE at its disconnect are not theirs.
      if (entry.type !== 'HIGH' || entry.kind === 'acknowledged') continue;
      latencies.push(entry.latency_ms);
    }
  });
  return latencies;
}

function alarmFigures(latencies: number[], probeReadingsAcked: number) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
  return {
    probe_readings_acked: probeReadingsAcked,
    alarm_events: sorted.length,
    // Every acknowledged probe reading raises (or repeats) or clears: one event each (ALM-8).
    alarm_events_missing: Math.max(0, probeReadingsAcked - sorted.length),
    alarm_latency_p50_ms: at(0.5), alarm_latency_p99_ms: at(0.99), alarm_latency_max_ms: sorted.at(-1) ?? null,
  };
}

/** CPU seconds and RSS of a process, from /proc. */
function sampleProcess(pid: number): { cpuS: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const cpuTicks = Number(stat[11]) + Number(stat[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return { cpuS: cpuTicks / 100, rssMb: rssKb / 1024 };
}

/** Median time of `repeat` runs after one warm-up run (JIT, page cache). */
function timeMs(fn: () => unknown, repeat = 15): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    fn();
    times.push(performance.now() - started);
  }
  return Math.round(times.sort((a, b) => a - b)[Math.floor(repeat / 2)] * 100) / 100;
}

async function main() {
  if (values.url) {
    // Same load against any broker (e.g. a bare Mosquitto or aedes) for comparison.
    console.log(JSON.stringify({ broker: values.url, ...(await runLoad(values.url)) }));
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'mcs-bench-'));
  const file = dbFileIn(dataDir);
  try {
    const db = openDb(file);
    const repo = createDeviceRepository(db);
    const sns = serials(undefined, PREFIX, devices);
    const snIds = db.transaction(() => sns.map((sn) => repo.insert(sn, DEFAULT_SETTINGS, null, Date.now()).sn_id))();
    if (values['alarm-probe'] || values['hung-webhook']) repo.insert(PROBE_SN, { ...DEFAULT_SETTINGS, high_limit: 1000 }, null, Date.now());
    // ALM-6: notifications of the probe's alarms go to a webhook that never answers.
    const hung = values['hung-webhook'] ? await startHungWebhook() : null;
    if (hung) {
      createAlarmSettings({ config: createConfigRepository(db), box: createSecretBox(dataDir), clock: systemClock })
        .save({ schedule: { notify_cleared: true }, channels: { webhook: { enabled: true, settings: { url: hung.url } } } });
    }
    db.close();
    const prefillStarted = performance.now();
    if (prefill > 0) prefillHotStore(file, snIds, prefill);
    if (values['api-probe']) prefillHotStore(file, [snIds[0]], 8640); // 24 h at 10 s for the history request
    const prefillS = (performance.now() - prefillStarted) / 1000;
    const queriesBefore = queryFigures(file, sns[0]);

    // What ships is the bundle (PKG-1); --from-source measures the tsx run of `npm start`.
    const entry = values['from-source'] ? ['--import', 'tsx', join(ROOT, 'appliance/main.ts')] : [join(ROOT, 'dist/main.js')];
    if (!values['from-source']) await buildAppliance();
    const port = await freePort();
    const httpPort = await freePort();
    const nodeArgs = values['node-args']!.split(' ').filter(Boolean);
    const appliance = spawn(process.execPath, ['--max-semi-space-size=16', ...nodeArgs, ...entry], {
      cwd: ROOT,
      env: {
        ...process.env, MCS_DATA_DIR: dataDir, MCS_MQTT_PORT: String(port), MCS_HTTP_PORT: String(httpPort), MCS_ADMIN_PASSWORD: 'bench-admin-pass',
        MCS_MQTT_FACTORY_SECRET: SECRET, MCS_LOG_LEVEL: 'info', MCS_STORAGE_SYNCHRONOUS: values.synchronous!,
        MCS_MQTT_HOST: '127.0.0.1',
        // More devices than evaluation's 10: an offline development license (licensing/dev-license.ts).
        ...writeDevLicense(dataDir, devices + 10).env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const alarmLatencies = collectAlarmLatencies(appliance.stdout!);
    const exited = new Promise((resolve) => appliance.on('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 3000)); // started (log level warn prints nothing)
    const before = sampleProcess(appliance.pid!);
    let peakRss = before.rssMb;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, sampleProcess(appliance.pid!).rssMb)), 1000);
    const loadStarted = performance.now();
    const probing = values['alarm-probe'] || values['hung-webhook'];
    const probe = probing ? await startAlarmProbe(`mqtt://127.0.0.1:${port}`) : null;
    const ackProbe = values['alarm-probe'] ? await startAckProbe(`http://127.0.0.1:${httpPort}`) : null;
    const apiProbe = values['api-probe']
      ? await startApiProbe({ http: `http://127.0.0.1:${httpPort}`, username: 'admin', password: 'bench-admin-pass', sn: sns[0], wsClients: Number(values['ws-clients']), rate: 5, devices })
      : null;
    const load = await runLoad(`mqtt://127.0.0.1:${port}`);
    const probeReadingsAcked = (await probe?.stop()) ?? 0;
    const ackFigures = await ackProbe?.stop();
    const apiFigures = await apiProbe?.stop();
    const wallS = (performance.now() - loadStarted) / 1000;
    clearInterval(sampler);
    const after = sampleProcess(appliance.pid!);
    appliance.kill('SIGTERM');
    await exited;
    hung?.close();

    const check = openDb(file, { readonly: true });
    const readings = createReadingRepository(check);
    const probeRows = probing ? readings.raw(PROBE_SN, 0, Number.MAX_SAFE_INTEGER).length : 0;
    const stored = readings.count() - prefill - probeRows - (values['api-probe'] ? 8640 : 0);
    const pageSize = check.pragma('page_size', { simple: true }) as number;
    const readingsPages = (check.prepare("SELECT count(*) AS n FROM dbstat WHERE name = 'readings'").get() as { n: number }).n;
    const totalRows = readings.count();
    check.close();
    const acked = Number(load.acked);
    console.log(JSON.stringify({
      devices, qos, target_per_s: rate, duration_s: duration, synchronous: values.synchronous,
      runtime: values['from-source'] ? 'tsx' : 'bundle',
      sent: load.sent, acked, stored,
      readings_per_s: Math.round(stored / Number(load.duration_s ?? duration)),
      lost: Math.max(0, acked - stored),
      p50_ack_ms: load.p50_ack_ms, p90_ack_ms: load.p90_ack_ms, p99_ack_ms: load.p99_ack_ms, max_ack_ms: load.max_ack_ms,
      connect_failed: load.connect_failed,
      rss_mb: Math.round(after.rssMb), peak_rss_mb: Math.round(peakRss),
      cpu_pct: Math.round(((after.cpuS - before.cpuS) / wallS) * 100),
      hot_rows_prefilled: prefill, prefill_and_rollup_s: Math.round(prefillS),
      ...(probing ? alarmFigures(alarmLatencies, probeReadingsAcked) : {}),
      ...(ackFigures ?? {}),
      ...(hung ? { hung_webhook_requests: hung.requests() } : {}),
      ...(apiFigures ? { api: apiFigures } : {}),
      bytes_per_reading: Math.round((readingsPages * pageSize) / Math.max(1, totalRows) * 10) / 10,
      // Query times on the store before the load (a device reporting every 10 s) and after it.
      queries_before_load: queriesBefore,
      queries_after_load: queryFigures(file, sns[0]),
    }));
  } finally {
    if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
