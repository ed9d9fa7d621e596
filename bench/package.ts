// `npm run bench:package` (PKG-1 figures for BENCHMARKS.md): packages the release, then starts the
// binary several times and prints JSON: binary and tarball size, how long packaging and unpacking
// the tarball take, start to healthy (the first start extracts the runtime and creates the
// database; the others find both), and idle RSS.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRelease } from '../installer/package.ts';
import { benchArgs, numberOption } from './args.ts';
import { freePort } from '../test/helpers/ports.ts';

const USAGE = `Usage: npm run bench:package -- [--runs N] [--idle-s S]

PKG-1 figures: packages the release, then starts the single executable several times. Prints JSON:
binary and tarball size, packaging time (all of it, and the tarball's compression alone), the time
to unpack the tarball (install.sh's unpack step), start to healthy (the first start extracts the
runtime and creates the database; the others find both), and idle RSS.

  --runs N        starts to time (default 5)
  --idle-s S      seconds to wait before reading the idle RSS (default 10)
  -h, --help      this text`;

const values = benchArgs('bench:package', USAGE, { runs: { type: 'string', default: '5' }, 'idle-s': { type: 'string', default: '10' } });
const runs = numberOption('bench:package', 'runs', values.runs, 1);
const idleS = numberOption('bench:package', 'idle-s', values['idle-s']);


const rssMb = (pid: number) => {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return +(kb / 1024).toFixed(1);
};

async function startOnce(binary: string, dataDir: string, keepRunningS = 0) {
  const [http, mqtt] = [await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn(binary, ['serve'], {
    env: { PATH: '/nonexistent', MCS_DATA_DIR: dataDir, MCS_HTTP_HOST: '127.0.0.1', MCS_HTTP_PORT: String(http), MCS_MQTT_HOST: '127.0.0.1', MCS_MQTT_PORT: String(mqtt), MCS_ADMIN_PASSWORD: 'bench-admin-1' },
    stdio: 'ignore',
  });
  let healthyMs = -1;
  while (performance.now() - started < 20_000) {
    const ok = await fetch(`http://127.0.0.1:${http}/api/system/health`).then((r) => r.ok, () => false);
    if (ok) {
      healthyMs = performance.now() - started;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  let idleRss: number | null = null;
  if (keepRunningS > 0) {
    await new Promise((r) => setTimeout(r, keepRunningS * 1000));
    idleRss = rssMb(child.pid!);
  }
  const exited = new Promise((r) => child.on('exit', r));
  const stopAt = performance.now();
  child.kill('SIGTERM');
  await exited;
  return { healthyMs: Math.round(healthyMs), stopMs: Math.round(performance.now() - stopAt), idleRss };
}

/** install.sh's unpack step: `tar -x` of the tarball (GNU tar finds the compression, xz or gzip, itself). */
function unpackMs(tarball: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-edge-bench-unpack-'));
  try {
    const started = performance.now();
    const tar = spawnSync('tar', ['-xf', tarball, '-C', dir, '--no-same-owner'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`tar -xf ${tarball} failed: ${tar.stderr}`);
    return Math.round(performance.now() - started);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const packageStarted = performance.now();
const release = await packageRelease({ workDir: join(tmpdir(), 'mcs-edge-bench-package'), outDir: join(tmpdir(), 'mcs-edge-bench-release') });
const packageS = +((performance.now() - packageStarted) / 1000).toFixed(1);
const unpack = unpackMs(release.tarball);
const dataDir = mkdtempSync(join(tmpdir(), 'mcs-edge-bench-data-'));
try {
  const first = await startOnce(release.binary, dataDir);
  const warm: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await startOnce(release.binary, dataDir);
    warm.push(run.healthyMs);
    stops.push(run.stopMs);
  }
  const idle = await startOnce(release.binary, dataDir, idleS);
  warm.sort((a, b) => a - b);
  console.log(JSON.stringify({
    binary_mb: +(release.binaryBytes / 1e6).toFixed(1),
    tarball_mb: +(release.tarballBytes / 1e6).toFixed(1),
    tarball: release.tarball.split('/').pop(),
    package_s: packageS,
    tarball_s: +(release.tarballMs / 1000).toFixed(1),
    unpack_ms: unpack,
    first_start_to_healthy_ms: first.healthyMs,
    start_to_healthy_ms: { runs, p50: warm[Math.floor(runs / 2)], max: warm[runs - 1] },
    sigterm_to_exit_ms_max: Math.max(...stops),
    idle_rss_mb: idle.idleRss,
    idle_after_s: idleS,
  }, null, 2));
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
