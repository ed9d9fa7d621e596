// The `LicenseState` contract (appliance/contract/license.ts) from what the guard knows: the answer
// of GET /api/system/license and the health check, and what the UI's banner and lock screen show
// (LIC-2…LIC-6). Pure: the license key is masked (only its first and last groups show), and grace_left_ms
// counts down to the lock, never below zero.
import type { Evaluation, LicenseFileState } from '../../licensing/gate.ts';
import { maskLicenseKey } from '../../licensing/license-file.ts';
import type { MachineIdResult } from '../../licensing/machine-id.ts';
import type { LicenseState } from '../contract/license.ts';

export interface LicenseStateInput {
  evaluation: Evaluation;
  file: LicenseFileState;
  machine: MachineIdResult;
  now: number;
  /** Distinct devices connected now. */
  devicesUsed: number;
  lastCheckin: LicenseState['last_checkin'];
}

export function licenseState({ evaluation, file, machine, now, devicesUsed, lastCheckin }: LicenseStateInput): LicenseState {
  const license = file.status === 'ok' ? file.license : null;
  return {
    mode: evaluation.mode,
    code: evaluation.code,
    reason: evaluation.reason,
    message: evaluation.message,
    customer: license?.customer ?? null,
    expires: license?.expire_date ?? null,
    grace_left_ms: evaluation.mode === 'grace' && evaluation.graceUntil !== null ? Math.max(0, evaluation.graceUntil - now) : null,
    max_devices: evaluation.maxDevices,
    devices_used: devicesUsed,
    license_key: license ? maskLicenseKey(license.license_key) : null,
    machine_id: machine.ok ? machine.machineId : null,
    last_checkin: lastCheckin,
  };
}
