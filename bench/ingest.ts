// `npm run bench`: the ingest path's figures (the spine: PUBACK → SQLite), measured end to end. Starts the appliance as its own
// process on a temp data dir, registers N detectors, optionally pre-fills the hot store, drives
// them from a separate load-generator process (simulator load mode, SIM-3) at a fixed rate at
// QoS 1, then counts what SQLite holds and times the STO-5 queries. Prints one JSON line.
// With --sync (issue 17) it runs twice, cloud sync off then on (every reading to a local Mosquitto),
// and adds what the cloud received, the uplink's lag and bytes, and the batch log's cost.
// A benchmark, not a test: it never fails on slow figures.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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
import { benchArgs, EXIT_USAGE, numberOption } from './args.ts';
import { startBenchMosquitto } from './mosquitto.ts';
import { measureBatchLogCost } from './batch-log-cost.ts';
import { freePort } from '../test/helpers/ports.ts';
import {
  adminSession, BENCH_BOX_ID, brokerFromUrl, sampleProcess, startCloudSubscriber, waitUntil, type AdminSession, type Broker, type CloudSubscriber,
} from './uplink-cloud.ts';

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
  --node-args=FLAGS      extra node flags for the appliance, e.g. --node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
  --appliance-log FILE   keep the appliance's log (JSON lines) in FILE, to explain what a run shows
  --keep                 keep the temp data dir
  -h, --help             this text

Cloud sync (issue 17):
  --sync                 run the load twice on fresh data dirs, sync off then on: with one MQTT target
                         sending every reading (telemetry raw, unthrottled) to a local Mosquitto and a
                         counting subscriber on it. Adds the cloud's figures (readings received,
                         duplicates, lost = stored readings whose id never arrived, lag from
                         /api/system/uplink every second and from receive time to arrival, uplink
                         bytes, catch-up after the load), the batch log's size per reading, its
                         writer cost (a commit micro-benchmark, log on vs off) and the cost against
                         the sync-off run
  --sync-url URL         the cloud broker instead of a local Mosquitto: mqtt://user:pass@host:port
                         (the subscriber uses the same account)
  --no-baseline          with --sync: only the sync-on run
  --drain-timeout S      with --sync: seconds to wait after the load for the backlog to reach 0 (default 120)

Examples:
  npm run bench -- --devices 1000 --rate 20000 --duration 60 --prefill 10000000
  npm run bench -- --devices 1000 --rate 20000 --duration 60 --sync
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
  'appliance-log': { type: 'string', default: '' },
  sync: { type: 'boolean', default: false },
  'sync-url': { type: 'string' },
  'no-baseline': { type: 'boolean', default: false },
  'drain-timeout': { type: 'string', default: '120' },
});
const devices = numberOption('bench', 'devices', values.devices, 1);
const rate = numberOption('bench', 'rate', values.rate, 1);
const duration = numberOption('bench', 'duration', values.duration, 1);
const prefill = numberOption('bench', 'prefill', values.prefill);
const qos = numberOption('bench', 'qos', values.qos);
const drainTimeoutS = numberOption('bench', 'drain-timeout', values['drain-timeout'], 1);
if (values.url && values.sync) {
  process.stderr.write('bench: --url drives another broker without an appliance; it cannot be combined with --sync (see --help)\n');
  process.exit(EXIT_USAGE);
}
if ((values['sync-url'] || values['no-baseline']) && !values.sync) {
  process.stderr.write('bench: --sync-url and --no-baseline go with --sync (see --help)\n');
  process.exit(EXIT_USAGE);
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

/** The cloud side of a sync-on run: where the box sends, and the account the counting subscriber uses. */
interface SyncRun {
  box: Broker;
  cloud: Broker;
  /** Mosquitto's pid when the benchmark started it (its CPU is reported). */
  brokerPid: number | null;
}

/** The uplink while the load runs: the status every second, the batch log's rows as they are written. */
function startSyncSampling(session: AdminSession, file: string, brokerPid: number | null) {
  const lags: number[] = [];
  const statusMs: number[] = [];
  let backlogMax = 0;
  let failures = 0;
  // The batch log's rows are read before the uplink prunes them (acknowledged rows go within seconds;
  // rows_sampled against rows_written says how many were seen).
  const log = { rows: 0, readings: 0, keyBytes: 0, lastId: 0 };
  const reader = openDb(file, { readonly: true });
  const newRows = reader.prepare<[number], { id: number; n: number; bytes: number | null }>(
    'SELECT id, n, length(keys) AS bytes FROM uplink_batches WHERE id > ? ORDER BY id');
  const readLog = () => {
    for (const row of newRows.iterate(log.lastId)) {
      log.rows++;
      log.readings += row.n;
      log.keyBytes += row.bytes ?? 0;
      log.lastId = row.id;
    }
  };
  const brokerBefore = brokerPid ? sampleProcess(brokerPid) : null;
  const startedAt = performance.now();
  let busy = false;
  const timer = setInterval(() => {
    readLog();
    if (busy) return;
    busy = true;
    session.status().then(({ target, ms }) => {
      statusMs.push(ms);
      if (target) {
        lags.push(target.lag_s);
        backlogMax = Math.max(backlogMax, target.backlog);
      }
    }, () => failures++).finally(() => (busy = false));
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      readLog();
      const written = (reader.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'uplink_batches'").pluck().get() as number | undefined) ?? 0;
      reader.close();
      const sorted = [...lags].sort((a, b) => a - b);
      const brokerAfter = brokerPid ? sampleProcess(brokerPid) : null;
      const wallS = (performance.now() - startedAt) / 1000;
      return {
        status_samples: lags.length, status_failures: failures,
        lag_status_max_s: sorted.length ? round(sorted.at(-1)!, 1) : null,
        lag_status_p99_s: sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))], 1) : null,
        backlog_max: backlogMax,
        status_request_max_ms: statusMs.length ? Math.round(Math.max(...statusMs)) : null,
        broker_cpu_pct: brokerBefore && brokerAfter ? Math.round(((brokerAfter.cpuS - brokerBefore.cpuS) / wallS) * 100) : null,
        batchLog: {
          rows_written: written, rows_sampled: log.rows, readings_sampled: log.readings,
          readings_per_row: log.rows ? round(log.readings / log.rows, 1) : null,
          key_bytes_per_reading: log.readings ? round(log.keyBytes / log.readings, 2) : null,
        },
      };
    },
  };
}

const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * SYNC-1's promise, checked: every reading the box stored after the target was configured reached
 * the cloud (its id seen by the subscriber). Readings stored before (a pre-fill) are not the
 * target's: a new target starts at the present.
 */
function readingsNotInCloud(file: string, since: number, seen: Map<string, Set<number>>) {
  const db = openDb(file, { readonly: true });
  try {
    let expected = 0;
    let missing = 0;
    const rows = db.prepare<[number], { sn: string; ts: number }>(
      'SELECT s.sn, r.ts FROM readings r JOIN serials s ON s.id = r.sn_id WHERE r.ts + r.recv_delta >= ?');
    for (const { sn, ts } of rows.iterate(since)) {
      expected++;
      if (!seen.get(sn)?.has(ts)) missing++;
    }
    return { expected, missing };
  } finally {
    db.close();
  }
}

/** One run of the appliance under the load; with `sync`, a cloud target sends every reading. */
async function runOnce(sync: SyncRun | null): Promise<Record<string, unknown>> {
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
    const port = await freePort();
    const httpPort = await freePort();
    const http = `http://127.0.0.1:${httpPort}`;
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
    if (values['appliance-log']) appliance.stdout!.pipe(createWriteStream(values['appliance-log']!));
    let running = true;
    const exited = new Promise((resolve) => appliance.on('exit', resolve)).finally(() => (running = false));
    // A benchmark that fails half-way must not leave the appliance running.
    const stopOnFailure = () => {
      if (running) appliance.kill('SIGTERM');
    };
    process.once('exit', stopOnFailure);
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000)); // started (log level warn prints nothing)
      // A slow start (tsx compiling on a busy box): wait for the API to answer.
      const answering = await waitUntil(() => fetch(`${http}/api/system/health`).then((r) => r.ok, () => false), 60_000, 250);
      if (!answering) throw new Error(`the appliance did not answer on ${http} within 60 s`);

      // Issue 17: the target is configured the way an admin does it, before the load; from then on
      // every commit appends its keys to the batch log and the sender sends them.
      const seen = new Map<string, Set<number>>();
      let cloud: CloudSubscriber | null = null;
      let session: AdminSession | null = null;
      let syncSince = 0;
      if (sync) {
        session = await adminSession(http, 'bench-admin-pass');
        cloud = await startCloudSubscriber(sync.cloud, (sn, ts) => {
          let tss = seen.get(sn);
          if (!tss) seen.set(sn, (tss = new Set()));
          const fresh = !tss.has(ts);
          tss.add(ts);
          return fresh;
        });
        syncSince = Date.now();
        await session.configureTarget(sync.box);
        const up = await waitUntil(async () => (await session!.status()).target?.connected === true, 15_000);
        if (!up) throw new Error(`the cloud target did not connect to ${sync.box.url}: ${JSON.stringify((await session.status()).target)}`);
      }
      const syncSampling = sync && session ? startSyncSampling(session, file, sync.brokerPid) : null;

      const before = sampleProcess(appliance.pid!);
      let peakRss = before.rssMb;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, sampleProcess(appliance.pid!).rssMb)), 1000);
      const loadStarted = performance.now();
      const loadAverageBefore = loadavg()[0];
      const probing = values['alarm-probe'] || values['hung-webhook'];
      const probe = probing ? await startAlarmProbe(`mqtt://127.0.0.1:${port}`) : null;
      const ackProbe = values['alarm-probe'] ? await startAckProbe(http) : null;
      const apiProbe = values['api-probe']
        ? await startApiProbe({ http, username: 'admin', password: 'bench-admin-pass', sn: sns[0], wsClients: Number(values['ws-clients']), rate: 5, devices })
        : null;
      const load = await runLoad(`mqtt://127.0.0.1:${port}`);
      const probeReadingsAcked = (await probe?.stop()) ?? 0;
      const ackFigures = await ackProbe?.stop();
      const apiFigures = await apiProbe?.stop();
      const wallS = (performance.now() - loadStarted) / 1000;
      const loadAverageAfter = loadavg()[0];
      clearInterval(sampler);
      const after = sampleProcess(appliance.pid!);

      // After the load: how long until the cloud has everything (the backlog at 0, the subscriber quiet).
      let catchUpS: number | null = null;
      let finalStatus: Awaited<ReturnType<AdminSession['status']>>['target'] | undefined;
      if (session && cloud) {
        const loadEnded = performance.now();
        const drained = await waitUntil(async () => {
          finalStatus = (await session!.status()).target;
          return finalStatus?.backlog === 0;
        }, drainTimeoutS * 1000, 100);
        if (drained) catchUpS = round((performance.now() - loadEnded) / 1000, 1);
        await waitUntil(() => performance.now() - cloud!.lastAt() > 1000, 30_000, 100);
      }
      const syncFigures = syncSampling?.stop();
      await cloud?.stop();
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
      const figures: Record<string, unknown> = {
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
      };
      // The machine is shared: its 1-minute load average when the load began and ended.
      if (values.sync) figures.load_average = [round(loadAverageBefore, 1), round(loadAverageAfter, 1)];
      if (sync && cloud && syncFigures) {
        const { expected, missing } = readingsNotInCloud(file, syncSince, seen);
        const { batchLog, ...uplink } = syncFigures;
        const bytes = finalStatus?.bytes_today ?? null;
        figures.sync = {
          target: values['sync-url'] ? 'mqtt (--sync-url)' : 'mqtt, local Mosquitto (plain TCP, password)',
          box_id: BENCH_BOX_ID,
          // SYNC-1: zero lost = every stored reading's id arrived.
          readings_stored_since_configured: expected, cloud_readings: cloud.counts.readings,
          cloud_unique_readings: cloud.counts.readings - cloud.counts.duplicates, duplicates: cloud.counts.duplicates,
          lost: missing, other_records: cloud.counts.other, historical_records: cloud.counts.historical,
          // Receive time at the box → arrival at the cloud subscriber, per live reading.
          lag_p50_ms: cloud.lag.percentile(0.5), lag_p99_ms: cloud.lag.percentile(0.99), lag_max_ms: cloud.lag.max(),
          ...uplink,
          catch_up_after_load_s: catchUpS,
          uplink_bytes: bytes, uplink_bytes_per_reading: bytes !== null && expected ? round(bytes / expected, 1) : null,
          cloud_messages: cloud.counts.messages, cloud_payload_bytes: cloud.counts.bytes,
          records_per_message: cloud.counts.messages ? Math.round(cloud.counts.records / cloud.counts.messages) : null,
        };
        figures.batch_log = batchLog;
      }
      return figures;
    } finally {
      stopOnFailure();
      await exited;
      process.off('exit', stopOnFailure);
    }
  } finally {
    if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  if (values.url) {
    // Same load against any broker (e.g. a bare Mosquitto or aedes) for comparison.
    console.log(JSON.stringify({ broker: values.url, ...(await runLoad(values.url)) }));
    return;
  }
  if (!values['from-source']) await buildAppliance();
  if (!values.sync) {
    console.log(JSON.stringify(await runOnce(null)));
    return;
  }
  const passwords = { box: 'bench-box-pass', cloud: 'bench-cloud-pass' };
  const local = values['sync-url'] ? null : await startBenchMosquitto(passwords);
  try {
    const given = values['sync-url'] ? brokerFromUrl(values['sync-url']) : null;
    const box = given ?? { url: local!.url, username: 'box', password: passwords.box };
    const cloudAccount = given ?? { url: local!.url, username: 'cloud', password: passwords.cloud };
    // The baseline first, on its own fresh data dir, then the same load with the target on.
    const off = values['no-baseline'] ? null : await runOnce(null);
    const on = await runOnce({ box, cloud: cloudAccount, brokerPid: local?.pid ?? null });
    const batchLog = on.batch_log as { readings_per_row: number | null };
    // The writer's cost of the log alone, without the load's noise: commits of the batch size this
    // run had, and of one reading (a field rate: 1,000 detectors at 10 s gives commits of 1-2).
    const perRow = Math.max(1, Math.round(batchLog.readings_per_row ?? 1));
    on.batch_log = { ...batchLog, writer: [measureBatchLogCost({ batchRows: perRow, devices }), measureBatchLogCost({ batchRows: 1, devices })] };
    const delta = (key: string) => (off && typeof on[key] === 'number' && typeof off[key] === 'number' ? round((on[key] as number) - (off[key] as number), 1) : null);
    console.log(JSON.stringify({
      ...on,
      sync_off: off,
      sync_cost: off ? {
        readings_per_s: delta('readings_per_s'), lost: delta('lost'), cpu_pct: delta('cpu_pct'), peak_rss_mb: delta('peak_rss_mb'),
        p50_ack_ms: delta('p50_ack_ms'), p99_ack_ms: delta('p99_ack_ms'), max_ack_ms: delta('max_ack_ms'),
      } : null,
    }));
  } finally {
    await local?.stop();
  }
}

await main();
