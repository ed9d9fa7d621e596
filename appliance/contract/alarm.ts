// An alarm record as the engine keeps it and the API, WebSocket and UI show it (ALM-2, ALM-7).
import { Type, type Static } from '@sinclair/typebox';

export interface AlarmRecord {
  id: number;
  /** The device serial; null for a system alarm. */
  sn: string | null;
  /** The device serial, or the system part (disk, archive, license, channel:<kind>). */
  source: string;
  /** HIGH LOW OFFLINE LOW_BAT FAULT | DISK ARCHIVE LICENSE CHANNEL */
  type: string;
  state: 'active' | 'cleared';
  value: number | null;
  threshold: number | null;
  /** The worst value while active. */
  peak: number | null;
  detail: string | null;
  /** UTC ms. */
  triggered_at: number;
  cleared_at: number | null;
  /** Times the condition came back within the debounce window (ALM-3). */
  repeat_count: number;
  notified_at: number | null;
  ack_at: number | null;
  ack_by: string | null;
  ack_comment: string | null;
  updated_at: number;
}

/**
 * raised: a new record; repeat: a cleared record re-opened within the debounce window (ALM-3);
 * peak: the value of an active alarm got worse (its peak, ALM-8); cleared; acknowledged.
 */
export type AlarmEventKind = 'raised' | 'repeat' | 'peak' | 'cleared' | 'acknowledged';

/** The system parts that raise alarms through the same lifecycle (ALM-1). */
export const SYSTEM_ALARM_TYPES = ['DISK', 'ARCHIVE', 'LICENSE', 'CHANNEL'] as const;
export type SystemAlarmType = (typeof SYSTEM_ALARM_TYPES)[number];

export interface AlarmEvent {
  kind: AlarmEventKind;
  alarm: AlarmRecord;
}

// The alarm configuration (ALM-3, ALM-4, ALM-5) as the API and UI edit it: rules, debounce,
// schedule and the channels with their own settings schemas (notify/channels/settings.ts).
const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$', description: 'local time HH:MM' });

export const NotifyScheduleSchema = Type.Object(
  {
    days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { uniqueItems: true, maxItems: 7, default: [1, 2, 3, 4, 5, 6, 7], description: 'ISO weekdays, 1 = Monday' }),
    start: { ...HHMM, default: '00:00' },
    end: { ...HHMM, default: '24:00' },
    always_notify: Type.Array(Type.String({ maxLength: 16 }), { default: ['HIGH'], description: 'types sent outside the schedule too' }),
    notify_cleared: Type.Boolean({ default: true }),
  },
  { additionalProperties: false, default: {} },
);

export const ChannelEntrySchema = Type.Object(
  { enabled: Type.Boolean({ default: true }), settings: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
);

export const AlarmSettingsSchema = Type.Object(
  {
    debounce_min: Type.Number({ minimum: 0, maximum: 1440, default: 10, description: 'ALM-3: one notification per device and type per window' }),
    deadband_pct: Type.Number({ minimum: 0, maximum: 50, default: 5, description: 'HIGH clears below limit − this % of it' }),
    low_battery_pct: Type.Number({ minimum: 1, maximum: 100, default: 20 }),
    schedule: NotifyScheduleSchema,
    channels: Type.Object(
      {
        email: Type.Optional(ChannelEntrySchema),
        dingtalk: Type.Optional(ChannelEntrySchema),
        feishu: Type.Optional(ChannelEntrySchema),
        wecom: Type.Optional(ChannelEntrySchema),
        webhook: Type.Optional(ChannelEntrySchema),
        sms: Type.Optional(ChannelEntrySchema),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type AlarmSettings = Static<typeof AlarmSettingsSchema>;

/**
 * What the writer thread needs to judge readings and decide their notifications in the commit
 * (ALM-1…ALM-5, ALM-8); the main thread sends it at start and whenever the settings change.
 */
export interface AlarmCommitSettings {
  rules: { deadbandPct: number; lowBatteryPct: number };
  debounceMs: number;
  notify: { policy: AlarmSettings['schedule']; channels: string[]; timezone: string };
}

/** The defaults of AlarmSettingsSchema as the writer uses them, with no channel switched on. */
export const DEFAULT_ALARM_COMMIT_SETTINGS: AlarmCommitSettings = {
  rules: { deadbandPct: 5, lowBatteryPct: 20 },
  debounceMs: 10 * 60_000,
  notify: { policy: { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00', always_notify: ['HIGH'], notify_cleared: true }, channels: [], timezone: 'UTC' },
};

// ---- the REST view (API-1 /api/alarms) ---------------------------------------------------------
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const Iso = Type.String({ format: 'date-time' });
const NullableIso = Type.Union([Iso, Type.Null()]);

export const AlarmViewSchema = Type.Object({
  id: Type.Integer(),
  sn: Type.Union([Type.String(), Type.Null()]),
  source: Type.String(),
  type: Type.String(),
  state: Type.Union([Type.Literal('active'), Type.Literal('cleared')]),
  value: NullableNumber,
  threshold: NullableNumber,
  peak: NullableNumber,
  detail: Type.Union([Type.String(), Type.Null()]),
  unit: Type.Optional(Type.String({ description: "the device's gas unit, for a concentration value (HIGH, LOW, an over-range FAULT); see contract/alarm-value.ts for the others" })),
  triggered_at: Iso,
  cleared_at: NullableIso,
  repeat_count: Type.Integer(),
  notified_at: NullableIso,
  ack_at: NullableIso,
  ack_by: Type.Union([Type.String(), Type.Null()]),
  ack_comment: Type.Union([Type.String(), Type.Null()]),
  updated_at: Iso,
});

const TimeText = Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 or epoch ms' });

const alarmFilterFields = {
  sn: Type.Optional(Type.String({ maxLength: 64 })),
  type: Type.Optional(Type.String({ pattern: '^[A-Z_]{2,16}$' })),
  state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('cleared')])),
  acknowledged: Type.Optional(Type.Boolean()),
  start: Type.Optional(TimeText),
  end: Type.Optional(TimeText),
};

export const AlarmListQuery = Type.Object(
  {
    ...alarmFilterFields,
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    size: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
  },
  { additionalProperties: false },
);

export const AlarmExportQuery = Type.Object(
  { ...alarmFilterFields, language: Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')])) },
  { additionalProperties: false },
);

export const AlarmStatsQueryParams = Type.Object({ start: TimeText, end: Type.Optional(TimeText) }, { additionalProperties: false });

const Comment = Type.String({ maxLength: 500, default: '' });
export const AckBody = Type.Object({ comment: Comment }, { additionalProperties: false });
export const BulkAckBody = Type.Object(
  { ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000, uniqueItems: true }), comment: Comment },
  { additionalProperties: false },
);
