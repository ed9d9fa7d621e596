// PKG-1 / PKG-3: the packaged single executable, copied alone into a directory with no
// node_modules and run with no Node on PATH: its commands, a start to healthy, the UI, detectors
// from the simulator stored without loss, sd_notify READY/WATCHDOG/STOPPING on a notify socket
// played by the test, and a clean stop on SIGTERM.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSocket, type UnixDgramSocket } from 'unix-dgram';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { readMachineId } from '../../licensing/machine-id.ts';
import { createDetector, type Detector } from '../../simulator/detector.ts';
import { eventually, freePort, spawnAppliance, tempDir } from '../helpers/appliance.ts';
import { releaseArtifacts, type ReleaseArtifacts } from '../helpers/release.ts';

const SECRET = 'binary-factory-secret';
const ADMIN_PASSWORD = 'binary-admin-secret-1';

let release: ReleaseArtifacts;
let temp: ReturnType<typeof tempDir>;
let binary: string;
let emptyPath: string;

before(async () => {
  release = await releaseArtifacts();
  temp = tempDir();
  mkdirSync(join(temp.dir, 'bin'));
  binary = join(temp.dir, 'bin', 'mcs-edge');
  copyFileSync(release.binary, binary);
  emptyPath = join(temp.dir, 'empty-path'); // PATH has no node, no npm: the binary needs neither
  mkdirSync(emptyPath);
});
after(() => temp?.remove());

function runBinary(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(binary, args, { cwd: temp.dir, env: { PATH: emptyPath, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the binary answers --version, --help, check and license machine-id with no Node on PATH and no node_modules', () => {
  assert.equal(existsSync(join(temp.dir, 'node_modules')), false);
  assert.equal(runBinary(['--version']).stdout.trim(), release.version);
  const help = runBinary(['--help']);
  assert.equal(help.code, 0);
  for (const command of ['serve', 'devices', 'restore', 'check', 'license']) assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'));

  const good = join(temp.dir, 'good.json');
  writeFileSync(good, JSON.stringify({ data_dir: join(temp.dir, 'check-data'), http: { port: 18_080 } }));
  const ok = runBinary(['--config', good, 'check']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /configuration ok/);

  const bad = join(temp.dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ http: { port: 'eighty' }, mqtt: { tls_cert: '/nonexistent/cert.pem' } }));
  const refused = runBinary(['--config', bad, 'check']);
  assert.equal(refused.code, 78, 'EX_CONFIG: systemd does not restart on it (RestartPreventExitStatus=78)');
  assert.match(refused.stderr, /http\.port/);
  assert.match(refused.stderr, /mqtt\.tls_cert/);

  // This machine's own id (the packaged binary honours no override: binary-tamper.test.ts).
  const id = runBinary(['license', 'machine-id']);
  const machine = readMachineId();
  assert.equal(id.stdout.trim(), machine.ok ? machine.machineId : '');
  const notADir = join(temp.dir, 'not-a-directory');
  writeFileSync(notADir, '');
  const unpack = runBinary(['devices', 'list'], { MCS_DATA_DIR: notADir });
  assert.equal(unpack.code, 1);
  assert.match(unpack.stderr, /cannot unpack the runtime into .*not-a-directory\/runtime \(ENOTDIR\)/);
  const unknown = runBinary(['frobnicate']);
  assert.equal(unknown.code, 64);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
});

function playNotifySocket(path: string): { messages: string[]; close: () => void } {
  const messages: string[] = [];
  const socket: UnixDgramSocket = createSocket('unix_dgram', (message: Buffer) => messages.push(message.toString('utf8')));
  socket.bind(path);
  return { messages, close: () => socket.close() };
}

test('serve: healthy within seconds, the UI, simulated detectors stored without loss, sd_notify, clean SIGTERM', async () => {
  const dataDir = join(temp.dir, 'data');
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const notify = playNotifySocket(join(temp.dir, 'notify.sock'));
  const env = {
    PATH: emptyPath,
    MCS_DATA_DIR: dataDir,
    MCS_HTTP_HOST: '127.0.0.1',
    MCS_HTTP_PORT: String(httpPort),
    MCS_MQTT_HOST: '127.0.0.1',
    MCS_MQTT_PORT: String(mqttPort),
    MCS_MQTT_FACTORY_SECRET: SECRET,
    MCS_ADMIN_PASSWORD: ADMIN_PASSWORD,
  };
  const started = Date.now();
  const appliance = await spawnAppliance(
    { ...env, NOTIFY_SOCKET: join(temp.dir, 'notify.sock'), WATCHDOG_USEC: '400000' },
    ['serve'],
    { binary, cwd: temp.dir, cleanEnv: true },
  );
  const detectors: Detector[] = [];
  try {
    const base = `http://127.0.0.1:${httpPort}`;
    const health = await fetch(`${base}/api/system/health`);
    assert.equal(health.status, 200);
    const body = (await health.json()) as { status: string; version: string; database: { ok: boolean } };
    assert.equal(body.status, 'ok');
    assert.equal(body.version, release.version);
    assert.ok(body.database.ok);
    assert.ok(Date.now() - started < 10_000, 'started to healthy');

    // The UI is inside the binary (extracted with the addons and workers into the data dir).
    const page = await fetch(`${base}/dashboard`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'index.html names its bundle');
    const asset = await fetch(`${base}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(asset.status, 200);
    assert.ok((await asset.arrayBuffer()).byteLength > 10_000);
    assert.deepEqual(readdirSync(join(dataDir, 'runtime')).length, 1, 'one extracted build');

    // PKG-3: READY once started, then the watchdog at half of WATCHDOG_USEC.
    await eventually(() => notify.messages.some((m) => m.split('\n').includes('READY=1')), 3000, 'READY=1');
    await eventually(() => notify.messages.filter((m) => m === 'WATCHDOG=1').length >= 3, 3000, 'three WATCHDOG=1');

    // The binary's own device CLI, against the running appliance's database.
    const serials = ['BIN-0001', 'BIN-0002', 'BIN-0003'];
    for (const sn of serials) {
      const added = runBinary(['devices', 'add', sn, '--factory', '--name', `Detector ${sn}`, '--high', '1000'], env);
      assert.equal(added.code, 0, added.stderr);
    }
    // The running appliance picks the CLI's change up within a second (devices/cache.ts); the API
    // shows it. A detector that connected before would be a pending serial (ING-3), not stored.
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    assert.equal(login.status, 200);
    const token = ((await login.json()) as { access_token: string }).access_token;
    const registered = async () => {
      const answer = await fetch(`${base}/api/devices?size=10`, { headers: { authorization: `Bearer ${token}` } });
      return ((await answer.json()) as { total: number }).total;
    };
    let total = 0;
    for (let tries = 0; tries < 50 && (total = await registered()) < serials.length; tries++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(total, serials.length);
    for (const sn of serials) {
      const detector = createDetector({
        sn, url: `mqtt://127.0.0.1:${mqttPort}`, password: derivedDevicePassword(sn, SECRET), intervalMs: 100, reconnectDelayMs: 300,
      });
      detectors.push(detector);
      await detector.start();
    }
    await eventually(() => detectors.every((d) => d.stats().acked >= 10), 15_000, 'ten acknowledged readings per detector');
    for (const detector of detectors) await detector.stop();
    const acked = new Map(detectors.map((d) => [d.stats().sn, d.stats().acked]));

    appliance.child.kill('SIGTERM');
    const stopStarted = Date.now();
    const exit = await appliance.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, appliance.output().slice(-2000));
    assert.ok(Date.now() - stopStarted < 10_000, 'OPS-4: stopped within 10 s');
    assert.match(appliance.output(), /stopped cleanly/);
    await eventually(() => notify.messages.includes('STOPPING=1'), 1000, 'STOPPING=1');

    // Every reading a detector had acknowledged (PUBACK after the commit) is in the database.
    const db = new Database(join(dataDir, 'mcs-edge.db'), { readonly: true });
    try {
      const stored = db.prepare('SELECT s.sn, count(*) AS n FROM readings r JOIN serials s ON s.id = r.sn_id GROUP BY s.sn').all() as { sn: string; n: number }[];
      for (const sn of serials) {
        const n = stored.find((row) => row.sn === sn)?.n ?? 0;
        assert.ok(n >= acked.get(sn)!, `${sn}: ${n} stored, ${acked.get(sn)} acknowledged`);
      }
      assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    } finally {
      db.close();
    }
  } finally {
    for (const detector of detectors) await detector.stop().catch(() => {});
    if (appliance.child.exitCode === null) appliance.child.kill('SIGKILL');
    notify.close();
  }
});
