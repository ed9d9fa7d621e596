// DEV-5 / DEV-6 at CONNECT: credentials from the device table (through the cache), the factory
// derived password for unregistered serials (pending, ING-3), and the optional admin user.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAuthenticator, CONNACK, type AuthResult } from '../../appliance/broker/authenticate.ts';
import { derivedDevicePassword } from '../../appliance/contract/credentials.ts';
import { manualClock } from '../../appliance/core/clock.ts';
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

const auth = (options: { factorySecret?: string; adminPassword?: string } = {}) =>
  createAuthenticator({ devices: cache, factorySecret: options.factorySecret ?? SECRET, adminPassword: options.adminPassword ?? '' });
const pw = (text: string) => Buffer.from(text);

function refused(result: AuthResult, returnCode: number, refusal?: string) {
  assert.ok(!result.ok, `expected a refusal, got ${JSON.stringify(result)}`);
  assert.equal(result.returnCode, returnCode);
  if (refusal) assert.equal(result.refusal, refusal);
}

describe('authenticate: registered devices (DEV-5)', () => {
  test('a device connects with its generated password', async () => {
    const { password } = await service.add({ sn: 'A1' });
    assert.deepEqual(await auth()('device_A1', pw(password!)), { ok: true, session: { role: 'device', sn: 'A1' } });
  });

  test('a wrong password is refused with return code 4', async () => {
    const { password } = await service.add({ sn: 'A1' });
    refused(await auth()('device_A1', pw(password + 'x')), CONNACK.BAD_USERNAME_OR_PASSWORD, 'bad_password');
    refused(await auth()('device_A1', undefined), 4);
  });

  test('a device with its own password is not let in with the derived factory password', async () => {
    await service.add({ sn: 'A1' });
    refused(await auth()('device_A1', pw(derivedDevicePassword('A1', SECRET))), 4);
  });

  test('a chosen (scrypt) password works repeatedly and the old one stops working after a reset', async () => {
    await service.add({ sn: 'A1', password: 'correct horse' });
    const authenticate = auth();
    assert.equal((await authenticate('device_A1', pw('correct horse'))).ok, true);
    assert.equal((await authenticate('device_A1', pw('correct horse'))).ok, true);
    refused(await authenticate('device_A1', pw('correct horsf')), 4);
    const { password } = service.resetPassword('A1');
    refused(await authenticate('device_A1', pw('correct horse')), 4);
    assert.equal((await authenticate('device_A1', pw(password!))).ok, true);
  });

  test('a disabled device is refused with return code 5 even with the right password', async () => {
    const { password } = await service.add({ sn: 'A1', enabled: false });
    refused(await auth()('device_A1', pw(password!)), CONNACK.NOT_AUTHORIZED, 'disabled');
  });

  test("a device registered with 'factory' credentials connects with the derived password", async () => {
    await service.add({ sn: 'F1', credentials: 'factory' });
    assert.deepEqual(await auth()('device_F1', pw(derivedDevicePassword('F1', SECRET))), {
      ok: true, session: { role: 'device', sn: 'F1' },
    });
    refused(await auth()('device_F1', pw(derivedDevicePassword('F1', 'another-secret'))), 4);
    refused(await auth()('device_F1', pw(derivedDevicePassword('F2', SECRET))), 4);
  });

  test("without a factory secret a 'factory' device cannot connect, not even with an empty password", async () => {
    await service.add({ sn: 'F1', credentials: 'factory' });
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
