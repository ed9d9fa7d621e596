// Test helpers: a real appliance (in-process or as a child process) on ephemeral loopback ports,
// a real SQLite file in a temp dir, and real MQTT clients.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { createApp, type App } from '../../appliance/app.ts';
import { loadConfig, type Config } from '../../appliance/core/config.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { afterEach } from 'node:test';
import { freePort } from './ports.ts';
export { freePort };
import { pino } from 'pino';
import { writeDevLicense } from '../../licensing/dev-license.ts';
import type { BackoffOptions } from '../../appliance/sync/transports/index.ts';
import { deviceUsername, upTopic } from '../../appliance/contract/topics.ts';
import type { AlarmRecord, SystemAlarmType } from '../../appliance/contract/alarm.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function testConfig(dataDir: string, overrides: Record<string, unknown> = {}): Config {
  const result = loadConfig({
    overrides: { data_dir: dataDir, http: { port: 0, host: '127.0.0.1' }, mqtt: { port: 0, host: '127.0.0.1' }, log: { level: 'silent' }, ...overrides },
  });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

export interface LogLine {
  level: number;
  msg: string;
  stage?: string;
  [field: string]: unknown;
}

/**
 * A logger that keeps warnings and errors (pino JSON lines) instead of dropping them, so a flow test
 * can fail on an error it did not expect — never silence a safety path's failure.
 */
export function captureLogger() {
  const lines: LogLine[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines, errors: () => lines.filter((line) => line.level >= 50) };
}

/**
 * Errors logged by appliances stopped during the current test that the test did not declare: they
 * fail that test after it ran (a hook, so that the test's own clean-up still runs in full).
 */
const unexpectedErrors: LogLine[] = [];
afterEach(() => {
  const lines = unexpectedErrors.splice(0);
  if (lines.length) throw new Error(`the appliance logged ${lines.length} unexpected error(s):\n${lines.map((line) => JSON.stringify(line)).join('\n')}`);
});

export interface RunningApp {
  app: App;
  url: string;
  dataDir: string;
  clock: ReturnType<typeof manualClock>;
  /** The appliance's warnings and errors so far. */
  logs: LogLine[];
  /** Stops the appliance; an error it logged that the test did not declare (`allowErrors`) fails the test. */
  stop: () => Promise<void>;
}

export interface StartAppOptions {
  maxPageCount?: number;
  licensePublicKeyPem?: string;
  clock?: ReturnType<typeof manualClock>;
  failEvaluation?: { sn: string; times: number };
  /** Error-level log messages this test provokes on purpose (matched against `msg`). */
  allowErrors?: RegExp[];
  /** An offline development license for this many devices (evaluation allows 10). */
  devLicenseDevices?: number;
  /** The data dir to use (e.g. on a small file system the test mounted) instead of a new temp dir; left in place at stop. */
  dataDir?: string;
  /** SYNC-6: whether NTP says the clock is synchronised (default: yes, so records are not flagged). */
  ntpSynced?: () => boolean;
  /** SYNC-4: the cloud links' reconnect pacing (default the product's: 1 s doubling up to 60 s, full jitter). */
  uplinkBackoff?: BackoffOptions;
}

/** The wall clock in the shape of the hand-driven one, for tests under real, continuous load. */
export function wallClock(): ReturnType<typeof manualClock> {
  return { now: () => Date.now(), set: () => {}, advance: () => {} };
}

/** An in-process appliance on a temp data dir with a hand-driven clock; its errors fail the test. */
export async function startApp(overrides: Record<string, unknown> = {}, options: StartAppOptions = {}): Promise<RunningApp> {
  const temp = options.dataDir ? { dir: options.dataDir, remove: () => {} } : tempDir();
  const clock = options.clock ?? manualClock(Date.now());
  const captured = captureLogger();
  const license = options.devLicenseDevices ? writeDevLicense(temp.dir, options.devLicenseDevices) : null;
  const app = createApp({
    config: testConfig(temp.dir, license ? { ...overrides, license: { machine_id: license.machineId } } : overrides), log: captured.log, clock,
    maxPageCount: options.maxPageCount, licensePublicKeyPem: license?.publicPem ?? options.licensePublicKeyPem, failEvaluation: options.failEvaluation,
    ntpSynced: options.ntpSynced ?? (() => true), uplinkBackoff: options.uplinkBackoff,
  });
  await app.start();
  let stopped = false;
  return {
    app,
    clock,
    dataDir: temp.dir,
    url: `mqtt://127.0.0.1:${app.testApi.ports.mqtt}`,
    logs: captured.lines,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      try {
        await app.stop();
      } finally {
        temp.remove();
      }
      const allowed = options.allowErrors ?? [];
      unexpectedErrors.push(...captured.errors().filter((line) => !allowed.some((pattern) => pattern.test(line.msg))));
    },
  };
}

/**
 * A system condition through the appliance's one port (ALM-1), committed with the writer's next
 * batch; resolves with the alarm record it left (the active one, or the last of its source).
 */
export async function reportSystemAlarm(app: App, type: SystemAlarmType, source: string, detail: string | null): Promise<AlarmRecord> {
  const { testApi } = app;
  testApi.reportSystemCondition(type, source, detail === null ? { holds: false } : { holds: true, detail });
  await testApi.flush();
  const [record] = testApi.alarmRecords({ type }).items.filter((a) => a.source === source);
  if (!record) throw new Error(`no ${type} alarm of ${source}`);
  return record;
}

export function connectDevice(url: string, sn: string, password: string, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    username: deviceUsername(sn), password, clientId: sn, protocolVersion: 4, reconnectPeriod: 0, ...options,
  });
}

export interface Reading {
  ts: number;
  seq: number;
  v_raw: number;
  temp: number;
  humi?: number;
  bat: number;
  rssi: number;
  net?: string;
  ver?: string;
  err: number;
}

export function reading(fields: Partial<Reading> = {}): Reading {
  return { ts: Math.floor(Date.now() / 1000), seq: 1, v_raw: 100, temp: 25, humi: 50, bat: 90, rssi: -70, net: '4G', ver: '1.0.2', err: 0, ...fields };
}

export function publishReading(client: MqttClient, sn: string, fields: Partial<Reading> | string, qos: 0 | 1 = 1) {
  const payload = typeof fields === 'string' ? fields : JSON.stringify(reading(fields));
  return client.publishAsync(upTopic(sn), payload, { qos });
}

/** Resolves when `predicate` holds, checking every few ms (for effects of other processes). */
export async function eventually(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}


export interface ChildAppliance {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  /** Run this executable (the packaged binary) instead of the sources with tsx. */
  binary?: string;
  cwd?: string;
  /** Start from an empty environment rather than this process's (no PATH, no Node). */
  cleanEnv?: boolean;
}

/** The appliance as its own process, as `npm start` runs it. Resolves once it logged its start. */
export async function spawnAppliance(env: Record<string, string>, args: string[] = [], options: SpawnOptions = {}): Promise<ChildAppliance> {
  const [command, commandArgs] = options.binary
    ? [options.binary, args]
    : [process.execPath, ['--import', 'tsx', join(ROOT, 'appliance/main.ts'), ...args]];
  const child = spawn(command, commandArgs, {
    cwd: options.cwd ?? ROOT,
    env: { ...(options.cleanEnv ? {} : process.env), MCS_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const started = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (output.includes('MCS Edge started')) resolve();
    };
    child.stdout!.on('data', check);
    exited.then(({ code }) => reject(new Error(`appliance exited (${code}) before starting:\n${output}`)));
    setTimeout(() => reject(new Error(`appliance did not start in time:\n${output}`)), 20_000).unref();
  });
  await started;
  return { child, output: () => output, exited };
}
