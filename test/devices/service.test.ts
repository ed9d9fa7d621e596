// Device administration (DEV-5 credentials, ING-3 adoption, the seed's 4000x codes) on a real
// SQLite file.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../appliance/core/errors.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository, type DeviceRepository } from '../../appliance/storage/devices.ts';
import { createPendingRepository, type PendingRepository } from '../../appliance/storage/pending.ts';
import { createReadingStore } from '../../appliance/storage/reading-store.ts';
import { createReadingRepository } from '../../appliance/storage/readings.ts';
import * as R from '../../appliance/storage/reading-row.ts';
import { createDeviceService, type DeviceService } from '../../appliance/devices/service.ts';
import { verifyPassword } from '../../appliance/core/device-credentials.ts';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

let dir: string;
let db: Db;
let devices: DeviceRepository;
let pending: PendingRepository;
let service: DeviceService;
let changes: string[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-'));
  db = openDb(dbFileIn(dir));
  devices = createDeviceRepository(db);
  pending = createPendingRepository(db);
  changes = [];
  service = createDeviceService({ devices, pending, clock: manualClock(T0), onChange: (sn) => changes.push(sn) });
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `fn`, expects an AppError with `code`, returns it. */
async function appError(fn: () => unknown, code: number): Promise<AppError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected AppError ${code}, nothing was thrown`);
}
const problems = (err: AppError) => (err.detail as string[]).join('\n');
/** ALM-9: a new detector needs a setpoint; 1000 in ppm of a 'custom' gas (the default) is within every bound. */
const PROTECTED = { high_limit: 1000 };

describe('add: credentials (DEV-5)', () => {
  test('a generated password is returned once and verifies against the stored hash', async () => {
    const { device, password } = await service.add({ ...PROTECTED, sn: 'MCS-A001-20251217', name: 'Boiler room' });
    assert.ok(password && password.length >= 20, `weak generated password: ${password}`);
    const stored = devices.get('MCS-A001-20251217')!;
    assert.equal(device.sn, 'MCS-A001-20251217');
    assert.equal(stored.name, 'Boiler room');
    assert.ok(stored.password_hash);
    assert.notEqual(stored.password_hash, password);
    assert.ok(!stored.password_hash.includes(password), 'the hash must not contain the password');
    assert.equal(await verifyPassword(stored.password_hash, password), true);
    assert.equal(await verifyPassword(stored.password_hash, password + 'x'), false);
    assert.deepEqual(changes, ['MCS-A001-20251217']);
  });

  test('two registrations get different passwords', async () => {
    const a = await service.add({ ...PROTECTED, sn: 'A1' });
    const b = await service.add({ ...PROTECTED, sn: 'B2' });
    assert.notEqual(a.password, b.password);
  });

  test("credentials 'factory' stores no hash and returns no password", async () => {
    const { device, password } = await service.add({ ...PROTECTED, sn: 'F1', credentials: 'factory' });
    assert.equal(password, null);
    assert.equal(device.password_hash, null);
    assert.equal(devices.get('F1')!.password_hash, null);
  });

  test('a chosen password is hashed with scrypt and verifies', async () => {
    const { password } = await service.add({ ...PROTECTED, sn: 'C1', password: 'correct horse' });
    assert.equal(password, 'correct horse');
    const hash = devices.get('C1')!.password_hash!;
    assert.match(hash, /^scrypt\$/);
    assert.equal(await verifyPassword(hash, 'correct horse'), true);
    assert.equal(await verifyPassword(hash, 'wrong horse'), false);
  });

  test('new devices get the default settings', async () => {
    const { device } = await service.add({ ...PROTECTED, sn: 'D1' });
    assert.deepEqual(device.calib, { k: 1, b: 0, t_ref: 25, t_comp: 0 });
    assert.equal(device.range_max, 50_000);
    assert.equal(device.enabled, true);
    assert.equal(device.created_at, T0);
  });
});

describe('add: validation (40002, 40004)', () => {
  test('a serial already registered is refused with 40002 and the first device is kept', async () => {
    await service.add({ ...PROTECTED, sn: 'A1', name: 'first' });
    changes.length = 0;
    await appError(() => service.add({ ...PROTECTED, sn: 'A1', name: 'second' }), 40002);
    assert.equal(devices.get('A1')!.name, 'first');
    assert.deepEqual(changes, []);
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['k of 0', { sn: 'A1', calib: { k: 0 } }, /calib\/k/],
    ['high_limit above range_max', { sn: 'A1', range_max: 1000, high_limit: 1500 }, /high_limit/],
    ['low_limit not below high_limit', { sn: 'A1', high_limit: 100, low_limit: 100 }, /low_limit/],
    ['a serial outside the pattern', { sn: 'bad sn!' }, /\/sn/],
    ["the reserved serial 'broadcast'", { sn: 'broadcast' }, /sn/],
    ['an unknown field', { sn: 'A1', colour: 'red' }, /colour|additional|unexpected/i],
    ['a non-numeric k', { sn: 'A1', calib: { k: 'abc' } }, /calib\/k/],
    ['pos_x without pos_y', { sn: 'A1', pos_x: 10 }, /pos_x/],
  ];
  for (const [what, input, mentioned] of invalid) {
    test(`${what} is refused with 40004, says why, and writes nothing`, async () => {
      const err = await appError(() => service.add(input), 40004);
      assert.match(problems(err), mentioned);
      assert.equal(devices.count(), 0);
      assert.deepEqual(changes, []);
    });
  }

  test('every broken rule between fields is listed, not just the first', async () => {
    const err = await appError(
      () => service.add({ sn: 'A1', calib: { k: 0 }, range_max: 1000, high_limit: 1500, low_limit: 2000 }),
      40004,
    );
    assert.match(problems(err), /calib\/k/);
    assert.match(problems(err), /high_limit/);
    assert.match(problems(err), /low_limit/);
  });

  test('every schema problem is listed, not just the first', async () => {
    const err = await appError(() => service.add({ sn: 'bad sn!', colour: 'red', range_max: -5 }), 40004);
    assert.match(problems(err), /\/sn/);
    assert.match(problems(err), /colour/);
    assert.match(problems(err), /range_max/);
  });

  test('schema problems and broken rules in one input are all listed', async () => {
    const err = await appError(
      () => service.add({ sn: 'bad sn!', colour: 'red', calib: { k: 0 }, range_max: 1000, high_limit: 1500, low_limit: 2000 }),
      40004,
    );
    for (const re of [/\/sn/, /colour/, /calib\/k/, /high_limit/, /low_limit/]) assert.match(problems(err), re);
    assert.equal(devices.count(), 0);
  });
});

describe('update', () => {
  test('a partial calibration is merged into the current one', async () => {
    await service.add({ sn: 'A1', name: 'Tank', calib: { k: 1.5, b: -10, t_comp: 0.1 }, high_limit: 5000 });
    changes.length = 0;
    const { device: updated } = service.update('A1', { calib: { b: -12 } });
    assert.deepEqual(updated.calib, { k: 1.5, b: -12, t_ref: 25, t_comp: 0.1 });
    assert.equal(updated.name, 'Tank');
    assert.equal(updated.high_limit, 5000);
    assert.deepEqual(devices.get('A1')!.calib, { k: 1.5, b: -12, t_ref: 25, t_comp: 0.1 });
    assert.deepEqual(changes, ['A1']);
  });

  test('limits can be cleared with null, leaving one setpoint', async () => {
    await service.add({ sn: 'A1', high_limit: 5000, low_limit: 10 });
    const { device: updated } = service.update('A1', { low_limit: null });
    assert.equal(updated.high_limit, 5000);
    assert.equal(updated.low_limit, null);
  });

  test('an update breaking a rule against the current settings is refused and changes nothing', async () => {
    await service.add({ sn: 'A1', high_limit: 500 });
    changes.length = 0;
    const err = await appError(() => service.update('A1', { low_limit: 600 }), 40004);
    assert.match(problems(err), /low_limit/);
    assert.equal(devices.get('A1')!.low_limit, null);
    assert.deepEqual(changes, []);
  });

  test('an empty update and an update of the serial are refused with 40004', async () => {
    await service.add({ ...PROTECTED, sn: 'A1' });
    await appError(() => service.update('A1', {}), 40004);
    await appError(() => service.update('A1', { sn: 'B2' }), 40004);
    assert.ok(devices.get('A1'));
  });

  test('updating an unknown device is 40001', async () => {
    await appError(() => service.update('NOPE', { name: 'x' }), 40001);
  });
});

describe('remove', () => {
  test('removing a device keeps its stored readings', async () => {
    const { device } = await service.add({ ...PROTECTED, sn: 'A1' });
    const rows = new Float64Array(R.ROW_FIELDS);
    rows[R.F_SN_ID] = device.sn_id;
    rows[R.F_TS] = T0;
    rows[R.F_PPM] = 12.5;
    rows[R.F_HUMI] = NaN;
    rows[R.F_RECEIVED] = T0;
    createReadingStore(db).writeBatch(rows, 1);
    changes.length = 0;

    service.remove('A1');
    assert.equal(devices.get('A1'), undefined);
    assert.deepEqual(changes, ['A1']);
    const readings = createReadingRepository(db);
    assert.equal(readings.count(), 1);
    assert.equal(readings.raw('A1', T0, T0 + 1)[0].ppm, 12.5);
    await appError(() => service.get('A1'), 40001);
  });

  test('removing an unknown device is 40001', async () => {
    await appError(() => service.remove('NOPE'), 40001);
  });
});

describe('adopt (ING-3)', () => {
  test('a serial that is not pending cannot be adopted', async () => {
    await appError(() => service.adopt({ sn: 'NEW-1' }), 40001);
    assert.equal(devices.count(), 0);
  });

  test('a pending serial is registered with its factory password and leaves the pending list', async () => {
    pending.record({ sn: 'NEW-1', ts: T0, messages: 4, payload: '{}', remote: null });
    pending.record({ sn: 'NEW-2', ts: T0, messages: 1, payload: null, remote: null });
    const { device, password } = await service.adopt({ sn: 'NEW-1', name: 'Line 3', high_limit: 800 });
    assert.equal(password, null);
    assert.equal(device.password_hash, null);
    assert.equal(device.name, 'Line 3');
    assert.equal(device.high_limit, 800);
    assert.deepEqual(service.pending().map((p) => p.sn), ['NEW-2']);
    assert.deepEqual(changes, ['NEW-1']);
  });

  test('adopting with invalid settings leaves the serial pending', async () => {
    pending.record({ sn: 'NEW-1', ts: T0, messages: 1, payload: null, remote: null });
    await appError(() => service.adopt({ sn: 'NEW-1', calib: { k: 0 } }), 40004);
    assert.ok(pending.get('NEW-1'));
    assert.equal(devices.count(), 0);
  });
});

describe('resetPassword', () => {
  test('a new generated password replaces the old credential', async () => {
    const { password: old } = await service.add({ ...PROTECTED, sn: 'A1' });
    changes.length = 0;
    const { password } = service.resetPassword('A1');
    assert.ok(password);
    assert.notEqual(password, old);
    const hash = devices.get('A1')!.password_hash!;
    assert.equal(await verifyPassword(hash, password), true);
    assert.equal(await verifyPassword(hash, old!), false);
    assert.deepEqual(changes, ['A1']);
  });

  test('a factory-credential device gets a stored credential', async () => {
    await service.add({ ...PROTECTED, sn: 'F1', credentials: 'factory' });
    const { password } = service.resetPassword('F1');
    assert.equal(await verifyPassword(devices.get('F1')!.password_hash!, password!), true);
  });

  test('resetting an unknown device is 40001', async () => {
    await appError(() => service.resetPassword('NOPE'), 40001);
  });
});
