// The appliance as its own process: crash durability (SIGKILL under load), graceful SIGTERM and a
// broken configuration. ING-6, OPS-4, SPEC §12.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { upTopic } from '../../appliance/contract/topics.ts';
import { runDevicesCommand } from '../../appliance/cli/devices.ts';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { connectDevice, freePort, ROOT, spawnAppliance, tempDir, testConfig } from '../helpers/appliance.ts';
import { devLicenseEnv } from '../helpers/license.ts';

const DEVICES = 20;

/** Registers devices through the CLI code path and returns their passwords. */
async function registerDevices(dataDir: string): Promise<Map<string, string>> {
  const passwords = new Map<string, string>();
  for (let i = 1; i <= DEVICES; i++) {
    const sn = `DUR-${String(i).padStart(3, '0')}`;
    const lines: string[] = [];
    const code = await runDevicesCommand(['add', sn], testConfig(dataDir), (line) => lines.push(line));
    assert.equal(code, 0);
    passwords.set(sn, lines.find((l) => l.includes('MQTT password'))!.split(/\s+/)[3]);
  }
  return passwords;
}

/** Publishes QoS 1 readings from every device as fast as PUBACKs allow; records what was acknowledged. */
function loadUntilStopped(clients: Map<string, MqttClient>, acked: Set<string>) {
  let running = true;
  const baseTs = Math.floor(Date.now() / 1000) - 3600;
  const loops = [...clients].map(async ([sn, client]) => {
    for (let seq = 0; running && seq < 60_000; seq++) {
      const ts = baseTs + Math.floor(seq / 2);
      const payload = JSON.stringify({ ts, seq, v_raw: 100 + (seq % 50), temp: 25, bat: 90, rssi: -70, err: 0 });
      try {
        await client.publishAsync(upTopic(sn), payload, { qos: 1 });
        acked.add(`${sn}:${ts * 1000 + (seq % 1000)}`);
      } catch {
        return;
      }
    }
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
