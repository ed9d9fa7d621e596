// Issue 15.1: masking (屏蔽; ISA-18.2 / IEC 62682 "shelving") — an operator takes detectors out of
// notification for a bounded time (a bump test, a calibration, maintenance). Their readings are
// stored and shown and their alarms recorded and journaled, but nobody is messaged until the mask
// ends; an alarm still standing then is notified as if raised at that moment. Safety first: a
// level-2 gas alarm under a mask still sounds on the kiosk unless switched off here.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const MASK_REASONS = ['bump test', 'calibration', 'maintenance'] as const;

export const MaskingSettingsSchema = Type.Object(
  {
    default_minutes: Type.Integer({ minimum: 1, maximum: 1440, default: 30, description: 'a mask asked for without minutes lasts this long' }),
    max_minutes: Type.Integer({ minimum: 1, maximum: 1440, default: 480, description: 'the longest mask allowed (ISA-18.2: shelving is time-limited)' }),
    level2_sounds: Type.Boolean({ default: true, description: 'a level-2 gas alarm of a masked detector still sounds on the kiosk' }),
  },
  { additionalProperties: false },
);
export type MaskingSettings = Static<typeof MaskingSettingsSchema>;
export const DEFAULT_MASKING_SETTINGS = Value.Default(MaskingSettingsSchema, {}) as MaskingSettings;
/** system_config key of the masking settings. */
export const MASKING_CONFIG_KEY = 'masking';

const Sns = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 1000, uniqueItems: true });

export const MaskBody = Type.Object(
  {
    sns: Sns,
    minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, description: 'default: masking.default_minutes; at most masking.max_minutes' })),
    reason: Type.String({ minLength: 1, maxLength: 200, description: "'bump test', 'calibration', 'maintenance' or free text" }),
  },
  { additionalProperties: false },
);
export type MaskBody = Static<typeof MaskBody>;

export const UnmaskBody = Type.Object({ sns: Sns }, { additionalProperties: false });

/** An open mask as the API, the admin list and the kiosk see it. */
export const MaskViewSchema = Type.Object({
  id: Type.Integer(),
  sn: Type.String(),
  reason: Type.String(),
  masked_by: Type.String(),
  masked_at: Type.String({ format: 'date-time' }),
  until: Type.String({ format: 'date-time' }),
});
export type MaskView = Static<typeof MaskViewSchema>;

export const MaskListView = Type.Object({ data: Type.Array(MaskViewSchema), settings: MaskingSettingsSchema });

/** A mask as the writer thread keeps it: its alarms are judged against `until` (UTC ms). */
export interface OpenMask {
  id: number;
  sn: string;
  reason: string;
  masked_by: string;
  masked_at: number;
  until: number;
}

/** Why a mask ended (device_masks.end_reason). */
export type MaskEnd = 'unmasked' | 'expired' | 'replaced';
