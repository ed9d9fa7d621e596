import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { parseCli, type CliConfig } from '../../simulator/cli.ts';
import { acceptsUp, FACTORY_SECRET, startBroker } from './support.ts';

const MAIN = fileURLToPath(new URL('../../simulator/main.ts', import.meta.url));

function config(argv: string[], env = {}): CliConfig {
  const r = parseCli(argv, env);
  assert.equal(r.kind, 'config', r.kind === 'error' ? r.message : r.kind);
  return (r as { config: CliConfig }).config;
}

test('the CLI defaults to one SIM-0001 detector every 10 s at QoS 1 on mqtt://127.0.0.1:1883', () => {
  const c = config(['--factory-secret', 's']);
  assert.equal(c.mode, 'run');
  assert.deepEqual(c.sns, ['SIM-0001']);
  assert.equal(c.intervalS, 10);
  assert.equal(c.qos, 1);
  assert.equal(c.url, 'mqtt://127.0.0.1:1883');
  assert.equal(c.durationS, null);
  assert.deepEqual(c.credentials, { kind: 'secret', secret: 's' });
});

test('the CLI numbers serials from the prefix and widens them past 9999 devices', () => {
  assert.deepEqual(config(['--devices', '3', '--sn-prefix', 'F1', '--password', 'p']).sns, ['F1-0001', 'F1-0002', 'F1-0003']);
  assert.equal(config(['--devices', '10000', '--password', 'p']).sns.at(-1), 'SIM-10000');
  assert.deepEqual(config(['--sn', 'MCS-A001-20251217', '--password', 'p']).sns, ['MCS-A001-20251217']);
});

test('the CLI takes the load subcommand or --load with its rate, duration and acked log', () => {
  for (const argv of [['load'], ['--load']]) {
    const c = config([...argv, '--rate', '20000', '--duration', '10', '--connect-rate', '500', '--acked-log', 'a.csv', '--qos', '0', '--password', 'p']);
    assert.equal(c.mode, 'load');
    assert.deepEqual(c.load, { ratePerS: 20000, windowPerClient: 100, batch: 1, drainS: 10, ackedLog: 'a.csv' });
    assert.equal(c.durationS, 10);
    assert.equal(c.connectRatePerS, 500);
    assert.equal(c.qos, 0);
  }
});

test('the CLI passes scenario options through and refuses unknown scenarios and bad numbers', () => {
  const c = config(['--scenario', 'leak', '--high-limit', '800', '--scenario-devices', '2', '--password', 'p']);
  assert.equal(c.scenario?.name, 'leak');
  assert.equal(c.scenario?.devices, 2);
  assert.equal(c.scenario?.options.highLimit, 800);
  assert.equal(config(['--scenario', 'skew', '--skew-min=-15', '--password', 'p']).scenario?.options.skewMin, -15);
  const errors = [
    ['--scenario', 'meteor', '--password', 'p'],
    ['--qos', '2', '--password', 'p'],
    ['--devices', 'many', '--password', 'p'],
    ['--password', 'p', '--factory-secret', 's'],
    [],
    ['--bogus'],
    ['unload', '--password', 'p'],
  ];
  for (const argv of errors) assert.equal(parseCli(argv).kind, 'error', argv.join(' '));
  assert.equal(parseCli(['--help']).kind, 'help');
  assert.deepEqual(config([], { MCS_FACTORY_SECRET: 'env' }).credentials, { kind: 'secret', secret: 'env' });
});

function runMain(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('npm run simulate -- load prints exactly one JSON line with the load fields and exits 0', async () => {
  const broker = await startBroker();
  const r = await runMain(['load', '--url', broker.url, '--devices', '5', '--rate', '100', '--duration', '1', '--factory-secret', FACTORY_SECRET]);
  await broker.close();
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const report = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(report), [
    'mode', 'url', 'devices', 'connected', 'connect_failed', 'qos', 'target_per_s', 'duration_s', 'sent', 'acked',
    'failed', 'sent_per_s', 'acked_per_s', 'p50_ack_ms', 'p90_ack_ms', 'p99_ack_ms', 'max_ack_ms',
  ]);
  assert.equal(report.connected, 5);
  assert.equal(report.acked, report.sent);
  assert.equal(report.sent, 100);
});

test('npm run simulate -- --duration runs the detectors with passwords from a credentials file, then disconnects them cleanly', async () => {
  const broker = await startBroker();
  const dir = await mkdtemp(join(tmpdir(), 'sim-cli-'));
  const file = join(dir, 'credentials.json');
  const table = Object.fromEntries(['SIM-0001', 'SIM-0002'].map((sn) => [sn, derivedDevicePassword(sn, FACTORY_SECRET)]));
  await writeFile(file, JSON.stringify(table));
  const ups: Buffer[] = [];
  const offline: string[] = [];
  broker.aedes.on('publish', (packet, client) => {
    if (client && packet.topic.endsWith('/up')) ups.push(packet.payload as Buffer);
    if (packet.topic.endsWith('/status') && packet.payload.toString().includes('offline')) offline.push(packet.topic);
  });
  const r = await runMain(['--url', broker.url, '--devices', '2', '--interval', '0.2', '--duration', '1', '--credentials', file]);
  await broker.close();
  await rm(dir, { recursive: true });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.ok(ups.length >= 4, `${ups.length} readings`);
  assert.ok(ups.every(acceptsUp));
  assert.deepEqual(offline.sort(), ['mcs/SIM-0001/status', 'mcs/SIM-0002/status'], 'a retained offline status each on the way out');
  assert.match(r.stderr, /connected 0\/2/);
  assert.deepEqual(broker.refused, []);
});
