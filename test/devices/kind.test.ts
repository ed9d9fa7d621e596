// Issue 15.5: the device kind. An output module (输出模块, GB 16808-2025 alarm control output) is
// registered without gas or setpoint and refused any; it never raises a gas alarm, is not counted as
// an unprotected detector nor on the kiosk's detector counts, is never due for calibration, and shows
// in the device list with the relay states it reports. It still counts against the license's
// max_devices (LIC-5 counts connected devices and names no exception). Detectors are unchanged:
// no setpoint, no registration (ALM-9).
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../appliance/core/errors.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { migrations } from '../../appliance/storage/migrations/index.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import { createPendingRepository } from '../../appliance/storage/pending.ts';
import { createDeviceService, type DeviceService } from '../../appliance/devices/service.ts';
import { createOutputModule, type OutputModule } from '../../simulator/output-module.ts';
import { startApi } from '../helpers/api.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

async function refusalAsync(fn: () => Promise<unknown>): Promise<AppError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

describe('device kind in the device service (real SQLite)', () => {
  let dir: string;
  let db: Db;
  let service: DeviceService;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-kind-'));
    db = openDb(dbFileIn(dir));
    service = createDeviceService({ devices: createDeviceRepository(db), pending: createPendingRepository(db), clock: manualClock(T0) });
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('an output module registers with a name and no gas or setpoint, and is stored as an output', async () => {
    const { device, password, override } = await service.add({ sn: 'OUT-1', kind: 'output', name: 'Fan relay, hall 1', location: 'hall 1' });
    assert.equal(device.kind, 'output');
    assert.deepEqual([device.high_limit, device.high2_limit, device.low_limit], [null, null, null]);
    assert.equal(override, null);
    assert.ok(password && password.length >= 8, 'a generated password, shown once');
    assert.equal(service.get('OUT-1').kind, 'output');
  });

  test('a detector is the default kind and still needs a setpoint (ALM-9)', async () => {
    const err = await refusalAsync(() => service.add({ sn: 'DET-1' }));
    assert.equal(err.code, 40005);
    const { device } = await service.add({ sn: 'DET-1', high_limit: 1000 });
    assert.equal(device.kind, 'detector');
  });

  test('an output module given a gas, unit, calibration or setpoint is refused, naming each field, in English and Chinese', async () => {
    const err = await refusalAsync(() => service.add({ sn: 'OUT-2', kind: 'output', gas: 'CH4', high_limit: 20, calib: { k: 2 } }));
    assert.equal(err.code, 40004);
    assert.deepEqual(err.detail, ['gas', 'calib', 'high_limit'].map((f) => `/${f}: an output module measures no gas / 输出模块不测量气体`));
    assert.match(err.message, /output module measures no gas.*remove gas, calib, high_limit/);
    assert.match(err.message, /输出模块不测量气体/);
    assert.equal(service.list().total, 0, 'nothing registered');
  });

  test("an output module's name and place change; a setpoint on it is refused, and its kind cannot be changed", async () => {
    await service.add({ sn: 'OUT-3', kind: 'output' });
    const { device } = service.update('OUT-3', { name: 'Valve, boiler room', location: 'B1', enabled: false });
    assert.deepEqual([device.kind, device.name, device.location, device.enabled], ['output', 'Valve, boiler room', 'B1', false]);
    const setpoint = refusal(() => service.update('OUT-3', { low_limit: 5 }));
    assert.equal(setpoint.code, 40004);
    assert.match(setpoint.message, /low_limit/);
    const kind = refusal(() => service.update('OUT-3', { kind: 'detector' }));
    assert.equal(kind.code, 40004);
    assert.equal(service.get('OUT-3').low_limit, null);
  });

  test('an unknown kind is refused', async () => {
    const err = await refusalAsync(() => service.add({ sn: 'X-1', kind: 'valve', high_limit: 10 }));
    assert.equal(err.code, 40004);
    assert.match(err.message, /kind/);
  });
});

test('migration 013: every device registered before it is a detector', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-kind-mig-'));
  try {
    const file = dbFileIn(dir);
    const before = openDb(file, { migrations: migrations.filter((m) => m.version < 13) });
    before.prepare("INSERT INTO serials (sn) VALUES ('OLD-1')").run();
    before.prepare("INSERT INTO devices (sn, sn_id, high_limit, created_at, updated_at) VALUES ('OLD-1', 1, 20, 0, 0)").run();
    before.close();
    const after = openDb(file);
    try {
      assert.equal(createDeviceRepository(after).get('OLD-1')?.kind, 'detector');
      assert.throws(() => after.prepare("UPDATE devices SET kind = 'fan' WHERE sn = 'OLD-1'").run(), /CHECK constraint/);
    } finally {
      after.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('API: an output module is registered with kind=output, lists with its reported relay states, raises no gas alarm and is neither unprotected, counted on the kiosk, nor due for calibration', async () => {
  const api = await startApi({ site: { timezone: 'UTC', language: 'en' } });
  let module: OutputModule | undefined;
  const clients: Awaited<ReturnType<typeof connectDevice>>[] = [];
  try {
    const token = api.tokens.admin;
    // The seed's registration of a detector is unchanged: no setpoint, refused.
    const unprotected = await api.call('POST', '/api/devices', { token, body: { sn: 'DET-A' } });
    assert.equal(unprotected.status, 400);
    assert.equal(unprotected.body.code, 40005);
    const detector = await api.call('POST', '/api/devices', { token, body: { sn: 'DET-A', high_limit: 1000 } });
    assert.equal(detector.status, 201, detector.text);
    assert.equal(detector.body.device.kind, 'detector');

    const withSetpoint = await api.call('POST', '/api/devices', { token, body: { sn: 'OUT-A', kind: 'output', high_limit: 1000 } });
    assert.equal(withSetpoint.status, 400);
    assert.equal(withSetpoint.body.code, 40004);
    assert.match(withSetpoint.body.message, /an output module measures no gas.*输出模块不测量气体/);

    const created = await api.call('POST', '/api/devices', { token, body: { sn: 'OUT-A', kind: 'output', name: 'Fan relay' } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.device.kind, 'output');
    assert.equal(created.body.device.relay, null, 'nothing reported yet');
    const audit = await api.call('GET', '/api/system/logs?action=device.create&target=OUT-A', { token });
    assert.ok(audit.body.data.some((e: { target: string; after: { kind?: string } }) => e.target === 'OUT-A' && e.after.kind === 'output'), 'the kind is in the audit log');

    // The simulated output module connects and reports its relays; the appliance switches one.
    module = createOutputModule({ sn: 'OUT-A', url: api.url, password: created.body.password });
    await module.start();
    await eventually(() => api.app.testApi.liveFigures('OUT-A').relay !== null, 5000, "the module's relay report");
    await api.app.testApi.sendCommand('OUT-A', { cmd: 'relay', ch: 2, on: true });
    await eventually(() => api.app.testApi.liveFigures('OUT-A').relay?.['2'] === true, 5000, 'relay 2 reported on');

    const list = await api.call('GET', '/api/devices', { token });
    assert.equal(list.status, 200, list.text);
    const out = list.body.data.find((d: { sn: string }) => d.sn === 'OUT-A');
    assert.deepEqual(out.relay, { 1: false, 2: true, 3: false, 4: false });
    assert.equal(typeof out.relay_at, 'string');
    assert.deepEqual([out.kind, out.status, out.state], ['output', 'online', 'ok'], 'online, and not "unprotected"');

    // LIC-5 counts connected devices and names no exception: the output module is one of them.
    assert.equal(api.app.testApi.connectedDevices(), 1);

    // A stray reading on its serial (a module sends none) raises no gas alarm: it has no setpoint.
    await module.stop();
    const stray = await connectDevice(api.url, 'OUT-A', created.body.password);
    clients.push(stray);
    await publishReading(stray, 'OUT-A', { seq: 1, v_raw: 40_000 });
    await api.app.testApi.flush();
    await eventually(() => api.app.testApi.lastReadingAt('OUT-A') !== null, 5000, 'the stray reading stored');
    const alarms = await api.call('GET', '/api/alarms?sn=OUT-A', { token });
    assert.deepEqual(alarms.body.data.filter((a: { type: string }) => a.type === 'HIGH' || a.type === 'LOW'), []);

    // The kiosk: the snapshot marks it an output; its counts are of detectors only.
    const fleet = api.app.testApi.liveFleet();
    assert.equal(fleet.find((d) => d.sn === 'OUT-A')?.kind, 'output');
    assert.equal(api.app.testApi.liveCounts().total, 1, 'one detector on the kiosk counts');
    // Never due for calibration (JJG 693-2011 applies to detectors).
    const due = await api.call('GET', '/api/calibration/due', { token });
    assert.deepEqual(due.body.data.map((r: { sn: string }) => r.sn), ['DET-A']);
  } finally {
    await Promise.all(clients.map((c) => c.endAsync()));
    await module?.stop();
    await api.stop();
  }
});
