// The seed's business codes (§10.5), one catalog for the CLI, the API and the logs.
// The license codes are the gate's own (licensing/gate.ts decides them), so they are written once.
import { LicenseCode } from '../../licensing/gate.ts';

export const ErrorCodes = {
  AUTH_BAD_CREDENTIALS: { code: 10001, http: 401, message: 'wrong user name or password' },
  AUTH_TOKEN_EXPIRED: { code: 10002, http: 401, message: 'token invalid or expired' },
  AUTH_FORBIDDEN: { code: 10003, http: 403, message: 'not allowed for this role' },
  // Where the seed has no business code, the code is the HTTP status.
  TOO_MANY_LOGINS: { code: 429, http: 429, message: 'too many failed logins; wait and try again' },
  REQUEST_INVALID: { code: 400, http: 400, message: 'invalid request' },
  NOT_FOUND: { code: 404, http: 404, message: 'not found' },
  CONFLICT: { code: 409, http: 409, message: 'conflict' },
  LICENSE_INVALID: { code: LicenseCode.INVALID, http: 403, message: 'license invalid' },
  LICENSE_EXPIRED: { code: LicenseCode.EXPIRED, http: 403, message: 'license expired' },
  LICENSE_DEVICE_LIMIT: { code: LicenseCode.DEVICE_LIMIT, http: 403, message: 'device count exceeds the license' },
  LICENSE_MACHINE_MISMATCH: { code: LicenseCode.MACHINE_MISMATCH, http: 403, message: 'license belongs to another machine' },
  DEVICE_NOT_FOUND: { code: 40001, http: 404, message: 'device not found' },
  DEVICE_EXISTS: { code: 40002, http: 409, message: 'device serial number already registered' },
  DEVICE_OFFLINE: { code: 40003, http: 409, message: 'device offline, command not sent' },
  DEVICE_INVALID: { code: 40004, http: 400, message: 'invalid device settings' },
  // ALM-9: outside GB/T 50493-2019's bounds for the gas (an audited override may accept it), or no setpoint at all.
  DEVICE_SETPOINT_REFUSED: { code: 40005, http: 400, message: 'alarm setpoint refused / 报警设定值不符合要求' },
  ALARM_CONFIG_INVALID: { code: 50001, http: 400, message: 'invalid alarm configuration' },
  ALARM_EMAIL_FAILED: { code: 50002, http: 502, message: 'e-mail sending failed' },
  ALARM_WEBHOOK_FAILED: { code: 50003, http: 502, message: 'webhook call failed' },
  ALARM_SMS_FAILED: { code: 50004, http: 502, message: 'SMS sending failed' },
  // ALM-11: the alarm's priority needs a comment with its acknowledgement (alarm settings).
  ACK_COMMENT_REQUIRED: { code: 50005, http: 400, message: 'a comment is required to acknowledge this alarm' },
  ALARM_VOICE_FAILED: { code: 50006, http: 502, message: 'voice call failed' },
  ARCHIVE_CONFIG_INVALID: { code: 60001, http: 400, message: 'invalid storage configuration' },
  ARCHIVE_UPLOAD_FAILED: { code: 60002, http: 502, message: 'archive upload failed' },
  ARCHIVE_NOT_FOUND: { code: 60003, http: 404, message: 'archive not found' },
  // Issue 17 (SYNC): the cloud uplink, a new area after the seed's 60xxx cold storage.
  UPLINK_CONFIG_INVALID: { code: 70001, http: 400, message: 'invalid cloud sync settings' },
  UPLINK_TARGET_NOT_FOUND: { code: 70002, http: 404, message: 'cloud sync target not found' },
} as const;
export type ErrorName = keyof typeof ErrorCodes;

/** An expected failure with a business code; `detail` says which input was wrong. */
export class AppError extends Error {
  readonly code: number;
  readonly http: number;
  constructor(
    readonly key: ErrorName,
    readonly detail?: unknown,
    message?: string,
  ) {
    super(message ?? ErrorCodes[key].message);
    this.code = ErrorCodes[key].code;
    this.http = ErrorCodes[key].http;
  }
}
