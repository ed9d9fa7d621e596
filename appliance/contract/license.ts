// The license state as the API (GET /api/system/license), the health check and the UI's lock
// screen / banner show it (LIC-2…LIC-6). One schema: the TS type, the route's output schema, the docs.
import { Type, type Static } from '@sinclair/typebox';

export const LicenseModeSchema = Type.Union([Type.Literal('evaluation'), Type.Literal('valid'), Type.Literal('grace'), Type.Literal('locked')]);

export const LicenseStateSchema = Type.Object({
  mode: LicenseModeSchema,
  /** 0, or the seed's license code: 20001 invalid (edited, revoked, grace over), 20002 expired, 20004 another machine. */
  code: Type.Integer(),
  /** One word: evaluation ok offline_license checkin_overdue awaiting_first_checkin invalid_file expired machine_mismatch revoked refused grace_over. */
  reason: Type.String(),
  /** What it means and what to do, in English. */
  message: Type.String(),
  customer: Type.Union([Type.String(), Type.Null()]),
  /** Last valid day of the license (YYYY-MM-DD, UTC), null in evaluation. */
  expires: Type.Union([Type.String(), Type.Null()]),
  /** In grace: ms left before the appliance locks; else null. */
  grace_left_ms: Type.Union([Type.Integer(), Type.Null()]),
  max_devices: Type.Integer(),
  /** Distinct devices connected now (LIC-5 counts these). */
  devices_used: Type.Integer(),
  /** e.g. MCS-****-****-4TPA; null in evaluation. */
  license_key: Type.Union([Type.String(), Type.Null()]),
  machine_id: Type.Union([Type.String(), Type.Null()]),
  /** Last check-in: when (UTC ms) and how it went; null before the first. */
  last_checkin: Type.Union([
    Type.Object({ at: Type.Integer(), result: Type.Union([Type.Literal('valid'), Type.Literal('refused'), Type.Literal('unreachable'), Type.Literal('untrusted'), Type.Literal('not_configured')]), detail: Type.String() }),
    Type.Null(),
  ]),
});
export type LicenseState = Static<typeof LicenseStateSchema>;
export type LicenseMode = Static<typeof LicenseModeSchema>;
