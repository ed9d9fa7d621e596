// DEV-5 / DEV-6 at CONNECT: credentials from the device table (through the cache), the factory
// derived password for unregistered serials (pending, ING-3), and the optional admin user.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { createAuthenticator, CONNACK, type AuthResult, type LoginThrottle } from '../../appliance/broker/authenticate.ts';
import { createBroker } from '../../appliance/broker/broker.ts';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import type { Ingest } from '../../appliance/ingest/pipeline.ts';
import { createLoginLimiter } from '../../appliance/users/login-limiter.ts';
import { createDeviceCache, type DeviceCache } from '../../appliance/devices/cache.ts';
import { createDeviceService, type DeviceService } from '../../appliance/devices/service.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import { createPendingRepository } from '../../appliance/storage/pending.ts';

const SECRET = 'factory-secret-for-tests';

let dir: string;
let db: Db;
let cache: DeviceCache;
let service: DeviceService;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-'));
  db = openDb(dbFileIn(dir));
  const devices = createDeviceRepository(db);
  cache = createDeviceCache(devices);
  service = createDeviceService({
    devices, pending: createPendingRepository(db), clock: manualClock(), onChange: () => cache.reload(),
  });
  cache.reload();
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const auth = (options: { factorySecret?: string; adminPassword?: string; loginThrottle?: LoginThrottle } = {}) =>
  createAuthenticator({ devices: cache, factorySecret: options.factorySecret ?? SECRET, adminPassword: options.adminPassword ?? '', loginThrottle: options.loginThrottle });
const pw = (text: string) => Buffer.from(text);

function refused(result: AuthResult, returnCode: number, refusal?: string) {
  assert.ok(!result.ok, `expected a refusal, got ${JSON.stringify(result)}`);
  assert.equal(result.returnCode, returnCode);
  if (refusal) assert.equal(result.refusal, refusal);
}

describe('authenticate: registered devices (DEV-5)', () => {
  test('a device connects with its generated password', async () => {
    const { password } = await service.add({ sn: 'A1', high_limit: 1000 });
    assert.deepEqual(await auth()('device_A1', pw(password!)), { ok: true, session: { role: 'device', sn: 'A1' } });
  });

  test('a wrong password is refused with return code 4', async () => {
    const { password } = await service.add({ sn: 'A1', high_limit: 1000 });
    refused(await auth()('device_A1', pw(password + 'x')), CONNACK.BAD_USERNAME_OR_PASSWORD, 'bad_password');
    refused(await auth()('device_A1', undefined), 4);
  });

  test('a device with its own password is not let in with the derived factory password', async () => {
    await service.add({ sn: 'A1', high_limit: 1000 });
    refused(await auth()('device_A1', pw(derivedDevicePassword('A1', SECRET))), 4);
  });

  test('a chosen (scrypt) password works repeatedly and the old one stops working after a reset', async () => {
    await service.add({ sn: 'A1', high_limit: 1000, password: 'correct horse' });
    const authenticate = auth();
    assert.equal((await authenticate('device_A1', pw('correct horse'))).ok, true);
    assert.equal((await authenticate('device_A1', pw('correct horse'))).ok, true);
    refused(await authenticate('device_A1', pw('correct horsf')), 4);
    const { password } = service.resetPassword('A1');
    refused(await authenticate('device_A1', pw('correct horse')), 4);
    assert.equal((await authenticate('device_A1', pw(password!))).ok, true);
  });

  test('a disabled device is refused with return code 5 even with the right password', async () => {
    const { password } = await service.add({ sn: 'A1', high_limit: 1000, enabled: false });
    refused(await auth()('device_A1', pw(password!)), CONNACK.NOT_AUTHORIZED, 'disabled');
  });

  test("a device registered with 'factory' credentials connects with the derived password", async () => {
    await service.add({ sn: 'F1', high_limit: 1000, credentials: 'factory' });
    assert.deepEqual(await auth()('device_F1', pw(derivedDevicePassword('F1', SECRET))), {
      ok: true, session: { role: 'device', sn: 'F1' },
    });
    refused(await auth()('device_F1', pw(derivedDevicePassword('F1', 'another-secret'))), 4);
    refused(await auth()('device_F1', pw(derivedDevicePassword('F2', SECRET))), 4);
  });

  test("without a factory secret a 'factory' device cannot connect, not even with an empty password", async () => {
    await service.add({ sn: 'F1', high_limit: 1000, credentials: 'factory' });
    refused(await auth({ factorySecret: '' })('device_F1', pw(derivedDevicePassword('F1', ''))), 4);
    refused(await auth({ factorySecret: '' })('device_F1', pw('')), 4);
  });
});

describe('authenticate: unknown serials (ING-3)', () => {
  test('an unknown serial without the factory password is refused with return code 5', async () => {
    refused(await auth()('device_NEW-1', pw('guess')), CONNACK.NOT_AUTHORIZED, 'unknown_device');
  });

  test('an unknown serial is refused when no factory secret is configured', async () => {
    refused(await auth({ factorySecret: '' })('device_NEW-1', pw(derivedDevicePassword('NEW-1', ''))), 5);
  });

  test('an unknown serial with the right derived password gets a pending session', async () => {
    assert.deepEqual(await auth()('device_NEW-1', pw(derivedDevicePassword('NEW-1', SECRET))), {
      ok: true, session: { role: 'pending', sn: 'NEW-1' },
    });
  });

  test('user names that are not device_{valid sn} are refused with return code 4', async () => {
    for (const username of ['A1', 'device_', 'device_bad sn', 'device_broadcast', 'Device_A1', undefined]) {
      refused(await auth()(username, pw(derivedDevicePassword('A1', SECRET))), 4, 'bad_username');
    }
  });
});

describe('authenticate: admin debug user', () => {
  test('is refused when no admin password is configured', async () => {
    refused(await auth()('admin', pw('')), 4);
    refused(await auth()('admin', undefined), 4);
    refused(await auth()('admin', pw('anything')), 4);
  });

  test('connects with the configured password only', async () => {
    const authenticate = auth({ adminPassword: 'debug-pass' });
    assert.deepEqual(await authenticate('admin', pw('debug-pass')), { ok: true, session: { role: 'admin' } });
    refused(await authenticate('admin', pw('debug-pasS')), 4, 'bad_password');
  });
});

describe('authenticate: failed logins are throttled per address and user name', () => {
  const limits = { windowMs: 60_000, perAddress: 8, perUser: 4 };
  const setup = (options: { adminPassword?: string } = {}) => {
    const clock = manualClock(0);
    const throttle = createLoginLimiter(clock, limits);
    return { clock, authenticate: auth({ adminPassword: options.adminPassword ?? 'debug-pass', loginThrottle: throttle }) };
  };

  test('the admin user: past the limit even the right password is refused unchecked (3) until the window passes', async () => {
    const { clock, authenticate } = setup();
    for (let i = 0; i < 4; i++) refused(await authenticate('admin', pw(`guess${i}`), `10.0.0.${i}`), 4, 'bad_password');
    refused(await authenticate('admin', pw('debug-pass'), '10.0.0.9'), CONNACK.SERVER_UNAVAILABLE, 'throttled');
    clock.advance(60_000);
    assert.deepEqual(await authenticate('admin', pw('debug-pass'), '10.0.0.9'), { ok: true, session: { role: 'admin' } });
  });

  test('one address trying many names is refused unchecked past its limit; other addresses are not', async () => {
    const { authenticate } = setup();
    await service.add({ sn: 'C1', high_limit: 1000, password: 'chosen-pass' });
    for (let i = 0; i < 8; i++) refused(await authenticate(`device_X${i}`, pw('guess'), '10.0.0.1'), 5, 'unknown_device');
    refused(await authenticate('device_C1', pw('chosen-pass'), '10.0.0.1'), 3, 'throttled');
    refused(await authenticate('admin', pw('debug-pass'), '10.0.0.1'), 3, 'throttled');
    assert.equal((await authenticate('device_C1', pw('chosen-pass'), '10.0.0.2')).ok, true);
  });

  test('CONNECTs running at once for a chosen (scrypt) password check no more guesses than the limit', async () => {
    const { authenticate } = setup();
    await service.add({ sn: 'C1', high_limit: 1000, password: 'chosen-pass' });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => authenticate('device_C1', pw(`guess${i}`), `10.0.1.${i}`)));
    const reasons = results.map((r) => (r.ok ? 'ok' : r.refusal));
    assert.equal(reasons.filter((r) => r === 'bad_password').length, 4);
    assert.equal(reasons.filter((r) => r === 'throttled').length, 16);
  });

  test('a detector with a generated or factory password is still checked while its address and name are blocked', async () => {
    const { authenticate } = setup();
    const { password } = await service.add({ sn: 'G1', high_limit: 1000 });
    await service.add({ sn: 'F1', high_limit: 1000, credentials: 'factory' });
    // A neighbour behind the same address (NAT), and someone who read the serials off the detectors.
    for (let i = 0; i < 8; i++) await authenticate('admin', pw(`guess${i}`), '10.0.0.1');
    for (let i = 0; i < 4; i++) {
      refused(await authenticate('device_G1', pw(`guess${i}`), '10.0.0.7'), 4, 'bad_password');
      refused(await authenticate('device_F1', pw(`guess${i}`), '10.0.0.7'), 4, 'bad_password');
    }
    refused(await authenticate('admin', pw('debug-pass'), '10.0.0.7'), 3, 'throttled'); // their failures counted for 10.0.0.7
    assert.equal((await authenticate('device_G1', pw(password!), '10.0.0.1')).ok, true);
    assert.equal((await authenticate('device_F1', pw(derivedDevicePassword('F1', SECRET)), '10.0.0.1')).ok, true);
  });

  test('a disabled device is refused with 5 and not counted: nothing was guessed', async () => {
    const { authenticate } = setup();
    await service.add({ sn: 'D1', high_limit: 1000, enabled: false });
    for (let i = 0; i < 20; i++) refused(await authenticate('device_D1', pw('whatever'), '10.0.0.1'), 5, 'disabled');
    assert.deepEqual(await authenticate('admin', pw('debug-pass'), '10.0.0.1'), { ok: true, session: { role: 'admin' } });
  });

  test('without the address (null) only the user name is limited', async () => {
    const { authenticate } = setup();
    for (let i = 0; i < 20; i++) await authenticate(`device_X${i}`, pw('guess'), null);
    assert.equal((await authenticate('admin', pw('debug-pass'), null)).ok, true);
    for (let i = 0; i < 4; i++) await authenticate('admin', pw('guess'), null);
    refused(await authenticate('admin', pw('debug-pass'), null), 3, 'throttled');
  });
});

describe('the real broker throttles failed CONNECTs (real aedes, real MQTT clients)', () => {
  const limits = { windowMs: 60_000, perAddress: 20, perUser: 5 };

  async function startBroker() {
    const clock = manualClock(0);
    const broker = createBroker({
      devices: cache, ingest: { handleDisconnect() {}, handleStatus() {} } as unknown as Ingest, log: silentLogger(), host: '127.0.0.1', port: 0,
      factorySecret: SECRET, adminPassword: 'debug-pass', loginThrottle: createLoginLimiter(clock, limits),
    });
    await broker.start();
    const connect = (username: string, password: string) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { username, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 })
        .then(async (client) => {
          await client.endAsync();
          return 0;
        }, (err: { code?: number }) => err.code ?? -1);
    return { clock, broker, connect };
  }

  test('many wrong admin CONNECTs: the limit is checked, the rest refused unchecked with 3, the right one after the window works', async () => {
    const { clock, broker, connect } = await startBroker();
    try {
      const codes: number[] = [];
      for (let i = 0; i < 40; i++) codes.push(await connect('admin', `guess${i}`));
      assert.deepEqual(codes.slice(0, 5), [4, 4, 4, 4, 4]);
      assert.deepEqual(new Set(codes.slice(5)), new Set([3]));
      assert.equal(broker.stats.refused.bad_password, 5, 'checked');
      assert.equal(broker.stats.refused.throttled, 35, 'refused without a check');
      assert.equal(await connect('admin', 'debug-pass'), 3, 'the right password waits too');
      clock.advance(60_000);
      assert.equal(await connect('admin', 'debug-pass'), 0);
    } finally {
      await broker.stop();
    }
  });

  test('many wrong CONNECTs from one address under different names are refused unchecked past the address limit', async () => {
    const { clock, broker, connect } = await startBroker();
    try {
      await service.add({ sn: 'C1', high_limit: 1000, password: 'chosen-pass' });
      for (let i = 0; i < 30; i++) await connect(`device_X${i}`, 'guess');
      assert.equal(broker.stats.refused.unknown_device, 20);
      assert.equal(broker.stats.refused.throttled, 10);
      assert.equal(await connect('device_C1', 'chosen-pass'), 3);
      clock.advance(60_000);
      assert.equal(await connect('device_C1', 'chosen-pass'), 0);
    } finally {
      await broker.stop();
    }
  });
});
