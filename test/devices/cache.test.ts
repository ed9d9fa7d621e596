// The hot path's device map notices settings changes made by another process (the CLI) through
// the shared SQLite file, and ignores status-only writes.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dbFileIn, openDb, type Db } from '../../appliance/storage/db.ts';
import { createDeviceRepository, type DeviceRepository, type DeviceSettings } from '../../appliance/storage/devices.ts';
import { createDeviceCache, type DeviceCache } from '../../appliance/devices/cache.ts';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const SETTINGS: DeviceSettings = {
  name: '', location: '', pos_x: null, pos_y: null, gas: 'CH4', unit: 'ppm',
  calib: { k: 1, b: 0, t_ref: 25, t_comp: 0 }, range_max: 50_000, high_limit: null, high2_limit: null, low_limit: null, enabled: true,
};

let dir: string;
let appDb: Db; // the running appliance's connection
let cliDb: Db; // a second connection to the same file, as the CLI process would open
let appRepo: DeviceRepository;
let cliRepo: DeviceRepository;
let cache: DeviceCache;
let reloads: number;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-'));
  appDb = openDb(dbFileIn(dir));
  cliDb = openDb(dbFileIn(dir));
  appRepo = createDeviceRepository(appDb);
  cliRepo = createDeviceRepository(cliDb);
  appRepo.insert('A1', SETTINGS, null, T0);
  cache = createDeviceCache(appRepo);
  reloads = 0;
  cache.onReload(() => reloads++);
  cache.reload();
});
afterEach(() => {
  cache.stop();
  cliDb.close();
  appDb.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('device cache', () => {
  test('reload() loads every registered device', () => {
    assert.equal(cache.size(), 1);
    assert.equal(cache.get('A1')!.calib.k, 1);
    assert.equal(cache.get('B2'), undefined);
  });

  test('without changes reloadIfChanged() does not reload', () => {
    cache.reloadIfChanged();
    cache.reloadIfChanged();
    assert.equal(reloads, 1);
  });

  test('a device added through another connection is noticed by reloadIfChanged()', () => {
    cliRepo.insert('B2', SETTINGS, null, T0);
    cache.reloadIfChanged();
    assert.equal(cache.size(), 2);
    assert.equal(reloads, 2);
  });

  test('a device added through another connection is known at its first lookup, before the poll (ING-3: not taken for a pending serial)', () => {
    cliRepo.insert('B2', SETTINGS, null, T0);
    assert.equal(cache.get('B2')?.sn, 'B2');
    assert.equal(reloads, 2);
  });

  test("an unknown serial's lookups reload nothing while no device changed", () => {
    for (let i = 0; i < 5; i++) assert.equal(cache.get('NOPE'), undefined);
    assert.equal(reloads, 1);
  });

  test('a settings change through another connection is noticed by reloadIfChanged()', () => {
    cliRepo.update('A1', { ...SETTINGS, calib: { ...SETTINGS.calib, k: 2.5 }, enabled: false }, T0 + 1);
    cache.reloadIfChanged();
    assert.equal(cache.get('A1')!.calib.k, 2.5);
    assert.equal(cache.get('A1')!.enabled, false);
  });

  test('a new password and a removal through another connection are noticed', () => {
    cliRepo.setPasswordHash('A1', 'sha256$x$y', T0 + 1);
    cache.reloadIfChanged();
    assert.equal(cache.get('A1')!.password_hash, 'sha256$x$y');
    cliRepo.remove('A1');
    cache.reloadIfChanged();
    assert.equal(cache.get('A1'), undefined);
    assert.equal(reloads, 3);
  });

  test('a status-only update does not bump the change version or reload the cache', () => {
    const before = appRepo.changeVersion();
    cliRepo.setStatus('A1', 'online', T0 + 5_000);
    appRepo.setStatus('A1', 'offline', null);
    assert.equal(appRepo.changeVersion(), before);
    cache.reloadIfChanged();
    assert.equal(reloads, 1);
    assert.equal(appRepo.get('A1')!.last_seen, T0 + 5_000);
  });

  test('start() loads at once', () => {
    const fresh = createDeviceCache(cliRepo);
    assert.equal(fresh.size(), 0);
    fresh.start();
    try {
      assert.equal(fresh.size(), 1);
    } finally {
      fresh.stop();
    }
  });
});
