// The pure gate: every mode and reason from (file, token, time, machine), no I/O.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckinAnswer } from '../../licensing/checkin.ts';
import { decide, EVALUATION_MAX_DEVICES, GRACE_MS, TOKEN_VALID_MS, type GateInput } from '../../licensing/gate.ts';
import { expiresAt } from '../../licensing/license-file.ts';
import { licenseFields, MACHINE_A, MACHINE_B } from './support.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 5, 1, 3);
const license = licenseFields({ max_devices: 50 });

function token(overrides: Partial<CheckinAnswer> = {}): CheckinAnswer {
  return {
    valid: true, code: 0, reason: 'ok', message: 'OK', token_expire: Math.floor((T0 + TOKEN_VALID_MS) / 1000),
    license_key: license.license_key, machine_id: MACHINE_A, server_time: T0, nonce: 'n', ...overrides,
  };
}
const input = (overrides: Partial<GateInput> = {}): GateInput => ({
  file: { status: 'ok', license }, token: token(), now: T0 + HOUR, machineId: MACHINE_A, firstSeen: T0, ...overrides,
});

describe('license gate', () => {
  test('no license file is evaluation mode with 10 devices and no error code', () => {
    const e = decide(input({ file: { status: 'absent' }, token: null }));
    assert.deepEqual([e.mode, e.reason, e.code, e.maxDevices], ['evaluation', 'evaluation', 0, EVALUATION_MAX_DEVICES]);
    assert.equal(EVALUATION_MAX_DEVICES, 10);
  });

  test('a refused (edited) file locks with 20001 and says to install the file as sent', () => {
    const e = decide(input({ file: { status: 'invalid', problem: 'the signature does not match' } }));
    assert.deepEqual([e.mode, e.reason, e.code], ['locked', 'invalid_file', 20001]);
    assert.match(e.message, /signature does not match.*exactly as the vendor sent it/);
    assert.equal(e.maxDevices, EVALUATION_MAX_DEVICES, 'an unverified file grants nothing');
  });

  test('a license for another machine locks with 20004 and names this machine id', () => {
    const e = decide(input({ machineId: MACHINE_B }));
    assert.deepEqual([e.mode, e.reason, e.code], ['locked', 'machine_mismatch', 20004]);
    assert.match(e.message, new RegExp(`this machine's id is ${MACHINE_B}.*Ask the vendor`));
  });

  test('a license past its expire_date locks with 20002 from the next day 00:00 UTC', () => {
    const end = expiresAt(license);
    assert.equal(end, Date.UTC(2028, 0, 1));
    const last = decide(input({ now: end - 1, token: token({ token_expire: Math.floor(end / 1000) + 100 }) }));
    assert.equal(last.mode, 'valid');
    const e = decide(input({ now: end }));
    assert.deepEqual([e.mode, e.reason, e.code], ['locked', 'expired', 20002]);
    assert.match(e.message, /expired on 2027-12-31.*renew/);
  });

  test('a good file and a fresh token are valid with the license device count', () => {
    const e = decide(input());
    assert.deepEqual([e.mode, e.reason, e.code, e.maxDevices], ['valid', 'ok', 0, 50]);
    assert.equal(e.validUntil, T0 + TOKEN_VALID_MS);
  });

  test('when the token runs out the license is in grace for 72 h, then locked', () => {
    const expiry = T0 + TOKEN_VALID_MS;
    const grace = decide(input({ now: expiry }));
    assert.deepEqual([grace.mode, grace.reason, grace.code], ['grace', 'checkin_overdue', 0]);
    assert.equal(grace.graceUntil, expiry + GRACE_MS);
    assert.equal(GRACE_MS, 72 * HOUR);
    assert.equal(decide(input({ now: expiry + GRACE_MS - 1 })).mode, 'grace');
    const locked = decide(input({ now: expiry + GRACE_MS }));
    assert.deepEqual([locked.mode, locked.reason, locked.code], ['locked', 'grace_over', 20001]);
    assert.match(locked.message, /internet access to the license server/);
  });

  test('without any token the first grace runs 72 h from the first start with the license', () => {
    const e = decide(input({ token: null, firstSeen: T0, now: T0 + 10 * HOUR }));
    assert.deepEqual([e.mode, e.reason], ['grace', 'awaiting_first_checkin']);
    assert.equal(e.graceUntil, T0 + GRACE_MS);
    assert.equal(decide(input({ token: null, firstSeen: T0, now: T0 + GRACE_MS })).mode, 'locked');
  });

  test('grace never runs past the license expiry', () => {
    const end = expiresAt(license);
    const e = decide(input({ token: token({ token_expire: Math.floor((end - HOUR) / 1000) }), now: end - HOUR / 2 }));
    assert.equal(e.mode, 'grace');
    assert.equal(e.graceUntil, end);
  });

  test("a refusal from the vendor's server locks at once: revoked is 20001 with reason revoked", () => {
    const e = decide(input({ token: token({ valid: false, code: 20001, reason: 'revoked', message: 'license revoked', token_expire: 0 }) }));
    assert.deepEqual([e.mode, e.reason, e.code], ['locked', 'revoked', 20001]);
    assert.match(e.message, /refused this license: license revoked\. Contact the vendor/);
  });

  test('a refusal because the license is active on another machine locks with 20004', () => {
    const e = decide(input({ token: token({ valid: false, code: 20004, reason: 'machine_mismatch', message: 'license already activated on another machine', token_expire: 0 }) }));
    assert.deepEqual([e.mode, e.reason, e.code], ['locked', 'machine_mismatch', 20004]);
  });

  test('a token for another license key or machine is not used', () => {
    assert.equal(decide(input({ token: token({ license_key: 'MCS-OTHR-0000-AAAA' }), now: T0 + HOUR }) ).reason, 'awaiting_first_checkin');
    const refusalForOther = token({ valid: false, code: 20001, reason: 'revoked', machine_id: MACHINE_B });
    assert.equal(decide(input({ token: refusalForOther })).mode, 'grace');
  });

  test('an offline license bound to this machine is valid until it expires without any check-in', () => {
    const offline = licenseFields({ features: ['offline'] });
    const e = decide(input({ file: { status: 'ok', license: offline }, token: null, now: T0 + 400 * 24 * HOUR }));
    assert.deepEqual([e.mode, e.reason], ['valid', 'offline_license']);
    const unbound = licenseFields({ features: ['offline'], machine_id: null });
    assert.equal(decide(input({ file: { status: 'ok', license: unbound }, token: null, now: T0 + 400 * 24 * HOUR })).mode, 'locked',
      'an offline license must name its machine');
  });

  test('an unbound license runs on any machine id the server confirmed', () => {
    const unbound = licenseFields({ machine_id: null });
    const e = decide(input({ file: { status: 'ok', license: unbound }, token: token({ license_key: unbound.license_key, machine_id: MACHINE_B }), machineId: MACHINE_B }));
    assert.equal(e.mode, 'valid');
  });
});
