// The appliance as its own process: crash durability (SIGKILL under load, of readings and of the
// alarms they raise), graceful SIGTERM and a broken configuration. ING-6, ALM-8, OPS-4, SPEC §12.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { upTopic } from '../../appliance/contract/topics.ts';
import { runDevicesCommand } from '../../appliance/cli/devices.ts';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { connectDevice, freePort, ROOT, spawnAppliance, tempDir, testConfig, type ChildAppliance } from '../helpers/appliance.ts';
import { devLicenseEnv } from '../helpers/license.ts';

const DEVICES = 20;

const serials = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(3, '0')}`);

/** Registers devices (with `settings`, CLI flags) through the CLI code path and returns their passwords. */
async function registerDevices(dataDir: string, sns = serials('DUR', DEVICES), settings: string[] = ['--high', '1000']): Promise<Map<string, string>> {
  const passwords = new Map<string, string>();
  for (const sn of sns) {
    const lines: string[] = [];
    const code = await runDevicesCommand(['add', sn, ...settings], testConfig(dataDir), (line) => lines.push(line));
    assert.equal(code, 0);
    passwords.set(sn, lines.find((l) => l.includes('MQTT password'))!.split(/\s+/)[3]);
  }
  return passwords;
}

/**
 * Publishes QoS 1 readings from every device as fast as PUBACKs allow, `window` unacknowledged
 * at a time per device; records what was acknowledged. Readings start at device time `baseTs`.
 */
function loadUntilStopped(
  clients: Map<string, MqttClient>,
  acked: Set<string>,
  { window = 1, baseTs = Math.floor(Date.now() / 1000) - 3600 }: { window?: number; baseTs?: number } = {},
) {
  let running = true;
  const loops = [...clients].flatMap(([sn, client]) => {
    let next = 0;
    return Array.from({ length: window }, async () => {
      for (let n = next++; running && n < 60_000; n = next++) {
        const ts = baseTs + Math.floor(n / 2);
        const seq = n % 65_536;
        const payload = JSON.stringify({ ts, seq, v_raw: 100 + (seq % 50), temp: 25, bat: 90, rssi: -70, err: 0 });
        try {
          await client.publishAsync(upTopic(sn), payload, { qos: 1 });
          acked.add(`${sn}:${ts * 1000 + (seq % 1000)}`);
        } catch {
          return;
        }
      }
    });
  });
  return {
    /** Stops publishing. Publishes still waiting for a PUBACK from a dead broker never count as acknowledged. */
    stop: async () => {
      running = false;
      for (const client of clients.values()) client.end(true);
      await Promise.race([Promise.allSettled(loops), new Promise((resolve) => setTimeout(resolve, 200))]);
    },
  };
}

function storedKeys(dataDir: string): Set<string> {
  const db = openDb(dbFileIn(dataDir));
  try {
    const rows = db.prepare('SELECT s.sn AS sn, r.ts AS ts FROM readings r JOIN serials s ON s.id = r.sn_id').all() as { sn: string; ts: number }[];
    return new Set(rows.map((r) => `${r.sn}:${r.ts}`));
  } finally {
    db.close();
  }
}

function integrityCheck(dataDir: string): string {
  const db = openDb(dbFileIn(dataDir));
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

// Issue 13 / ALM-8: the HIGH alarm of an over-limit reading is durable once its PUBACK arrived.
const LEAK_REPETITIONS = 20;
const LEAK_LOAD_DEVICES = 16;
/** Unacknowledged publishes per load device: enough for thousands of readings per second. */
const LEAK_LOAD_WINDOW = 8;
const LEAK_HIGH_LIMIT = 1000;
/** v_raw with k=1, b=0: this many ppm, five times the high limit. */
const LEAK_PPM = 5000;

interface LeakKill {
  rep: number;
  sn: string;
  /** Wall clock just before the publish and when its PUBACK was seen (the appliance shares it). */
  sentAt: number;
  pubackAt: number;
  /** The delay drawn; how long after the PUBACK was seen kill() was called, and when it returned. */
  plannedMs: number;
  killCalledMs: number;
  killReturnedMs: number;
  /** Whether this process ran at a raised priority from the publish to the kill. */
  raised: boolean;
  /** Load readings acknowledged per second over the repetition's load. */
  loadRate: number;
  /** The messages of the error-level lines this run of the appliance logged. */
  errors: string[];
}

/**
 * Publishes one over-limit reading at QoS 1 and, `delayMs` after its PUBACK (busy-waited for
 * sub-millisecond accuracy), sends SIGKILL to the appliance. On a busy 2-core box this thread may be
 * descheduled in between, so it runs at a raised priority meanwhile where that is allowed (root).
 */
function publishLeakThenKill(client: MqttClient, sn: string, appliance: ChildAppliance, delayMs: number) {
  const payload = JSON.stringify({ ts: Math.floor(Date.now() / 1000), seq: 1, v_raw: LEAK_PPM, temp: 25, bat: 90, rssi: -70, err: 0 });
  const priority = getPriority();
  let raised = false;
  try {
    setPriority(-10);
    raised = true;
  } catch {
    // not allowed: the delays are measured all the same
  }
  const restore = () => {
    if (raised) setPriority(priority);
  };
  return new Promise<{ sentAt: number; pubackAt: number; killCalledMs: number; killReturnedMs: number; raised: boolean }>((resolve, reject) => {
    const timer = setTimeout(() => {
      restore();
      reject(new Error(`no PUBACK for ${sn} in 10 s`));
    }, 10_000);
    const sentAt = Date.now();
    client.publish(upTopic(sn), payload, { qos: 1 }, (err) => {
      const seen = performance.now();
      const pubackAt = Date.now();
      clearTimeout(timer);
      if (err) {
        restore();
        reject(err);
        return;
      }
      while (performance.now() - seen < delayMs);
      const killCalledMs = performance.now() - seen;
      appliance.child.kill('SIGKILL');
      // kill() may return some ms later (this thread yields the CPU to the dying process): an upper bound.
      const killReturnedMs = performance.now() - seen;
      restore();
      resolve({ sentAt, pubackAt, killCalledMs, killReturnedMs, raised });
    });
  });
}

interface LeakState {
  readings: { ts: number; ppm: number; received_at: number }[];
  alarms: { id: number; sn: string | null; type: string; state: string; value: number | null; threshold: number | null; peak: number | null; triggered_at: number }[];
}

/** What the database holds of one leak device: its readings and its alarm records. */
function leakStates(dataDir: string, sns: string[]): Map<string, LeakState> {
  const db = openDb(dbFileIn(dataDir));
  try {
    const readings = db.prepare('SELECT ts, ppm, received_at FROM readings_v WHERE sn = ? ORDER BY ts');
    const alarms = db.prepare('SELECT id, sn, type, state, value, threshold, peak, triggered_at FROM alarms WHERE source = ? ORDER BY id');
    return new Map(sns.map((sn) => [sn, { readings: readings.all(sn), alarms: alarms.all(sn) } as LeakState]));
  } finally {
    db.close();
  }
}

/** What is wrong with a leak device's HIGH record, judged against its reading and the PUBACK: '' when nothing. */
function highProblem(kill: LeakKill, state: LeakState): string {
  const high = state.alarms.filter((a) => a.type === 'HIGH');
  if (state.readings.length !== 1) return `${state.readings.length} readings stored`;
  const reading = state.readings[0];
  if (high.length === 0) return 'missing';
  if (high.length > 1) return `${high.length} HIGH records`;
  const [alarm] = high;
  const problems: string[] = [];
  if (alarm.sn !== kill.sn) problems.push(`sn ${alarm.sn}`);
  if (alarm.state !== 'active') problems.push(`state ${alarm.state}`);
  if (alarm.value !== LEAK_PPM || alarm.peak !== LEAK_PPM) problems.push(`value ${alarm.value} peak ${alarm.peak}`);
  if (alarm.threshold !== LEAK_HIGH_LIMIT) problems.push(`threshold ${alarm.threshold}`);
  if (reading.ppm !== LEAK_PPM) problems.push(`reading ppm ${reading.ppm}`);
  if (alarm.triggered_at !== reading.received_at) problems.push(`triggered_at ${alarm.triggered_at} ≠ received_at ${reading.received_at}`);
  if (alarm.triggered_at < kill.sentAt || alarm.triggered_at > kill.pubackAt) {
    problems.push(`triggered_at ${alarm.triggered_at} outside publish…PUBACK ${kill.sentAt}…${kill.pubackAt}`);
  }
  // OFFLINE may come legitimately (the device is gone since the kill); anything else is unexpected.
  const others = state.alarms.filter((a) => a.type !== 'HIGH' && a.type !== 'OFFLINE').map((a) => `${a.type}/${a.state}`);
  if (others.length) problems.push(`other alarms ${others.join(',')}`);
  return problems.join('; ');
}

interface LogLine {
  level: number;
  msg?: string;
  err?: { message?: string; code?: string };
  [field: string]: unknown;
}

/** The appliance's JSON log lines (pino) in `output`; other lines are skipped. */
function logLines(output: string): LogLine[] {
  return output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });
}

const describeLine = (line: LogLine) => `${line.msg}${line.err ? ` (${line.err.code ?? ''} ${line.err.message ?? ''})` : ''}`;

const quantiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2);
  return `min ${at(0)} median ${at(0.5)} max ${at(1)}`;
};

describe('the appliance process', () => {
  test('killed with SIGKILL under load, it keeps every reading whose PUBACK was received', async () => {
    const temp = tempDir();
    try {
      const passwords = await registerDevices(temp.dir);
      const port = await freePort();
      const env = { MCS_DATA_DIR: temp.dir, MCS_MQTT_PORT: String(port), MCS_HTTP_PORT: String(await freePort()), ...devLicenseEnv(temp.dir, DEVICES) };
      const appliance = await spawnAppliance(env);
      const url = `mqtt://127.0.0.1:${port}`;
      const clients = new Map<string, MqttClient>();
      for (const [sn, password] of passwords) clients.set(sn, await connectDevice(url, sn, password));
      const acked = new Set<string>();
      const load = loadUntilStopped(clients, acked);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      appliance.child.kill('SIGKILL');
      await appliance.exited;
      await load.stop();
      assert.ok(acked.size > 500, `load ran (${acked.size} acknowledged)`);

      const restarted = await spawnAppliance(env); // recovery from the WAL at open
      restarted.child.kill('SIGTERM');
      await restarted.exited;
      const stored = storedKeys(temp.dir);
      const missing = [...acked].filter((key) => !stored.has(key));
      assert.deepEqual(missing, [], `all ${acked.size} acknowledged readings are stored`);
      assert.equal(integrityCheck(temp.dir), 'ok');
    } finally {
      temp.remove();
    }
  });

  test('killed with SIGKILL 0-5 ms after the PUBACK of an over-limit reading under load, it keeps the HIGH alarm (20 repetitions)', async (t) => {
    const temp = tempDir();
    const outputs: string[] = [];
    let appliance: ChildAppliance | null = null;
    let load: ReturnType<typeof loadUntilStopped> | null = null;
    try {
      const deviceFlags = ['--high', String(LEAK_HIGH_LIMIT), '--k', '1', '--b', '0'];
      const loadPasswords = await registerDevices(temp.dir, serials('LOAD', LEAK_LOAD_DEVICES), deviceFlags);
      const leakPasswords = await registerDevices(temp.dir, serials('LEAK', LEAK_REPETITIONS), deviceFlags);
      const port = await freePort();
      const env = {
        MCS_DATA_DIR: temp.dir, MCS_MQTT_PORT: String(port), MCS_HTTP_PORT: String(await freePort()),
        ...devLicenseEnv(temp.dir, LEAK_LOAD_DEVICES + LEAK_REPETITIONS),
      };
      const url = `mqtt://127.0.0.1:${port}`;
      const kills: LeakKill[] = [];
      const afterKill = new Map<string, string>();
      const exits: string[] = [];
      const loadAcked = new Set<string>();
      const firstTs = Math.floor(Date.now() / 1000) - 30 * 86_400;
      for (const [rep, [sn, password]] of [...leakPasswords].entries()) {
        appliance = await spawnAppliance(env); // from the second repetition on: the restart after a kill
        const clients = new Map<string, MqttClient>();
        for (const [loadSn, loadPassword] of loadPasswords) clients.set(loadSn, await connectDevice(url, loadSn, loadPassword));
        const leak = await connectDevice(url, sn, password);
        const ackedBefore = loadAcked.size;
        const loadStart = performance.now();
        // Each repetition's load has device times of its own, so its readings are new rows, not duplicates.
        load = loadUntilStopped(clients, loadAcked, { window: LEAK_LOAD_WINDOW, baseTs: firstTs + rep * 40_000 });
        await new Promise((resolve) => setTimeout(resolve, 400 + Math.random() * 200));
        // 0-5 ms, spread evenly over the repetitions (a random point in each 0.25 ms slot).
        const plannedMs = ((rep + Math.random()) * 5) / LEAK_REPETITIONS;
        const killed = await publishLeakThenKill(leak, sn, appliance, plannedMs);
        const loadRate = ((loadAcked.size - ackedBefore) * 1000) / (performance.now() - loadStart);
        const exit = await appliance.exited;
        exits.push(`${exit.signal ?? exit.code}`);
        outputs.push(appliance.output());
        await load.stop();
        load = null;
        leak.end(true);
        const errors = logLines(appliance.output()).filter((line) => line.level >= 50).map(describeLine);
        const kill: LeakKill = { rep, sn, plannedMs, loadRate, errors, ...killed };
        kills.push(kill);
        // Straight after the kill, before any restart could reconcile: what the PUBACK promised.
        afterKill.set(sn, highProblem(kill, leakStates(temp.dir, [sn]).get(sn)!));
      }

      // A final clean start (the restart after the last kill) and stop.
      const final = (appliance = await spawnAppliance(env));
      await new Promise((resolve) => setTimeout(resolve, 500));
      final.child.kill('SIGTERM');
      const finalExit = await final.exited;
      outputs.push(final.output());
      const states = leakStates(temp.dir, kills.map((k) => k.sn));
      const afterRestart = new Map(kills.map((kill) => [kill.sn, highProblem(kill, states.get(kill.sn)!)]));

      const missingAfterKill = kills.filter((k) => afterKill.get(k.sn) === 'missing');
      const wrongAfterKill = kills.filter((k) => afterKill.get(k.sn) !== 'missing' && afterKill.get(k.sn) !== '');
      const missingAfterRestart = kills.filter((k) => afterRestart.get(k.sn) === 'missing');
      const wrongAfterRestart = kills.filter((k) => afterRestart.get(k.sn) !== 'missing' && afterRestart.get(k.sn) !== '');
      const logs = outputs.flatMap(logLines);
      const errors = logs.filter((line) => line.level >= 50);
      const evaluationFailures = errors.filter((line) => /alarm evaluation failed/.test(String(line.msg)));
      const reconciled = logs.filter((line) => /alarms reconciled/.test(String(line.msg))).map((line) => line.changes);
      const stored = storedKeys(temp.dir);
      const loadMissing = [...loadAcked].filter((key) => !stored.has(key));

      t.diagnostic(`${kills.length} SIGKILLs after the PUBACK of a ${LEAK_PPM} ppm reading (limit ${LEAK_HIGH_LIMIT})`);
      t.diagnostic(`kill after PUBACK, ms: planned ${quantiles(kills.map((k) => k.plannedMs))}; kill() called ${quantiles(kills.map((k) => k.killCalledMs))}; returned ${quantiles(kills.map((k) => k.killReturnedMs))}`);
      const late = kills.filter((k) => k.killCalledMs > 5);
      t.diagnostic(`priority raised for the kill: ${kills.filter((k) => k.raised).length}/${kills.length}; kill() called later than 5 ms after the PUBACK (descheduled): ${late.length} ${late.map((k) => `${k.sn}@${k.killCalledMs.toFixed(2)}ms`).join(' ')}`);
      t.diagnostic(`PUBACK round trip, ms: ${quantiles(kills.map((k) => k.pubackAt - k.sentAt))}`);
      t.diagnostic(`load, acknowledged readings/s per repetition: ${quantiles(kills.map((k) => k.loadRate))}; ${loadAcked.size} acknowledged, ${loadMissing.length} not stored`);
      t.diagnostic(`HIGH missing straight after the kill: ${missingAfterKill.length}/${kills.length} ${missingAfterKill.map((k) => `${k.sn}@${k.killCalledMs.toFixed(2)}ms`).join(' ')}`);
      t.diagnostic(`HIGH missing after the restart: ${missingAfterRestart.length}/${kills.length} ${missingAfterRestart.map((k) => k.sn).join(' ')}`);
      for (const k of kills) {
        const result = afterKill.get(k.sn) || 'ok';
        t.diagnostic(`  ${k.sn}: kill ${k.plannedMs.toFixed(2)}/${k.killCalledMs.toFixed(2)}/${k.killReturnedMs.toFixed(2)} ms (planned/called/returned) after a ${k.pubackAt - k.sentAt} ms PUBACK, load ${Math.round(k.loadRate)}/s: ${result}${k.errors.length ? `; errors logged: ${k.errors.join(' | ')}` : ''}`);
      }
      for (const k of [...wrongAfterKill, ...wrongAfterRestart]) {
        t.diagnostic(`wrong record ${k.sn}: after kill '${afterKill.get(k.sn)}', after restart '${afterRestart.get(k.sn)}'`);
      }
      t.diagnostic(`exits: ${exits.join(' ')}; final ${finalExit.signal ?? finalExit.code}; reconciliation changes logged at starts: [${reconciled.join(', ')}]`);
      t.diagnostic(`error-level log lines: ${errors.length}`);
      for (const line of errors.slice(0, 10)) t.diagnostic(`  ${describeLine(line)}`);

      assert.deepEqual(exits, kills.map(() => 'SIGKILL'), 'every repetition ended by the SIGKILL');
      assert.deepEqual(missingAfterKill.map((k) => k.sn), [], 'no HIGH record missing once its reading was acknowledged');
      assert.deepEqual(wrongAfterKill.map((k) => `${k.sn}: ${afterKill.get(k.sn)}`), [], 'each HIGH record is the reading’s');
      assert.deepEqual([...afterRestart].filter(([, problem]) => problem !== ''), [], 'and stays so after the restarts (no duplicate)');
      assert.deepEqual(loadMissing, [], 'every acknowledged load reading is stored');
      assert.equal(finalExit.code, 0, final.output());
      assert.deepEqual(evaluationFailures, [], 'no alarm evaluation failed');
      assert.equal(integrityCheck(temp.dir), 'ok');
    } finally {
      await load?.stop();
      if (appliance && appliance.child.exitCode === null && appliance.child.signalCode === null) {
        appliance.child.kill('SIGKILL');
        await appliance.exited;
      }
      temp.remove();
    }
  });

  test('SIGTERM flushes pending commits and exits cleanly within 10 s', async () => {
    const temp = tempDir();
    try {
      const passwords = await registerDevices(temp.dir);
      const port = await freePort();
      const appliance = await spawnAppliance({
        MCS_DATA_DIR: temp.dir, MCS_MQTT_PORT: String(port), MCS_HTTP_PORT: String(await freePort()), ...devLicenseEnv(temp.dir, DEVICES),
      });
      const clients = new Map<string, MqttClient>();
      for (const [sn, password] of passwords) clients.set(sn, await connectDevice(`mqtt://127.0.0.1:${port}`, sn, password));
      const acked = new Set<string>();
      const load = loadUntilStopped(clients, acked);
      await new Promise((resolve) => setTimeout(resolve, 800));
      const signalledAt = Date.now();
      appliance.child.kill('SIGTERM');
      const { code } = await appliance.exited;
      const took = Date.now() - signalledAt;
      await load.stop();
      assert.equal(code, 0, appliance.output());
      assert.ok(took < 10_000, `stopped in ${took} ms`);
      assert.match(appliance.output(), /stopped cleanly/);
      assert.match(appliance.output(), /"license":"valid"/, 'the startup summary names the license mode');
      const statsLine = appliance.output().split('\n').find((line) => line.includes('"stage":"stats"'));
      assert.ok(statsLine, 'the pipeline counters are logged at stop');
      // Readings in flight at SIGTERM are stored though their PUBACK no longer reaches the client.
      assert.ok(JSON.parse(statsLine).stored >= acked.size, 'and count what was stored');
      const stored = storedKeys(temp.dir);
      assert.deepEqual([...acked].filter((key) => !stored.has(key)), []);
      assert.equal(integrityCheck(temp.dir), 'ok');
    } finally {
      temp.remove();
    }
  });

  test('a configuration with invalid values prints every error and exits 78', () => {
    const temp = tempDir();
    try {
      const file = join(temp.dir, 'config.json');
      writeFileSync(file, JSON.stringify({ data_dir: temp.dir, ingest: { offline_timeout_s: 1 }, mqtt: { prot: 1883 } }));
      const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'appliance/main.ts'), '--config', file], {
        cwd: ROOT,
        env: { ...process.env, MCS_HTTP_PORT: 'eighty' },
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(run.status, 78, run.stderr);
      assert.match(run.stderr, /http\.port: MCS_HTTP_PORT='eighty' is not a valid integer/);
      const fileRun = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'appliance/main.ts'), 'check', '--config', file], {
        cwd: ROOT, env: { ...process.env }, encoding: 'utf8', timeout: 20_000,
      });
      assert.equal(fileRun.status, 78);
      assert.match(fileRun.stderr, /ingest\.offline_timeout_s: Expected integer to be greater or equal to 10/);
      assert.match(fileRun.stderr, /mqtt\.prot/);
      assert.match(fileRun.stderr, /2 errors/);
    } finally {
      temp.remove();
    }
  });
});
