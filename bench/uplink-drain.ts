// `npm run bench:uplink-drain` (issue 17, Performance): the backlog of a cloud target that was
// offline for a day, drained. N detectors at a reading every S seconds for H hours (default 1,000 ×
// 10 s × 24 h = 8.64M readings) are written into the hot store the way the writer writes them — the
// writer's own code (storage/reading-store.ts) in group commits of what arrives within a few
// milliseconds, with a target's cursor in place so each commit appends its keys to the batch log
// (storage/uplink-log.ts) — and rolled up. Then the appliance starts on that data dir, an admin
// points the target at a local Mosquitto (PUT /api/config/uplink), and the benchmark times the drain
// until a counting subscriber has every reading and the box reports a backlog of 0: records per
// second, minutes, the appliance's RSS and event-loop delay while it drains, lost and duplicate
// ids. Unthrottled (no rate or byte budget). A measurement, not a test. Prints one JSON line.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAppliance } from '../appliance/build.ts';
import { DEFAULT_SETTINGS } from '../appliance/devices/service.ts';
import { dbFileIn, openDb } from '../appliance/storage/db.ts';
import { createDeviceRepository } from '../appliance/storage/devices.ts';
import { createReadingStore } from '../appliance/storage/reading-store.ts';
import * as R from '../appliance/storage/reading-row.ts';
import { createUplinkQueue } from '../appliance/sync/queue.ts';
import { writeDevLicense } from '../licensing/dev-license.ts';
import { serials } from '../simulator/cli.ts';
import { benchArgs, numberOption } from './args.ts';
import { startBenchMosquitto } from './mosquitto.ts';
import { createRng } from '../simulator/rng.ts';
import {
  adminSession, BENCH_BOX_ID, BENCH_TARGET_ID, createHistogram, sampleProcess, startCloudSubscriber, waitUntil,
} from './uplink-cloud.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const PREFIX = 'BENCH';
const SECRET = 'bench-factory-secret';
const ADMIN_PASSWORD = 'bench-admin-pass';
const FULL_DAY_READINGS = 8_640_000;

const USAGE = `Usage: npm run bench:uplink-drain -- [options]

A cloud target's backlog after a day offline, drained (issue 17): N detectors at a reading every S
seconds for H hours are written into the hot store by the writer's own code with the batch log on
(the target's cursor in place, the target unreachable), then the appliance starts on that data dir
and the target is pointed at a local Mosquitto. Times the drain until a counting subscriber has
every reading and the box's backlog is 0, unthrottled: records/s, minutes, RSS and event-loop delay
while draining, lost and duplicate ids. Prints one JSON line. A benchmark, not a test.

  --devices N           detectors (default 1000)
  --hours H             hours of backlog (default 24: 8.64M readings at 1,000 detectors and 10 s)
  --interval S          seconds between a detector's readings (default 10)
  --commit-ms MS        readings arriving within this many ms share a group commit (one batch-log
                        row): the group commit's wait (ingest.commit_interval_ms, 4) and the commit
                        itself (default 5: 1.5 readings a row at 1,000 detectors and 10 s)
  --live                the detectors keep reporting during the drain (simulator load mode at
                        devices/interval readings per second); their readings must arrive too
  --timeout-min M       give up after M minutes of draining (default 40)
  --from-source         run the appliance with tsx instead of the dist/ bundle
  --node-args=FLAGS     extra node flags for the appliance, e.g. --node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
  --keep                keep the temp data dir
  -h, --help            this text

Examples:
  npm run bench:uplink-drain                       # the issue's day: 8.64M readings
  npm run bench:uplink-drain -- --hours 1          # a quick check: 360,000 readings`;

const values = benchArgs('bench:uplink-drain', USAGE, {
  devices: { type: 'string', default: '1000' },
  hours: { type: 'string', default: '24' },
  interval: { type: 'string', default: '10' },
  'commit-ms': { type: 'string', default: '5' },
  live: { type: 'boolean', default: false },
  'timeout-min': { type: 'string', default: '40' },
  'from-source': { type: 'boolean', default: false },
  'node-args': { type: 'string', default: '' },
  keep: { type: 'boolean', default: false },
});
const devices = Math.round(numberOption('bench:uplink-drain', 'devices', values.devices, 1));
const hours = numberOption('bench:uplink-drain', 'hours', values.hours, 0.01);
const intervalMs = Math.round(numberOption('bench:uplink-drain', 'interval', values.interval, 0.1) * 1000);
const commitMs = numberOption('bench:uplink-drain', 'commit-ms', values['commit-ms'], 0);
const timeoutMin = numberOption('bench:uplink-drain', 'timeout-min', values['timeout-min'], 0.1);
const steps = Math.max(1, Math.floor((hours * 3_600_000) / intervalMs));
const RECEIVE_DELAY_MS = 150;

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} uplink-drain: ${line}\n`);
const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}


interface Day {
  start: number;
  /** Detector i reports at start + k × interval + phase[i], k = 0 … steps − 1. */
  phase: Int32Array;
  readings: number;
  logRows: number;
  fillS: number;
  rollupS: number;
  dbMb: number;
  readingsBytesPerReading: number;
  logBytesPerReading: number;
  logMb: number;
}

/**
 * The day, written as the writer would have: readings in arrival order (every detector at its own
 * phase), grouped into commits of what arrives within `commitMs`, each through the store's
 * writeBatch with the target's cursor in place (so each appends its batch-log row). Many commits go
 * in one outer transaction (savepoints inside) only to keep the fill quick; the rows are the same.
 */
function fillDay(file: string, sns: string[]): Day {
  const fillStarted = performance.now();
  const db = openDb(file, { synchronous: 'NORMAL', cacheMb: 256 });
  const repo = createDeviceRepository(db);
  const snIds = db.transaction(() => sns.map((sn) => repo.insert(sn, DEFAULT_SETTINGS, null, Date.now()).sn_id))();
  // The target existed (and was unreachable) for the whole day: its cursor is older than the day's first commit.
  const queue = createUplinkQueue(db, { boxId: () => BENCH_BOX_ID, clockUnsyncedAt: () => false });
  const start = Date.now() - steps * intervalMs - 120_000;
  queue.ensureCursor(BENCH_TARGET_ID, start - 1000, false);
  const store = createReadingStore(db);

  const next = createRng(17); // deterministic: the detectors' phases are the same on every run
  const phase = Int32Array.from(sns, () => Math.floor(next() * intervalMs));
  const order = Array.from(sns.keys()).sort((a, b) => phase[a] - phase[b]);
  const maxRows = 4000; // the writer's commit_max_rows default order of magnitude
  const rows = new Float64Array(maxRows * R.ROW_FIELDS);
  let n = 0;
  let batchStart = 0;
  let readings = 0;
  const flush = () => {
    if (n) store.writeBatch(rows, n);
    n = 0;
  };
  const STEPS_PER_TRANSACTION = Math.max(1, Math.floor(20_000 / devices));
  let lastReport = performance.now();
  for (let k0 = 0; k0 < steps; k0 += STEPS_PER_TRANSACTION) {
    db.transaction(() => {
      for (let k = k0; k < Math.min(steps, k0 + STEPS_PER_TRANSACTION); k++) {
        for (const d of order) {
          const ts = start + k * intervalMs + phase[d];
          const received = ts + RECEIVE_DELAY_MS;
          if (n && (received - batchStart >= commitMs || n === maxRows)) flush();
          if (!n) batchStart = received;
          const o = n * R.ROW_FIELDS;
          const wave = Math.sin(k / 60 + d);
          rows[o + R.F_SN_ID] = snIds[d];
          rows[o + R.F_TS] = ts;
          rows[o + R.F_V_RAW] = 2350.5 + Math.round(wave * 400) / 10;
          rows[o + R.F_PPM] = 300 + Math.round(wave * 2000) / 10;
          rows[o + R.F_TEMP] = 24 + (k % 50) / 10;
          rows[o + R.F_HUMI] = 55 + (k % 20);
          rows[o + R.F_BAT] = 90 - ((k >> 10) % 10);
          rows[o + R.F_RSSI] = -60 - (d % 30);
          rows[o + R.F_SEQ] = k % 65_536;
          rows[o + R.F_ERR] = 0;
          rows[o + R.F_FLAGS] = 0;
          rows[o + R.F_RECEIVED] = received;
          n++;
          readings++;
        }
      }
      flush();
    })();
    if (performance.now() - lastReport > 30_000) {
      lastReport = performance.now();
      log(`filled ${readings.toLocaleString('en')} of ${(steps * devices).toLocaleString('en')} readings`);
    }
  }
  const fillS = (performance.now() - fillStarted) / 1000;
  const rollupStarted = performance.now();
  store.rollup(Date.now()); // the roll-ups were kept up to date while the box ran
  const rollupS = (performance.now() - rollupStarted) / 1000;
  db.pragma('wal_checkpoint(TRUNCATE)');
  const bytesOf = (table: string) => db.prepare('SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ?').pluck().get(table) as number;
  const logRows = db.prepare('SELECT count(*) FROM uplink_batches').pluck().get() as number;
  const logBytes = bytesOf('uplink_batches');
  const day: Day = {
    start, phase, readings, logRows, fillS, rollupS,
    dbMb: ((db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number)) / 1048576,
    readingsBytesPerReading: bytesOf('readings') / readings,
    logBytesPerReading: logBytes / readings,
    logMb: logBytes / 1048576,
  };
  db.close();
  return day;
}

/** The appliance's main-thread event-loop delay, once a second, into a file (a preload: the bundle is plain node). */
const LOOP_PROBE = `
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { appendFileSync } from 'node:fs';
if (isMainThread && process.env.BENCH_LOOP_FILE) {
  const file = process.env.BENCH_LOOP_FILE;
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  setInterval(() => {
    appendFileSync(file, JSON.stringify({ at: Date.now(), p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 }) + '\\n');
    histogram.reset();
  }, 1000).unref();
}
`;

function startLive(url: string): { stop: () => Promise<Record<string, unknown> | null> } {
  const args = [
    '--import', 'tsx', join(ROOT, 'simulator/main.ts'), 'load', '--url', url, '--devices', String(devices), '--sn-prefix', PREFIX,
    '--factory-secret', SECRET, '--rate', String(Math.max(1, Math.round((devices * 1000) / intervalMs))), '--duration', String(24 * 3600),
    '--qos', '1', '--connect-rate', '500',
  ];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      try {
        return JSON.parse(out.trim().split('\n').at(-1) ?? '');
      } catch {
        return null;
      }
    },
  };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcs-bench-drain-'));
  const file = dbFileIn(dataDir);
  let appliance: ChildProcess | null = null;
  let running = false;
  const stopAppliance = () => {
    if (running) appliance?.kill('SIGTERM');
  };
  process.once('exit', stopAppliance);
  const broker = await startBenchMosquitto({ box: 'bench-box-pass', cloud: 'bench-cloud-pass' });
  try {
    const sns = serials(undefined, PREFIX, devices);
    log(`writing ${(steps * devices).toLocaleString('en')} readings (${devices} detectors, ${hours} h at ${intervalMs / 1000} s) with the batch log on`);
    const day = fillDay(file, sns);
    log(`filled in ${Math.round(day.fillS)} s (roll-ups ${Math.round(day.rollupS)} s): ${day.logRows.toLocaleString('en')} batch-log rows, database ${Math.round(day.dbMb)} MB`);

    // The cloud: which of the day's readings arrived (a bit per detector and step) and any others.
    const dayIndex = new Map(sns.map((sn, i) => [sn, i]));
    const seenDay = new Uint8Array(devices * steps);
    const seenOther = new Map<string, Set<number>>();
    let dayUnique = 0;
    const track = (sn: string, ts: number): boolean => {
      const d = dayIndex.get(sn);
      if (d !== undefined) {
        const k = (ts - day.start - day.phase[d]) / intervalMs;
        if (Number.isInteger(k) && k >= 0 && k < steps) {
          const i = d * steps + k;
          if (seenDay[i]) return false;
          seenDay[i] = 1;
          dayUnique++;
          return true;
        }
      }
      let tss = seenOther.get(sn);
      if (!tss) seenOther.set(sn, (tss = new Set()));
      if (tss.has(ts)) return false;
      tss.add(ts);
      return true;
    };
    const cloud = await startCloudSubscriber({ url: broker.url, username: 'cloud', password: 'bench-cloud-pass' }, track, (r) => !r.historical);

    if (!values['from-source']) await buildAppliance();
    const entry = values['from-source'] ? ['--import', 'tsx', join(ROOT, 'appliance/main.ts')] : [join(ROOT, 'dist/main.js')];
    const probeFile = join(dataDir, 'loop-probe.mjs');
    const loopFile = join(dataDir, 'loop.jsonl');
    writeFileSync(probeFile, LOOP_PROBE);
    const mqttPort = await freePort();
    const httpPort = await freePort();
    const http = `http://127.0.0.1:${httpPort}`;
    const nodeArgs = values['node-args']!.split(' ').filter(Boolean);
    appliance = spawn(process.execPath, ['--max-semi-space-size=16', '--import', probeFile, ...nodeArgs, ...entry], {
      cwd: ROOT,
      env: {
        ...process.env, MCS_DATA_DIR: dataDir, MCS_MQTT_PORT: String(mqttPort), MCS_HTTP_PORT: String(httpPort), MCS_MQTT_HOST: '127.0.0.1',
        MCS_ADMIN_PASSWORD: ADMIN_PASSWORD, MCS_MQTT_FACTORY_SECRET: SECRET, MCS_LOG_LEVEL: 'warn', BENCH_LOOP_FILE: loopFile,
        ...writeDevLicense(dataDir, devices + 10).env,
      },
      stdio: ['ignore', 2, 2], // its log lines to stderr: stdout is the one JSON line
    });
    running = true;
    const exited = new Promise((resolve) => appliance!.on('exit', resolve)).finally(() => (running = false));
    const startedAt = performance.now();
    const answering = await waitUntil(() => fetch(`${http}/api/system/health`).then((r) => r.ok, () => false), 120_000, 250);
    if (!answering) throw new Error(`the appliance did not answer on ${http} within 120 s`);
    const startS = (performance.now() - startedAt) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 2000)); // settled after its start
    const session = await adminSession(http, ADMIN_PASSWORD);
    const pid = appliance.pid!;
    const idle = sampleProcess(pid);
    // --live: the detectors connect and report for a while before the target is configured (the
    // link still down), then on through the drain; all their readings are checked too.
    const since = Date.now();
    const live = values.live ? startLive(`mqtt://127.0.0.1:${mqttPort}`) : null;
    if (live) await new Promise((resolve) => setTimeout(resolve, 5000 + (devices / 500) * 1000));

    // The drain: from the admin's PUT until the cloud has every reading of the day.
    const rss: { t: number; mb: number }[] = [];
    const statusMs = createHistogram();
    const statuses: { t: number; backlog: number; rate: number }[] = [];
    const cpuBefore = { appliance: sampleProcess(pid).cpuS, broker: sampleProcess(broker.pid).cpuS, bench: process.cpuUsage() };
    const t0 = performance.now();
    const putAt = Date.now();
    const loadAtPut = loadavg()[0];
    await session.configureTarget({ url: broker.url, username: 'box', password: 'bench-box-pass' });
    let firstRecordS: number | null = null;
    let lastProgress = t0;
    let lastStatus = 0;
    let statusBusy = false;
    const sampler = setInterval(() => {
      const now = performance.now();
      rss.push({ t: (now - t0) / 1000, mb: sampleProcess(pid).rssMb });
      if (firstRecordS === null && cloud.counts.readings > 0) firstRecordS = (now - t0) / 1000;
      // The status sums the backlog on the appliance's main thread: asked every 10 s, timed.
      if (!statusBusy && now - lastStatus >= 10_000) {
        lastStatus = now;
        statusBusy = true;
        session.status().then(({ target, ms }) => {
          statusMs.add(ms);
          if (target) statuses.push({ t: round((performance.now() - t0) / 1000, 1), backlog: target.backlog, rate: target.rate_per_s });
        }, () => undefined).finally(() => (statusBusy = false));
      }
      if (now - lastProgress >= 30_000) {
        lastProgress = now;
        log(`${Math.round((now - t0) / 1000)} s: ${dayUnique.toLocaleString('en')} of ${day.readings.toLocaleString('en')} in the cloud, RSS ${Math.round(rss.at(-1)!.mb)} MB`);
      }
    }, 1000);
    const complete = await waitUntil(() => dayUnique >= day.readings, timeoutMin * 60_000, 100);
    const cloudCompleteS = (performance.now() - t0) / 1000;
    const cpuAfter = { appliance: sampleProcess(pid).cpuS, broker: sampleProcess(broker.pid).cpuS, bench: process.cpuUsage(cpuBefore.bench) };
    // The live detectors stop; then the box's own word: its backlog at 0 (each PUBACK moved the cursor).
    const liveFigures = (await live?.stop()) ?? null;
    let backlogZeroS: number | null = null;
    if (complete) {
      const zero = await waitUntil(async () => (await session.status()).target?.backlog === 0, 60_000, 250);
      if (zero) backlogZeroS = (performance.now() - t0) / 1000;
    }
    clearInterval(sampler);
    const final = (await session.status()).target;
    await waitUntil(() => performance.now() - cloud.lastAt() > 1000, 30_000, 100);
    await cloud.stop();
    stopAppliance();
    await exited;

    // Lost: readings of the day, and (with --live) readings stored during the drain, whose id never arrived.
    const lostDay = day.readings - dayUnique;
    let liveStored = 0;
    let liveLost = 0;
    if (values.live) {
      const db = openDb(file, { readonly: true });
      const rows = db.prepare<[number], { sn: string; ts: number }>('SELECT s.sn, r.ts FROM readings r JOIN serials s ON s.id = r.sn_id WHERE r.ts + r.recv_delta >= ?');
      for (const { sn, ts } of rows.iterate(since)) {
        liveStored++;
        if (!seenOther.get(sn)?.has(ts)) liveLost++;
      }
      db.close();
    }
    const loop = existsSync(loopFile)
      ? readFileSync(loopFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { at: number; p99: number; max: number }).filter((s) => s.at >= putAt && s.at <= putAt + cloudCompleteS * 1000 + 1000)
      : [];
    const loopP99s = loop.map((s) => s.p99).sort((a, b) => a - b);
    const drainS = cloudCompleteS;
    const rssIn = (from: number, to: number) => Math.round(Math.max(0, ...rss.filter((s) => s.t >= from * drainS && s.t <= to * drainS).map((s) => s.mb)));
    const wallS = cloudCompleteS;
    const scaled = day.readings !== FULL_DAY_READINGS;
    console.log(JSON.stringify({
      devices, hours, interval_s: intervalMs / 1000, commit_ms: commitMs, live: values.live, runtime: values['from-source'] ? 'tsx' : 'bundle',
      readings: day.readings, batch_log_rows: day.logRows, readings_per_log_row: round(day.readings / day.logRows, 2),
      fill_s: Math.round(day.fillS), rollup_s: Math.round(day.rollupS), database_mb: Math.round(day.dbMb),
      readings_bytes_per_reading: round(day.readingsBytesPerReading, 1), log_bytes_per_reading: round(day.logBytesPerReading, 1), log_mb: Math.round(day.logMb),
      appliance_start_s: round(startS, 1),
      complete,
      drain_s: round(drainS, 1), drain_min: round(drainS / 60, 2), records_per_s: Math.round(dayUnique / drainS),
      first_record_s: firstRecordS, backlog_zero_s: backlogZeroS === null ? null : round(backlogZeroS, 1),
      ...(scaled && complete ? { projected_full_day_min: round(((drainS / day.readings) * FULL_DAY_READINGS) / 60, 1) } : {}),
      cloud_readings: cloud.counts.readings, duplicates: cloud.counts.duplicates, lost: lostDay, historical: cloud.counts.historical,
      other_records: cloud.counts.other,
      ...(values.live ? { live_stored: liveStored, live_lost: liveLost, live_lag_p50_ms: cloud.lag.percentile(0.5), live_lag_p99_ms: cloud.lag.percentile(0.99), live_lag_max_ms: cloud.lag.max(), live_load: liveFigures } : {}),
      uplink_bytes: final?.bytes_today ?? null, uplink_bytes_per_reading: final ? round(final.bytes_today / Math.max(1, cloud.counts.readings), 1) : null,
      cloud_messages: cloud.counts.messages, records_per_message: cloud.counts.messages ? Math.round(cloud.counts.records / cloud.counts.messages) : null,
      rss_idle_mb: Math.round(idle.rssMb), rss_peak_mb: Math.round(Math.max(idle.rssMb, ...rss.map((s) => s.mb))),
      rss_peak_by_quarter_mb: [rssIn(0, 0.25), rssIn(0.25, 0.5), rssIn(0.5, 0.75), rssIn(0.75, 1)],
      rss_end_mb: Math.round(rss.at(-1)?.mb ?? 0),
      event_loop_p99_ms: {
        median_second: loopP99s.length ? round(loopP99s[Math.floor(loopP99s.length / 2)], 1) : null,
        worst_second: loopP99s.length ? round(loopP99s.at(-1)!, 1) : null,
      },
      event_loop_max_ms: loop.length ? round(Math.max(...loop.map((s) => s.max)), 1) : null,
      // The worst seconds, at their time since the PUT: a stall that repeats (e.g. every 60 s) has a cause with a period.
      event_loop_worst_seconds: [...loop].sort((a, b) => b.max - a.max).slice(0, 5)
        .map((s) => ({ t: round((s.at - putAt) / 1000), max_ms: round(s.max), p99_ms: round(s.p99) })).sort((a, b) => a.t - b.t),
      status_request_ms: { p50: statusMs.percentile(0.5), max: statusMs.max(), samples: statusMs.count },
      status_samples: statuses.filter((_, i) => i % 6 === 0),
      appliance_cpu_pct: Math.round(((cpuAfter.appliance - cpuBefore.appliance) / wallS) * 100),
      broker_cpu_pct: Math.round(((cpuAfter.broker - cpuBefore.broker) / wallS) * 100),
      subscriber_cpu_pct: Math.round(((cpuAfter.bench.user + cpuAfter.bench.system) / 1e6 / wallS) * 100),
      // The machine is shared: its 1-minute load average when the drain began and ended.
      load_average: [round(loadAtPut, 1), round(loadavg()[0], 1)],
    }));
  } finally {
    stopAppliance();
    await broker.stop();
    if (!values.keep) rmSync(dataDir, { recursive: true, force: true });
    else log(`data dir kept: ${dataDir}`);
  }
}

await main();
