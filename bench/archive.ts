// `npm run bench:archive`: one site day of N devices at a reading every S seconds (default 1,000 at
// 10 s = 8.64M readings) is exported, gzip'd, uploaded to s3rver (a separate process), verified
// and deleted by the real archiver and group-commit writer. Reports time, the appliance process's
// RSS growth, the event loop's worst delay while it ran, and archive bytes per reading.
// A measurement, not a test. Prints one JSON line.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createArchiver } from '../appliance/archive/archiver.ts';
import { createStorageSettings } from '../appliance/archive/settings.ts';
import { testConnection } from '../appliance/archive/s3.ts';
import { manualClock } from '../appliance/core/clock.ts';
import { silentLogger } from '../appliance/core/log.ts';
import { createSecretBox } from '../appliance/core/secrets.ts';
import { siteDayRange } from '../appliance/core/site-day.ts';
import { createConfigRepository } from '../appliance/storage/config.ts';
import { dbFileIn, openDb } from '../appliance/storage/db.ts';
import { createGroupCommitWriter } from '../appliance/storage/group-commit.ts';
import type { ReportSystemCondition } from '../appliance/core/system-conditions.ts';
import { benchArgs, numberOption } from './args.ts';

const USAGE = `Usage: npm run bench:archive -- [--devices N] [--interval S]

One site day of N devices at a reading every S seconds is exported, gzip'd, uploaded to s3rver (its
own process), verified and deleted by the real archiver and group-commit writer. Reports the time,
RSS growth by phase, the event loop's worst delay and archive bytes per reading. Prints one JSON line.
Run with node --expose-gc (npm run bench:archive does) for a clean RSS baseline.

  --devices N     devices (default 1000)
  --interval S    seconds between a device's readings (default 10: 8.64M readings at 1,000 devices)
  -h, --help      this text`;

const values = benchArgs('bench:archive', USAGE, { devices: { type: 'string', default: '1000' }, interval: { type: 'string', default: '10' } });
const devices = numberOption('bench:archive', 'devices', values.devices, 1);
const intervalMs = numberOption('bench:archive', 'interval', values.interval, 1) * 1000;
const DAY = '2026-01-05';
const TZ = 'UTC';
const BUCKET = 'bench-archive';

function startS3rver(dir: string): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./s3rver-process.ts', import.meta.url).pathname, dir, BUCKET], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (line) => resolve({ port: JSON.parse(String(line)).port, stop: () => child.kill() }));
    child.once('exit', (code) => reject(new Error(`s3rver exited ${code}`)));
  });
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcs-bench-archive-'));
  const s3Dir = mkdtempSync(join(tmpdir(), 'mcs-bench-s3-'));
  const file = dbFileIn(dataDir);
  const db = openDb(file, { cacheMb: 16 });
  const { start, end } = siteDayRange(DAY, TZ);
  // Fill the day, device by device (the key order), in large transactions.
  const fillStarted = performance.now();
  const insertSerial = db.prepare('INSERT INTO serials (sn) VALUES (?)');
  const insert = db.prepare('INSERT INTO readings VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
  let readings = 0;
  for (let d = 0; d < devices; d++) {
    db.transaction(() => {
      const id = Number(insertSerial.run(`GD${String(100000 + d)}`).lastInsertRowid);
      for (let ts = start, seq = 0; ts < end; ts += intervalMs, seq++) {
        const ppm = 1000 + Math.round(Math.sin(seq / 50 + d) * 800 + Math.random() * 60);
        insert.run(id, ts + (seq % 1000), 50000 + ppm * 3, ppm, 2400 + (seq % 300), 5500 + (seq % 700), 90 - (seq % 5), -60 - (d % 30), seq % 65536, 0, 0, 120 + (seq % 200));
        readings++;
      }
    })();
  }
  const fillMs = performance.now() - fillStarted;
  db.pragma('wal_checkpoint(TRUNCATE)');

  const s3 = await startS3rver(s3Dir);
  const writer = createGroupCommitWriter({ file, synchronous: 'FULL', cacheMb: 16, commitIntervalMs: 4, commitMaxRows: 4000, log: silentLogger() });
  await writer.start();
  const clock = manualClock(end + 2 * 86_400_000);
  const settings = createStorageSettings({ config: createConfigRepository(db), box: createSecretBox(dataDir), clock });
  settings.save({
    enabled: true, endpoint: `http://127.0.0.1:${s3.port}`, region: 'us-east-1', bucket: BUCKET, access_key_id: 'S3RVER', secret_access_key: 'S3RVER',
  });
  const reportCondition: ReportSystemCondition = (_type, _source, { holds, detail }) => {
    if (holds) console.error(`ALARM ${detail}`);
  };
  const archiver = createArchiver({ db, dbFile: file, writer, settings, reportCondition, clock, log: silentLogger(), timezone: TZ, retentionDays: 1 });

  // Warm-up: the S3 SDK's modules load on first use (a one-time cost, not the archive's).
  const warm = await testConnection(settings.current());
  if (!warm.ok) throw new Error(warm.message);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const samples: [number, number][] = [];
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    rssPeak = Math.max(rssPeak, rss);
    samples.push([performance.now(), rss]);
  }, 50);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const started = performance.now();
  const result = await archiver.run();
  const totalMs = performance.now() - started;
  lag.disable();
  clearInterval(sampler);
  const [entry] = archiver.attempts(1);
  // Peak RSS growth per phase (export+upload, verify, delete), from the phase timings.
  const phases = result.archived[0]?.ms;
  const peakIn = (from: number, to: number) =>
    Math.round((Math.max(rssBefore, ...samples.filter(([t]) => t >= started + from && t < started + to).map(([, r]) => r)) - rssBefore) / 1048576);
  const phaseRss = phases && {
    upload: peakIn(0, phases.upload),
    verify: peakIn(phases.upload, phases.upload + phases.verify),
    delete: peakIn(phases.upload + phases.verify, totalMs + 1),
  };
  const left = db.prepare('SELECT count(*) FROM readings').pluck().get() as number;
  await writer.stop();
  db.close();
  s3.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(s3Dir, { recursive: true, force: true });
  console.log(JSON.stringify({
    devices, interval_s: intervalMs / 1000, readings, fill_s: +(fillMs / 1000).toFixed(1),
    ok: result.failed === null && entry?.status === 'done', error: result.failed?.error ?? null,
    archive_s: +(totalMs / 1000).toFixed(1), phases_ms: result.archived[0]?.ms,
    rows_archived: entry?.rows, rows_deleted: entry?.deleted_rows, rows_left: left,
    archive_mb: +((entry?.bytes ?? 0) / 1048576).toFixed(1),
    bytes_per_reading: +((entry?.bytes ?? 0) / readings).toFixed(2),
    per_100_devices_day_mb: +(((entry?.bytes ?? 0) / readings) * 864_000 / 1048576).toFixed(2),
    rss_before_mb: Math.round(rssBefore / 1048576), rss_growth_mb: Math.round((rssPeak - rssBefore) / 1048576), rss_growth_by_phase_mb: phaseRss,
    event_loop_max_ms: Math.round(lag.max / 1e6), event_loop_p99_ms: Math.round(lag.percentile(99) / 1e6),
  }));
}

await main();
