// The appliance's license policy, pure: the mode from (file, machine, token, time) where the
// machine id cannot be read, the 403 error a refused request gets, and which files install() refuses.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../appliance/core/errors.ts';
import { evaluateLicense, installRefusal, refusal } from '../../appliance/license/evaluation.ts';
import { decide, GRACE_MS, type LicenseFileState } from '../../licensing/gate.ts';
import type { MachineIdResult } from '../../licensing/machine-id.ts';
import { licenseFields, MACHINE_A, MACHINE_B } from '../licensing/support.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 5, 1, 3);
const machineA: MachineIdResult = { ok: true, machineId: MACHINE_A, source: '/etc/machine-id' };
const unreadable: MachineIdResult = { ok: false, error: 'EACCES reading /etc/machine-id' };
const fileOf = (overrides: Parameters<typeof licenseFields>[0] = {}): LicenseFileState => ({ status: 'ok', license: licenseFields(overrides) });

describe('license evaluation', () => {
  test('a good file on a machine whose id cannot be read is locked with 20004, saying why and what to do', () => {
    const e = evaluateLicense({ file: fileOf({ max_devices: 30 }), machine: unreadable, token: null, firstSeen: T0, now: T0 });
    assert.deepEqual([e.mode, e.reason, e.code, e.maxDevices, e.validUntil, e.graceUntil], ['locked', 'machine_mismatch', 20004, 30, null, null]);
    assert.match(e.message, /id cannot be read \(EACCES reading \/etc\/machine-id\).*Make \/etc\/machine-id readable/);
  });

  test('without a license file an unreadable machine id does not matter: evaluation mode', () => {
    const e = evaluateLicense({ file: { status: 'absent' }, machine: unreadable, token: null, firstSeen: null, now: T0 });
    assert.deepEqual([e.mode, e.code, e.maxDevices], ['evaluation', 0, 10]);
  });

  test('otherwise the gate decides, with this machine id and the first-seen time (first grace counts from it)', () => {
    const file = fileOf();
    const e = evaluateLicense({ file, machine: machineA, token: null, firstSeen: T0, now: T0 + 5 * HOUR });
    assert.deepEqual([e.mode, e.reason, e.graceUntil], ['grace', 'awaiting_first_checkin', T0 + GRACE_MS]);
    assert.deepEqual(e, decide({ file, token: null, now: T0 + 5 * HOUR, machineId: MACHINE_A, firstSeen: T0 }));
    const other = evaluateLicense({ file: fileOf({ machine_id: MACHINE_B }), machine: machineA, token: null, firstSeen: T0, now: T0 });
    assert.deepEqual([other.mode, other.reason, other.code], ['locked', 'machine_mismatch', 20004]);
  });

  test('a refusal is a 403 with the evaluation\'s code, its key in the error catalogue and its message', () => {
    const cases = [
      [fileOf({ expire_date: '2026-05-31' }), machineA, 'LICENSE_EXPIRED', 20002],
      [fileOf({ machine_id: MACHINE_B }), machineA, 'LICENSE_MACHINE_MISMATCH', 20004],
      [{ status: 'invalid', problem: 'the signature does not match' }, machineA, 'LICENSE_INVALID', 20001],
      [fileOf(), unreadable, 'LICENSE_MACHINE_MISMATCH', 20004],
    ] as const;
    for (const [file, machine, key, code] of cases) {
      const evaluation = evaluateLicense({ file, machine, token: null, firstSeen: T0, now: T0 });
      const error = refusal(evaluation);
      assert.ok(error instanceof AppError);
      assert.deepEqual([error.key, error.code, error.http, error.message], [key, code, 403, evaluation.message]);
      assert.deepEqual(error.detail, { mode: 'locked', reason: evaluation.reason });
    }
    const graceOver = evaluateLicense({ file: fileOf(), machine: machineA, token: null, firstSeen: T0, now: T0 + GRACE_MS });
    assert.deepEqual([graceOver.reason, refusal(graceOver).key, refusal(graceOver).code], ['grace_over', 'LICENSE_INVALID', 20001]);
  });

  test('install refuses a file that does not verify, one for another machine and an expired one; one awaiting its first check-in is accepted', () => {
    const invalid = installRefusal({ ok: false, problem: 'the signature does not match' }, machineA, T0);
    assert.deepEqual([invalid?.key, invalid?.code], ['LICENSE_INVALID', 20001]);
    assert.match(invalid!.message, /License file refused: the signature does not match\. Install the file exactly as the vendor sent it/);
    assert.equal(installRefusal({ ok: true, license: licenseFields({ machine_id: MACHINE_B }) }, machineA, T0)?.code, 20004);
    assert.equal(installRefusal({ ok: true, license: licenseFields({ expire_date: '2026-05-31' }) }, machineA, T0)?.code, 20002);
    assert.equal(installRefusal({ ok: true, license: licenseFields() }, machineA, T0), null);
    assert.equal(installRefusal({ ok: true, license: licenseFields({ machine_id: null }) }, machineA, T0), null);
    assert.equal(installRefusal({ ok: true, license: licenseFields() }, unreadable, T0)?.code, 20004, 'a bound license cannot match an unreadable id');
  });
});
