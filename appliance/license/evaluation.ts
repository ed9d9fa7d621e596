// The appliance's license policy, pure (the time is an argument): what mode the appliance is in
// from the license file, this machine's id, the kept token and the time, and the 403 business
// error a refused request or file is answered with. The decision itself is the gate's
// (licensing/gate.ts, LIC-2…LIC-6); the appliance adds one case the gate cannot see — a good file
// on a machine whose id cannot be read (LIC-1) is locked with 20004, saying how to fix it — and
// which files install() refuses at once (LIC-2: edited, for another machine, expired), while one
// that only awaits its first check-in is installed and runs on grace (LIC-3).
import type { CheckinAnswer } from '../../licensing/checkin.ts';
import { decide, LicenseCode, type Evaluation, type LicenseFileState } from '../../licensing/gate.ts';
import type { LicenseFileResult } from '../../licensing/license-file.ts';
import type { MachineIdResult } from '../../licensing/machine-id.ts';
import { AppError, type ErrorName } from '../core/errors.ts';

export interface LicenseEvaluationInput {
  file: LicenseFileState;
  machine: MachineIdResult;
  /** The kept check-in answer, its signature checked; null if none. */
  token: CheckinAnswer | null;
  /** When this appliance first ran this license without a token; null if never. */
  firstSeen: number | null;
  now: number;
}

/** LIC-1…LIC-6: the mode now. */
export function evaluateLicense({ file, machine, token, firstSeen, now }: LicenseEvaluationInput): Evaluation {
  if (file.status === 'ok' && !machine.ok) {
    return { mode: 'locked', reason: 'machine_mismatch', code: LicenseCode.MACHINE_MISMATCH, maxDevices: file.license.max_devices, validUntil: null, graceUntil: null,
      message: `This machine's id cannot be read (${machine.error}), so the license cannot be checked. Make /etc/machine-id readable by the service.` };
  }
  return decide({ file, token, now, machineId: machine.ok ? machine.machineId : '', firstSeen });
}

/** LIC-4: the 403 business error (20001, 20002 or 20004) a request refused in this evaluation is answered with. */
export function refusal(evaluation: Evaluation): AppError {
  const keyOf: Record<number, ErrorName> = { [LicenseCode.EXPIRED]: 'LICENSE_EXPIRED', [LicenseCode.MACHINE_MISMATCH]: 'LICENSE_MACHINE_MISMATCH' };
  return new AppError(keyOf[evaluation.code] ?? 'LICENSE_INVALID', { mode: evaluation.mode, reason: evaluation.reason }, evaluation.message);
}

/**
 * LIC-2: why a license file handed to install() is refused (null: install it). Refused are a file
 * whose vendor signature does not check (20001), one for another machine (20004) and an expired
 * one (20002); judged without a token, so a file awaiting its first check-in is accepted.
 */
export function installRefusal(verified: LicenseFileResult, machine: MachineIdResult, now: number): AppError | null {
  if (!verified.ok) return new AppError('LICENSE_INVALID', { problem: verified.problem }, `License file refused: ${verified.problem}. Install the file exactly as the vendor sent it.`);
  const trial = decide({ file: { status: 'ok', license: verified.license }, token: null, now, machineId: machine.ok ? machine.machineId : '' });
  return trial.reason === 'machine_mismatch' || trial.reason === 'expired' ? refusal(trial) : null;
}
