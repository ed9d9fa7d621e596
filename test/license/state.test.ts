// The LicenseState answer (GET /api/system/license, health, the UI) from an evaluation: the masked
// key, the grace countdown, and nulls where there is no license or no machine id.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { licenseState } from '../../appliance/license/state.ts';
import { decide, type Evaluation } from '../../licensing/gate.ts';
import { licenseFields, MACHINE_A } from '../licensing/support.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 5, 1, 3);
const license = licenseFields({ license_key: 'MCS-7KQ2-PL9X-4TPA', customer: 'Harbour Tank Farm', max_devices: 60 });
const machine = { ok: true as const, machineId: MACHINE_A, source: '/etc/machine-id' };

describe('license state', () => {
  test('in grace: the license, the masked key, this machine and the time left before the lock', () => {
    const evaluation = decide({ file: { status: 'ok', license }, token: null, now: NOW, machineId: MACHINE_A, firstSeen: NOW - 10 * HOUR });
    const lastCheckin = { at: NOW - HOUR, result: 'unreachable' as const, detail: 'connect ECONNREFUSED' };
    const state = licenseState({ evaluation, file: { status: 'ok', license }, machine, now: NOW, devicesUsed: 7, lastCheckin });
    assert.deepEqual(state, {
      mode: 'grace', code: 0, reason: 'awaiting_first_checkin', message: evaluation.message,
      customer: 'Harbour Tank Farm', expires: '2027-12-31', grace_left_ms: 62 * HOUR, max_devices: 60, devices_used: 7,
      license_key: 'MCS-****-****-4TPA', machine_id: MACHINE_A, last_checkin: lastCheckin,
    });
  });

  test('grace left never goes below zero, and is null outside grace', () => {
    const grace: Evaluation = { mode: 'grace', reason: 'checkin_overdue', code: 0, message: 'm', maxDevices: 60, validUntil: null, graceUntil: NOW - 1 };
    const input = { file: { status: 'ok' as const, license }, machine, now: NOW, devicesUsed: 0, lastCheckin: null };
    assert.equal(licenseState({ ...input, evaluation: grace }).grace_left_ms, 0);
    assert.equal(licenseState({ ...input, evaluation: { ...grace, mode: 'valid', reason: 'ok', graceUntil: null } }).grace_left_ms, null);
  });

  test('without a license file or a machine id those fields are null', () => {
    const evaluation = decide({ file: { status: 'absent' }, token: null, now: NOW, machineId: '' });
    const state = licenseState({ evaluation, file: { status: 'absent' }, machine: { ok: false, error: 'ENOENT' }, now: NOW, devicesUsed: 2, lastCheckin: null });
    assert.deepEqual([state.mode, state.customer, state.expires, state.license_key, state.machine_id, state.grace_left_ms, state.max_devices, state.devices_used],
      ['evaluation', null, null, null, null, null, 10, 2]);
  });
});
