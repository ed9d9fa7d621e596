// The license gate: a pure decision from what the appliance knows — the verified license file, the
// last signed check-in answer (the token), the time and this machine's id — to a mode:
//   evaluation  no license file: everything works for up to 10 devices (LIC-6)
//   valid       a good file and a recent good check-in (or an offline license for this machine)
//   grace       a good file whose check-in is overdue: works, warns; 72 h at most (LIC-3)
//   locked      a refused file, an expired license, a refusal by the server, or grace used up
// Each outcome carries a reason word, the seed's business code and a message saying what to do.
import { expiresAt, OFFLINE_FEATURE, type License } from './license-file.ts';
import type { CheckinAnswer } from './checkin.ts';

export const EVALUATION_MAX_DEVICES = 10;
/** A good check-in keeps the license valid this long (the server sets token_expire to it). */
export const TOKEN_VALID_MS = 24 * 3_600_000;
/** LIC-3: after the token runs out, the appliance keeps working this long without a check-in. */
export const GRACE_MS = 72 * 3_600_000;

export const LicenseCode = { OK: 0, INVALID: 20001, EXPIRED: 20002, DEVICE_LIMIT: 20003, MACHINE_MISMATCH: 20004 } as const;

export type Mode = 'evaluation' | 'valid' | 'grace' | 'locked';
export type Reason =
  | 'evaluation' | 'ok' | 'offline_license' | 'checkin_overdue' | 'awaiting_first_checkin'
  | 'invalid_file' | 'expired' | 'machine_mismatch' | 'revoked' | 'refused' | 'grace_over';

export type LicenseFileState = { status: 'absent' } | { status: 'invalid'; problem: string } | { status: 'ok'; license: License };

export interface GateInput {
  file: LicenseFileState;
  /** The last check-in answer, its signature already verified; null if none. */
  token: CheckinAnswer | null;
  now: number;
  machineId: string;
  /** When this appliance first ran this license without any token (kept locally; starts the first grace). */
  firstSeen?: number | null;
}

export interface Evaluation {
  mode: Mode;
  reason: Reason;
  /** 0, or the seed's license code. */
  code: number;
  message: string;
  maxDevices: number;
  /** Valid until (token expiry or, for an offline license, the license expiry), UTC ms. */
  validUntil: number | null;
  /** Grace ends (the appliance locks) at, UTC ms. */
  graceUntil: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export function decide({ file, token, now, machineId, firstSeen = null }: GateInput): Evaluation {
  const base = { maxDevices: EVALUATION_MAX_DEVICES, validUntil: null, graceUntil: null };
  if (file.status === 'absent') {
    return { ...base, mode: 'evaluation', reason: 'evaluation', code: 0,
      message: `Evaluation mode: up to ${EVALUATION_MAX_DEVICES} devices. Install a license file from the vendor to connect more.` };
  }
  if (file.status === 'invalid') {
    return { ...base, mode: 'locked', reason: 'invalid_file', code: LicenseCode.INVALID,
      message: `The license file is not valid: ${file.problem}. Install the license file exactly as the vendor sent it, or ask the vendor for a new one.` };
  }
  const license = file.license;
  const locked = (reason: Reason, code: number, message: string): Evaluation =>
    ({ mode: 'locked', reason, code, message, maxDevices: license.max_devices, validUntil: null, graceUntil: null });

  if (license.machine_id !== null && license.machine_id !== machineId) {
    return locked('machine_mismatch', LicenseCode.MACHINE_MISMATCH,
      `This license was issued for another machine (${license.machine_id.slice(0, 8)}…); this machine's id is ${machineId}. Ask the vendor for a license for this machine id.`);
  }
  const end = expiresAt(license);
  if (now >= end) {
    return locked('expired', LicenseCode.EXPIRED, `The license expired on ${license.expire_date}. Ask the vendor to renew it and install the new license file.`);
  }
  const ours = token && token.license_key === license.license_key && token.machine_id === machineId ? token : null;
  if (ours && !ours.valid) {
    // LIC-3: a refusal by the vendor's server (revoked, activated on another machine) locks at once.
    const reason: Reason = ours.reason === 'revoked' ? 'revoked' : ours.code === LicenseCode.MACHINE_MISMATCH ? 'machine_mismatch' : ours.code === LicenseCode.EXPIRED ? 'expired' : 'refused';
    return locked(reason, ours.code || LicenseCode.INVALID, `The vendor's license server refused this license: ${ours.message}. Contact the vendor.`);
  }
  if (license.machine_id !== null && license.features.includes(OFFLINE_FEATURE)) {
    return { mode: 'valid', reason: 'offline_license', code: 0, maxDevices: license.max_devices, validUntil: end, graceUntil: null,
      message: `Licensed to ${license.customer} until ${license.expire_date} (offline license).` };
  }
  const tokenUntil = ours ? Math.min(ours.token_expire * 1000, end) : null;
  if (tokenUntil !== null && now < tokenUntil) {
    return { mode: 'valid', reason: 'ok', code: 0, maxDevices: license.max_devices, validUntil: tokenUntil, graceUntil: null,
      message: `Licensed to ${license.customer} until ${license.expire_date}.` };
  }
  const graceFrom = tokenUntil ?? firstSeen ?? now;
  const graceUntil = Math.min(graceFrom + GRACE_MS, end);
  if (now < graceUntil) {
    return { mode: 'grace', reason: ours ? 'checkin_overdue' : 'awaiting_first_checkin', code: 0, maxDevices: license.max_devices,
      validUntil: null, graceUntil,
      message: ours
        ? `The license could not be confirmed with the vendor's license server since ${iso(tokenUntil!)}. Everything keeps working until ${iso(graceUntil)}; restore the appliance's internet access to the license server before then.`
        : `The license has not been confirmed with the vendor's license server yet. Everything keeps working until ${iso(graceUntil)}; give the appliance internet access to the license server before then.` };
  }
  return locked('grace_over', LicenseCode.INVALID,
    `The license could not be confirmed with the vendor's license server for more than ${GRACE_MS / 3_600_000} h. Restore the appliance's internet access to the license server (it checks in again at once), or contact the vendor.`);
}
