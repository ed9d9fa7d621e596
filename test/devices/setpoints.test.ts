// ALM-9 in the device service on a real SQLite file: the gas and its unit, setpoints refused
// outside GB/T 50493-2019's bounds (40005, both languages) unless overridden with a reason, and no
// new detector without a setpoint — for add, adopt and update alike (the API and CLI use these).
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../appliance/core/errors.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import type { SetpointRefusal } from '../../appliance/contract/gas.ts';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository, type DeviceRepository } from '../../appliance/storage/devices.ts';
import { createPendingRepository } from '../../appliance/storage/pending.ts';
import { createDeviceService, DEFAULT_SETTINGS, type DeviceService } from '../../appliance/devices/service.ts';
import { runDevicesCommand } from '../../appliance/cli/devices.ts';
import { loadConfig } from '../../appliance/core/config.ts';
import { createAuditRepository } from '../../appliance/storage/audit.ts';

let dir: string;
let db: Db;
let devices: DeviceRepository;
let service: DeviceService;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-gas-'));
  db = openDb(dbFileIn(dir));
  devices = createDeviceRepository(db);
  service = createDeviceService({ devices, pending: createPendingRepository(db), clock: manualClock(0) });
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function refusal(fn: () => unknown, code = 40005): Promise<AppError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}
const detail = (err: AppError) => err.detail as SetpointRefusal;

describe('a new detector', () => {
  test('a combustible level-1 setpoint above 25 % LEL is refused with the reason in English and Chinese, and nothing is stored', async () => {
    const err = await refusal(() => service.add({ sn: 'CH4-1', gas: 'CH4', unit: '%LEL', high_limit: 30, high2_limit: 50 }));
    assert.equal(err.http, 400);
    assert.deepEqual(detail(err).problems.map((p) => p.field), ['high_limit']);
    assert.equal(detail(err).overridable, true);
    assert.match(err.message, /level-1 setpoint 30 % LEL is above 25 % LEL/);
    assert.match(err.message, /一级报警设定值 30 % LEL 超过/);
    assert.match(err.message, /setpoint_override_reason/);
    assert.equal(devices.get('CH4-1'), undefined);
  });

  test('a toxic level-1 setpoint above 100 % OEL in the device unit is refused', async () => {
    const err = await refusal(() => service.add({ sn: 'CO-1', gas: 'CO', unit: 'ppm', high_limit: 25 }));
    assert.match(detail(err).problems[0].en, /above 17\.1 ppm \(100 % OEL \(PC-TWA 20 mg\/m³\)\)/);
  });

  test('with setpoint_override_reason the setpoint is accepted and the override returned for the audit log', async () => {
    const { device, override } = await service.add({
      sn: 'CH4-2', gas: 'CH4', unit: '%LEL', high_limit: 30, high2_limit: 60, setpoint_override_reason: 'process vent area, agreed with safety dept.',
    });
    assert.equal(device.high_limit, 30);
    assert.equal(override?.reason, 'process vent area, agreed with safety dept.');
    assert.deepEqual(override?.problems.map((p) => p.field), ['high_limit', 'high2_limit']);
  });

  test('without any setpoint it is refused, even with an override reason', async () => {
    for (const input of [{ sn: 'NONE-1' }, { sn: 'NONE-1', gas: 'H2S', setpoint_override_reason: 'later' }]) {
      const err = await refusal(() => service.add(input));
      assert.equal(detail(err).overridable, false);
      assert.match(err.message, /no alarm setpoint/);
      assert.match(err.message, /未设置报警设定值/);
    }
    assert.equal(devices.count(), 0);
  });

  test('adopting a pending serial follows the same rules', async () => {
    createPendingRepository(db).record({ sn: 'PEND-9', ts: 0, messages: 1, payload: null, remote: null });
    await refusal(() => service.adopt({ sn: 'PEND-9', name: 'found' }));
    await refusal(() => service.adopt({ sn: 'PEND-9', gas: 'NH3', unit: 'mg/m3', high_limit: 25 }));
    const { device } = await service.adopt({ sn: 'PEND-9', gas: 'NH3', unit: 'mg/m3', high_limit: 20, high2_limit: 40 });
    assert.equal(device.gas, 'NH3');
  });

  test('a gas without a unit gets its first unit and usual range; a unit the gas has not is 40004', async () => {
    const { device } = await service.add({ sn: 'O2-1', gas: 'O2', low_limit: 19.5, high_limit: 23.5 });
    assert.equal(device.unit, '%VOL');
    assert.equal(device.range_max, 30);
    const err = await refusal(() => service.add({ sn: 'O2-2', gas: 'O2', unit: 'ppm', low_limit: 19.5 }), 40004);
    assert.match((err.detail as string[]).join(), /'ppm' is not a unit of O2/);
    await refusal(() => service.add({ sn: 'X-1', gas: 'Xenon', high_limit: 10 }), 40004);
  });

  test('an oxygen deficiency setpoint below 19.5 %VOL is refused', async () => {
    const err = await refusal(() => service.add({ sn: 'O2-3', gas: 'O2', low_limit: 18 }));
    assert.deepEqual(detail(err).problems.map((p) => p.field), ['low_limit']);
  });

  test("the seed API's device (no gas, a high limit in ppm) is a 'custom' gas without a standard bound", async () => {
    const { device } = await service.add({ sn: 'SEED-1', name: 'Tank', high_limit: 20_000 });
    assert.equal(device.gas, 'custom');
    assert.equal(device.unit, 'ppm');
  });

  test('level 2 not above level 1 stays a 40004 rule', async () => {
    await refusal(() => service.add({ sn: 'CH4-3', gas: 'CH4', high_limit: 20, high2_limit: 20 }), 40004);
  });
});

describe('an update', () => {
  test('a setpoint moved outside the bounds needs a reason; one accepted before does not block other changes', async () => {
    await service.add({ sn: 'H2S-1', gas: 'H2S', unit: 'ppm', high_limit: 7, high2_limit: 14 });
    const err = await refusal(() => service.update('H2S-1', { high_limit: 10 }));
    assert.match(detail(err).problems[0]['zh-CN'], /硫化氢的一级报警设定值 10 ppm 超过/);
    assert.equal(devices.get('H2S-1')!.high_limit, 7);

    const { override } = service.update('H2S-1', { high_limit: 10, setpoint_override_reason: 'sensor T90 slow, agreed' });
    assert.deepEqual(override?.problems.map((p) => p.field), ['high_limit']);
    // renaming the device keeps the accepted setpoint without asking again
    const renamed = service.update('H2S-1', { name: 'Sump pump' });
    assert.equal(renamed.override, null);
    assert.equal(renamed.device.high_limit, 10);
    // but a different value outside the bound is a new decision
    await refusal(() => service.update('H2S-1', { high_limit: 11 }));
  });

  test('changing the unit re-checks the setpoints in the new unit', async () => {
    await service.add({ sn: 'CH4-9', gas: 'CH4', unit: '%LEL', high_limit: 20, high2_limit: 40 });
    // 20 and 40 read as %VOL would be 400 % and 800 % LEL
    const err = await refusal(() => service.update('CH4-9', { unit: '%VOL' }));
    assert.deepEqual(detail(err).problems.map((p) => p.field), ['high_limit', 'high2_limit']);
    assert.equal(service.update('CH4-9', { unit: '%VOL', high_limit: 1, high2_limit: 2.5 }).device.unit, '%VOL');
  });

  test('clearing every setpoint is refused unless overridden', async () => {
    await service.add({ sn: 'A1', high_limit: 100 });
    const err = await refusal(() => service.update('A1', { high_limit: null }));
    assert.equal(detail(err).overridable, true);
    const { device, override } = service.update('A1', { high_limit: null, setpoint_override_reason: 'detector removed for repair' });
    assert.equal(device.high_limit, null);
    assert.equal(override?.problems[0].field, null);
  });

  test('a device stored without a setpoint (from before) can still be renamed', async () => {
    devices.insert('OLD-1', DEFAULT_SETTINGS, null, 0); // the repository does not judge settings
    assert.equal(service.update('OLD-1', { name: 'Dryer' }).device.name, 'Dryer');
  });
});

describe('the CLI', () => {
  test('refuses a setpoint outside the bounds (exit 1, 40005); --override-reason accepts it and writes the audit log', async () => {
    const loaded = loadConfig({ env: {}, overrides: { data_dir: dir } });
    assert.ok(loaded.ok);
    const lines: string[] = [];
    let stderr = '';
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
    let refusedCode: number;
    try {
      refusedCode = await runDevicesCommand(['add', 'CLI-1', '--gas', 'CH4', '--unit', '%LEL', '--high', '40'], loaded.config, (l) => lines.push(l));
    } finally {
      process.stderr.write = write;
    }
    assert.equal(refusedCode, 1);
    assert.match(stderr, /level-1 setpoint 40 % LEL is above 25 % LEL.*一级报警设定值.*\(code 40005\)/s);
    const code = await runDevicesCommand(['add', 'CLI-1', '--gas', 'CH4', '--unit', '%LEL', '--high', '40', '--override-reason', 'test rig'], loaded.config, (l) => lines.push(l));
    assert.equal(code, 0, lines.join('\n'));
    assert.ok(lines.some((l) => /setpoint override recorded in the audit log/.test(l)), lines.join('\n'));
    const [entry] = createAuditRepository(db).list({ action: 'device.setpoint_override', limit: 10, offset: 0 }).items;
    assert.match(entry.username, /^cli:/);
    assert.equal(entry.target, 'CLI-1');
    assert.equal((entry.after as { reason: string }).reason, 'test rig');
  });
});
