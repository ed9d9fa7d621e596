// Issue 16.5 / LIC-1 / LIC-2: the packaged single executable (the release the other installer
// tests use, built once) against a customer who tries to license it with one environment variable:
// - NODE_OPTIONS="--require swap.cjs", where swap.cjs swaps the vendor public key for the
//   customer's own and hides its tracks (deletes NODE_OPTIONS), so a self-signed 1000-device license
//   would pass. A copy of the binary with its NODE_OPTIONS lookup restored shows the attack is real;
//   the release ignores the variable: no preload in any thread, the license refused.
// - MCS_LICENSE_MACHINE_ID / license.machine_id: ignored, the machine id stays /etc/machine-id's.
// - OPENSSL_CONF naming a provider library, MCS_SEA_RUNTIME_DIR naming foreign worker code,
//   LD_PRELOAD, SIGUSR1 (Node's inspector): none runs code.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signLicense } from '../../licensing/license-file.ts';
import { readMachineId } from '../../licensing/machine-id.ts';
import { generateVendorKeyPair, privateKeyFromPem } from '../../licensing/signing.ts';
import { eventually, freePort, spawnAppliance, tempDir } from '../helpers/appliance.ts';
import { releaseArtifacts } from '../helpers/release.ts';

const OTHER_MACHINE_ID = '0123456789abcdef0123456789abcdef';

let temp: ReturnType<typeof tempDir>;
let binary: string;
let unsealed: string;
let realMachineId: string;
let swapScript: string;
let markers: string;
let selfSigned: string;

/** A license the customer signed with a key of their own: 1000 devices, offline, bound to this machine. */
function selfSignedLicense(privatePem: string, machineId: string): string {
  return signLicense({
    license_key: 'MCS-SELF-SIGN-0001', customer: 'Self-signed', max_devices: 1000, expire_date: '2099-12-31',
    machine_id: machineId, features: ['offline'], issued_at: new Date().toISOString(),
  }, privateKeyFromPem(privatePem));
}

/**
 * The attack as it was found: loaded before the bundle, in every thread it is loaded into it
 * leaves a marker, swaps any PEM public key for the customer's, and removes NODE_OPTIONS from
 * the environment so a check in the bundle's first line sees nothing.
 */
function swapKeyPreload(publicPem: string, markerDir: string): string {
  return `const { writeFileSync } = require('node:fs');
const { threadId } = require('node:worker_threads');
writeFileSync(${JSON.stringify(markerDir)} + '/preloaded-thread-' + threadId, 'swap.cjs ran');
const crypto = require('node:crypto');
const createPublicKey = crypto.createPublicKey;
crypto.createPublicKey = (key, ...rest) =>
  createPublicKey(typeof key === 'string' && key.includes('BEGIN PUBLIC KEY') ? ${JSON.stringify(publicPem)} : key, ...rest);
delete process.env.NODE_OPTIONS;
`;
}

/** The release's binary with the NODE_OPTIONS lookup given back (installer/sealed-node.ts undone). */
function unsealNodeOptions(from: string, to: string): void {
  const data = readFileSync(from);
  const sealed = Buffer.from('\0\0ODE_OPTIONS\0', 'latin1');
  const at = data.indexOf(sealed);
  assert.ok(at > 0 && data.indexOf(sealed, at + 1) === -1, 'the release has exactly one sealed NODE_OPTIONS lookup');
  data[at + 1] = 'N'.charCodeAt(0);
  writeFileSync(to, data, { mode: 0o755 });
}

before(async () => {
  const release = await releaseArtifacts();
  temp = tempDir();
  mkdirSync(join(temp.dir, 'bin'));
  binary = join(temp.dir, 'bin', 'mcs-edge');
  copyFileSync(release.binary, binary);
  unsealed = join(temp.dir, 'bin', 'mcs-edge-unsealed');
  unsealNodeOptions(binary, unsealed);

  const machine = readMachineId(); // from source: no override, /etc/machine-id
  assert.ok(machine.ok, 'this test needs a readable /etc/machine-id');
  realMachineId = machine.machineId;
  assert.notEqual(realMachineId, OTHER_MACHINE_ID);

  const { privatePem, publicPem } = generateVendorKeyPair();
  markers = join(temp.dir, 'markers');
  mkdirSync(markers);
  swapScript = join(temp.dir, 'swap.cjs');
  writeFileSync(swapScript, swapKeyPreload(publicPem, markers));
  selfSigned = join(temp.dir, 'self-signed.key');
  writeFileSync(selfSigned, selfSignedLicense(privatePem, realMachineId));
});
after(() => temp?.remove());

function run(executable: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(executable, args, { cwd: temp.dir, env: { PATH: '/usr/bin:/bin', ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const preloaded = () => readdirSync(markers);

test('NODE_OPTIONS=--require: the swapped key licenses 1000 devices where Node reads it; the release never runs the script', () => {
  const env = { NODE_OPTIONS: `--require ${swapScript}` };
  // The attack is real: with the lookup restored, the preload runs (and hides itself from the
  // bundle's first line) and the self-signed license checks out.
  const attacked = run(unsealed, ['license', 'check', selfSigned], env);
  assert.equal(attacked.code, 0, attacked.stderr);
  assert.match(attacked.stdout, /Self-signed: 1000 devices/);
  assert.deepEqual(preloaded(), ['preloaded-thread-0']);

  const refused = run(binary, ['license', 'check', selfSigned], env);
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stderr, /is not a valid license: .*signature/i);
  assert.match(refused.stderr, /NODE_OPTIONS is ignored by the packaged binary/);
  assert.deepEqual(preloaded(), ['preloaded-thread-0'], 'the release loaded nothing');
});

test('MCS_LICENSE_MACHINE_ID and license.machine_id are ignored by the release: the id is /etc/machine-id', () => {
  const fromEnv = run(binary, ['license', 'machine-id'], { MCS_LICENSE_MACHINE_ID: OTHER_MACHINE_ID });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(fromEnv.stdout.trim(), realMachineId);
  assert.match(fromEnv.stderr, /MCS_LICENSE_MACHINE_ID is ignored by the packaged binary/);

  const config = join(temp.dir, 'machine-id-override.json');
  writeFileSync(config, JSON.stringify({ data_dir: join(temp.dir, 'cli-data'), license: { machine_id: OTHER_MACHINE_ID } }));
  const fromFile = run(binary, ['--config', config, 'license', 'machine-id']);
  assert.equal(fromFile.stdout.trim(), realMachineId);
});

test('LD_PRELOAD: the release refuses to start, in words', () => {
  const refused = run(binary, ['--version'], { LD_PRELOAD: join(temp.dir, 'absent-library.so') });
  assert.equal(refused.code, 78);
  assert.match(refused.stderr, /LD_PRELOAD is set: mcs-edge does not run with libraries preloaded/);
  assert.match(refused.stderr, /请删除该环境变量/);
});

test('serve with every variable set: no foreign code in any thread, the self-signed license locked, the real machine id, no inspector', async () => {
  const dataDir = join(temp.dir, 'data');
  mkdirSync(dataDir);
  copyFileSync(selfSigned, join(dataDir, 'license.key'));
  // Foreign worker code where MCS_SEA_RUNTIME_DIR points, and an OpenSSL provider that is not there
  // (stock Node aborts at start on it).
  const foreignRuntime = join(temp.dir, 'foreign-runtime');
  mkdirSync(foreignRuntime);
  for (const worker of ['writer-worker', 'checkpoint-worker', 'export-worker']) {
    writeFileSync(join(foreignRuntime, `${worker}.cjs`), `require('node:fs').writeFileSync(${JSON.stringify(join(markers, `foreign-${worker}`))}, 'ran');\n`);
  }
  const opensslConf = join(temp.dir, 'provider.cnf');
  writeFileSync(opensslConf, `nodejs_conf = init\n[init]\nproviders = p\n[p]\nx = x_sect\n[x_sect]\nmodule = ${join(temp.dir, 'absent-provider.so')}\nactivate = 1\n`);
  const before = preloaded();
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const appliance = await spawnAppliance({
    PATH: '/usr/bin:/bin',
    MCS_DATA_DIR: dataDir,
    MCS_HTTP_HOST: '127.0.0.1',
    MCS_HTTP_PORT: String(httpPort),
    MCS_MQTT_HOST: '127.0.0.1',
    MCS_MQTT_PORT: String(mqttPort),
    MCS_MQTT_FACTORY_SECRET: 'tamper-factory-secret',
    MCS_ADMIN_PASSWORD: 'tamper-admin-secret-1',
    NODE_OPTIONS: `--require ${swapScript}`,
    OPENSSL_CONF: opensslConf,
    MCS_SEA_RUNTIME_DIR: foreignRuntime,
    MCS_LICENSE_MACHINE_ID: OTHER_MACHINE_ID,
  }, ['serve'], { binary, cwd: temp.dir, cleanEnv: true });
  try {
    const health = (await (await fetch(`http://127.0.0.1:${httpPort}/api/system/health`)).json()) as {
      license: { mode: string; reason: string; machine_id: string | null; max_devices: number };
    };
    assert.equal(health.license.mode, 'locked');
    assert.equal(health.license.reason, 'invalid_file');
    assert.notEqual(health.license.max_devices, 1000);
    assert.equal(health.license.machine_id, realMachineId);
    assert.match(appliance.output(), /MCS_LICENSE_MACHINE_ID is ignored by the packaged binary/);
    // The writer and checkpoint threads run (they opened the database); none loaded a preload or foreign code.
    assert.ok(existsSync(join(dataDir, 'mcs-edge.db')));
    assert.deepEqual(preloaded(), before);
    assert.equal(readdirSync(join(dataDir, 'runtime')).length, 1, 'the runtime extracted into the data dir and used');

    appliance.child.kill('SIGUSR1');
    await eventually(() => appliance.output().includes('SIGUSR1 ignored'), 3000, 'SIGUSR1 answered');
    assert.doesNotMatch(appliance.output(), /Debugger listening/);
    assert.equal((await fetch(`http://127.0.0.1:${httpPort}/api/system/health`)).status, 200, 'still serving');
  } finally {
    appliance.child.kill('SIGTERM');
    const exit = await appliance.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, appliance.output().slice(-2000));
  }
  assert.deepEqual(preloaded(), before, 'nothing foreign ran up to the stop');
});
