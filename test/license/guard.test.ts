// The appliance's license guard against the real license server on loopback, temp data dirs and
// a hand-driven clock (shared with the server, so token expiry and grace are driven, not waited for).
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualClock } from '../../appliance/core/clock.ts';
import { AppError } from '../../appliance/core/errors.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { createLicenseGuard, TOKEN_FILE_NAME, type LicenseGuard } from '../../appliance/license/guard.ts';
import { signJson } from '../../licensing/signing.ts';
import { eventually, tempDir } from '../helpers/appliance.ts';
import { startHttpServer } from '../notify/support.ts';
import { issue, MACHINE_A, MACHINE_B, startLicenseServer, vendorKeys, type RunningLicenseServer } from '../licensing/support.ts';

const HOUR = 3_600_000;
const keys = vendorKeys();
let clock: ReturnType<typeof manualClock>;
let server: RunningLicenseServer;
const temps: ReturnType<typeof tempDir>[] = [];
const guards: LicenseGuard[] = [];

beforeEach(async () => {
  clock = manualClock(Date.UTC(2026, 5, 1, 3));
  server = await startLicenseServer(keys, { now: () => clock.now() });
});
afterEach(async () => {
  for (const guard of guards.splice(0)) await guard.stop();
  for (const temp of temps.splice(0)) temp.remove();
  await server.close();
});

interface GuardOptions {
  dir?: string;
  machineId?: string;
  serverUrl?: string;
  licenseText?: string;
}

function newGuard(options: GuardOptions = {}) {
  const dir = options.dir ?? (temps.push(tempDir()), temps[temps.length - 1].dir);
  if (options.licenseText) writeFileSync(join(dir, 'license.key'), options.licenseText);
  const alarms: string[] = [];
  const guard = createLicenseGuard({
    settings: { file: '', serverUrl: options.serverUrl ?? server.url, machineId: options.machineId ?? MACHINE_A, timeoutMs: 2000 },
    dataDir: dir, publicKeyPem: keys.publicPem, version: '0.1.0', clock, log: silentLogger(),
    devicesUsed: () => 3,
    reportCondition: (_type, source, { holds }) => alarms.push(`${holds ? 'raise' : 'clear'} ${source}`),
    filePollMs: 20,
  });
  guards.push(guard);
  return { guard, alarms, dir };
}

/** A license recorded on the server (as `mcs-license issue` does) and its file text. */
function issued(overrides: Parameters<typeof issue>[1] = {}) {
  const { license, text } = issue(keys, overrides);
  server.store.add(license);
  return { license, text };
}

describe('license guard', () => {
  test('valid with a reachable server; the server unreachable → grace once the token runs out, locked 72 h later; the server back → valid again without restart', async () => {
    const { text } = issued({ max_devices: 40 });
    const { guard, alarms } = newGuard({ licenseText: text });
    guard.start();
    assert.equal((await guard.checkIn())?.result, 'valid');
    let state = guard.state();
    assert.deepEqual([state.mode, state.code, state.customer, state.max_devices, state.devices_used, state.machine_id], ['valid', 0, 'Test Chemical Plant', 40, 3, MACHINE_A]);
    assert.match(state.license_key!, /^MCS-\*{4}-\*{4}-ABCD$/);
    assert.equal(guard.apiError(), null);

    await server.down();
    clock.advance(25 * HOUR);
    assert.equal((await guard.checkIn())?.result, 'unreachable');
    state = guard.state();
    assert.deepEqual([state.mode, state.reason, state.code, state.grace_left_ms], ['grace', 'checkin_overdue', 0, 71 * HOUR]);
    assert.ok(guard.allows('api_write') && guard.allows('query') && guard.allows('archive'), 'grace works fully');
    assert.deepEqual(alarms, ['clear license:grace', 'clear license:locked'], 'no alarm while more than 24 h of grace are left');

    clock.advance(48 * HOUR + 1);
    assert.equal(guard.refresh().mode, 'grace');
    assert.deepEqual(alarms.slice(2), ['raise license:grace'], 'seed §8.4: grace with less than 24 h left raises LICENSE');

    clock.advance(23 * HOUR);
    state = guard.refresh();
    assert.deepEqual([state.mode, state.reason, state.code], ['locked', 'grace_over', 20001]);
    assert.deepEqual(alarms.slice(3), ['clear license:grace', 'raise license:locked']);
    assert.ok(!guard.allows('query') && !guard.allows('archive') && !guard.allows('api_write'));
    const error = guard.apiError();
    assert.ok(error instanceof AppError);
    assert.deepEqual([error.code, error.http, error.key], [20001, 403, 'LICENSE_INVALID']);
    assert.match(error.message, /internet access to the license server/);

    await server.up();
    assert.equal((await guard.checkIn())?.result, 'valid');
    assert.equal(guard.state().mode, 'valid');
    assert.deepEqual(alarms.slice(5), ['clear license:locked']);
    assert.equal(guard.apiError(), null);
  });

  test('a restart keeps the grace state: the signed token is kept in the data dir, and an edited token is not used', async () => {
    const { text } = issued();
    const first = newGuard({ licenseText: text });
    first.guard.start();
    await first.guard.checkIn();
    await first.guard.stop();
    await server.down();
    clock.advance(30 * HOUR);
    const again = newGuard({ dir: first.dir });
    again.guard.start();
    await again.guard.checkIn();
    assert.deepEqual([again.guard.state().mode, again.guard.state().grace_left_ms], ['grace', 66 * HOUR], 'grace counts from the kept token');

    // Pushing the token's expiry forward by hand breaks its signature: the token is ignored.
    const tokenFile = join(first.dir, TOKEN_FILE_NAME);
    const content = JSON.parse(readFileSync(tokenFile, 'utf8'));
    content.token.token_expire += 365 * 24 * 3600;
    writeFileSync(tokenFile, JSON.stringify(content));
    const edited = newGuard({ dir: first.dir });
    edited.guard.start();
    await edited.guard.checkIn();
    assert.deepEqual([edited.guard.state().mode, edited.guard.state().reason], ['grace', 'awaiting_first_checkin']);
  });

  test('a hand-edited license file is refused with 20001 and a message saying what to do', () => {
    const { text } = issued({ max_devices: 10 });
    const { guard } = newGuard({ licenseText: text.replace('"max_devices": 10', '"max_devices": 99') });
    guard.start();
    const state = guard.state();
    assert.deepEqual([state.mode, state.reason, state.code, state.max_devices], ['locked', 'invalid_file', 20001, 10]);
    assert.match(state.message, /signature does not match.*Install the license file exactly as the vendor sent it/);
    assert.equal(guard.apiError()?.code, 20001);
  });

  test('a license issued for another machine id is refused with 20004', () => {
    const { text } = issued({ machine_id: MACHINE_B });
    const { guard } = newGuard({ licenseText: text });
    guard.start();
    const state = guard.state();
    assert.deepEqual([state.mode, state.reason, state.code], ['locked', 'machine_mismatch', 20004]);
    assert.match(state.message, new RegExp(`this machine's id is ${MACHINE_A}\\. Ask the vendor for a license for this machine id`));
    assert.deepEqual([guard.apiError()?.code, guard.apiError()?.key], [20004, 'LICENSE_MACHINE_MISMATCH']);
  });

  test('an expired license is refused with 20002', () => {
    const { text } = issued({ expire_date: '2026-05-31' });
    const { guard } = newGuard({ licenseText: text });
    guard.start();
    assert.deepEqual([guard.state().mode, guard.state().code, guard.apiError()?.code], ['locked', 20002, 20002]);
    assert.match(guard.state().message, /expired on 2026-05-31\. Ask the vendor to renew it/);
  });

  test('a revoked license locks at its next check-in with reason revoked, even after a restart', async () => {
    const { license, text } = issued();
    const { guard, dir } = newGuard({ licenseText: text });
    guard.start();
    assert.equal((await guard.checkIn())?.result, 'valid');
    server.store.revoke(license.license_key, clock.now(), 'unpaid');
    assert.equal((await guard.checkIn())?.result, 'refused');
    const state = guard.state();
    assert.deepEqual([state.mode, state.reason, state.code], ['locked', 'revoked', 20001]);
    assert.match(state.message, /refused this license: license revoked \(unpaid\)\. Contact the vendor/);
    await guard.stop();
    await server.down();
    const again = newGuard({ dir });
    again.guard.start();
    await again.guard.checkIn();
    assert.deepEqual([again.guard.state().mode, again.guard.state().reason], ['locked', 'revoked'], 'the signed refusal is kept');
  });

  test('a fake server answering valid:true without the vendor signature does not unlock', async () => {
    const { text } = issued();
    const fake: Awaited<ReturnType<typeof startHttpServer>> = await startHttpServer((request) => {
      const body = JSON.parse(request.body);
      const answer = { valid: true, token_expire: 4_000_000_000, message: 'OK', code: 0, reason: 'ok', license_key: body.license_key, machine_id: body.machine_id, server_time: clock.now(), nonce: body.nonce };
      // First unsigned, then signed with a key that is not the vendor's.
      return { json: fake.received.length === 1 ? answer : { ...answer, signature: signJson(answer, vendorKeys().privateKey) } };
    });
    try {
      const { guard } = newGuard({ licenseText: text, serverUrl: fake.url });
      guard.start();
      assert.equal((await guard.checkIn())?.result, 'untrusted');
      assert.equal(guard.state().mode, 'grace');
      clock.advance(72 * HOUR);
      assert.equal((await guard.checkIn())?.result, 'untrusted');
      assert.deepEqual([guard.state().mode, guard.state().reason], ['locked', 'grace_over']);
      assert.equal(fake.received.length, 2);
    } finally {
      await fake.close();
    }
  });

  test('a second machine activating the same license key is refused with 20004; the first keeps working', async () => {
    const { text } = issued({ machine_id: null });
    const a = newGuard({ licenseText: text, machineId: MACHINE_A });
    a.guard.start();
    assert.equal((await a.guard.checkIn())?.result, 'valid');
    const b = newGuard({ licenseText: text, machineId: MACHINE_B });
    b.guard.start();
    assert.equal((await b.guard.checkIn())?.result, 'refused');
    assert.deepEqual([b.guard.state().mode, b.guard.state().code], ['locked', 20004]);
    clock.advance(24 * HOUR);
    assert.equal((await a.guard.checkIn())?.result, 'valid');
    assert.equal(a.guard.state().mode, 'valid');
  });

  test('stopping does not wait for a license server that never answers (OPS-4)', async () => {
    const hung = await startHttpServer(() => 'never');
    try {
      const { guard } = newGuard({ licenseText: issued().text, serverUrl: hung.url });
      guard.start(); // checks in at start, in the background
      await eventually(() => hung.received.length === 1, 2000, 'the check-in request');
      const started = Date.now();
      await guard.stop();
      assert.ok(Date.now() - started < 500, `stopped in ${Date.now() - started} ms`);
      assert.equal(guard.state().last_checkin?.result, 'unreachable');
    } finally {
      await hung.close();
    }
  });

  test('a license cannot be checked when the machine id cannot be read: locked with 20004, saying why', () => {
    const { guard } = newGuard({ licenseText: issued({ machine_id: null }).text, machineId: 'not-a-machine-id' });
    guard.start();
    const state = guard.state();
    assert.deepEqual([state.mode, state.code, state.machine_id], ['locked', 20004, null]);
    assert.match(state.message, /machine's id cannot be read.*\/etc\/machine-id/);
  });

  test('no license file is evaluation mode with 10 devices and no check-in', async () => {
    const { guard } = newGuard();
    guard.start();
    const state = guard.state();
    assert.deepEqual([state.mode, state.code, state.max_devices, state.customer, state.license_key], ['evaluation', 0, 10, null, null]);
    assert.equal(guard.maxDevices(), 10);
    assert.ok(guard.allows('archive') && guard.allows('api_write'));
    assert.equal(await guard.checkIn(), null);
    assert.equal(server.store.checkins().length, 0);
  });

  test('install() verifies and installs a license at once; a refused file changes nothing', async () => {
    const { guard, dir } = newGuard();
    guard.start();
    const edited = issued().text.replace('Test Chemical Plant', 'Test Chemical Plang');
    assert.throws(() => guard.install(edited), (e: AppError) => e.code === 20001 && /exactly as the vendor sent it/.test(e.message));
    assert.throws(() => guard.install(issued({ machine_id: MACHINE_B }).text), (e: AppError) => e.code === 20004);
    assert.throws(() => guard.install(issued({ expire_date: '2026-01-01' }).text), (e: AppError) => e.code === 20002);
    assert.equal(guard.state().mode, 'evaluation');
    const { text } = issued({ max_devices: 500 });
    const installed = guard.install(text);
    assert.deepEqual([installed.mode, installed.max_devices], ['grace', 500]);
    assert.equal(readFileSync(join(dir, 'license.key'), 'utf8'), text);
    await guard.checkIn();
    assert.equal(guard.state().mode, 'valid');
  });

  test('a license file copied into the data dir is picked up while running', async () => {
    const { guard, dir } = newGuard();
    guard.start();
    assert.equal(guard.mode(), 'evaluation');
    writeFileSync(join(dir, 'license.key'), issued().text);
    await eventually(() => guard.mode() !== 'evaluation', 2000, 'the file poll');
    await guard.checkIn();
    assert.equal(guard.mode(), 'valid');
  });

  test('without a license server configured an online license runs on its 72 h grace, then locks; an offline license stays valid', async () => {
    const online = newGuard({ licenseText: issued().text, serverUrl: '' });
    online.guard.start();
    assert.equal((await online.guard.checkIn())?.result, 'not_configured');
    assert.equal(online.guard.mode(), 'grace');
    const offline = newGuard({ licenseText: issued({ features: ['offline'] }).text, serverUrl: '' });
    offline.guard.start();
    clock.advance(72 * HOUR);
    assert.equal(online.guard.refresh().mode, 'locked');
    assert.deepEqual([offline.guard.refresh().mode, offline.guard.state().reason], ['valid', 'offline_license']);
  });
});
