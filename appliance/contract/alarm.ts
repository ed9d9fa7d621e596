// An alarm record as the engine keeps it and the API, WebSocket and UI show it (ALM-2, ALM-7).
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { LinkageRulesSchema, type LinkageRule } from './linkage.ts';

export interface AlarmRecord {
  id: number;
  /** The device serial; null for a system alarm. */
  sn: string | null;
  /** The device serial, or the system part (disk, archive, license, channel:<kind>). */
  source: string;
  /** HIGH LOW OFFLINE LOW_BAT FAULT | DISK ARCHIVE LICENSE CHANNEL */
  type: string;
  state: 'active' | 'cleared';
  /** ALM-9: the gas alarm level, 1 (一级) or 2 (二级), for HIGH; null for the other types. */
  level: number | null;
  /** ALM-10: decided from the type and level when the record changes. */
  priority: AlarmPriority;
  /** ALM-11: 1 when a gas alarm cleared and stays listed until acknowledged (latching). */
  latched: number;
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
 * level: a gas alarm's level went up or down (ALM-9); peak: the value of an active alarm got worse
 * (its peak, ALM-8); cleared; acknowledged.
 */
export type AlarmEventKind = 'raised' | 'repeat' | 'level' | 'peak' | 'cleared' | 'acknowledged';

/** ALM-10: most urgent first. */
export const ALARM_PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type AlarmPriority = (typeof ALARM_PRIORITIES)[number];
export const priorityRank = (priority: string): number => {
  const rank = ALARM_PRIORITIES.indexOf(priority as AlarmPriority);
  return rank < 0 ? ALARM_PRIORITIES.length : rank;
};

/**
 * ALM-11 (ISA-18.2 / IEC 62682): the state of a record for people. Gas alarms (HIGH, LOW) latch: a
 * cleared one stays "returned to normal, unacknowledged" until someone acknowledges it.
 */
export type AlarmIsaState = 'active_unacknowledged' | 'active_acknowledged' | 'returned_unacknowledged' | 'normal';

export function isaStateOf(record: Pick<AlarmRecord, 'state' | 'ack_at' | 'latched'>): AlarmIsaState {
  if (record.state === 'active') return record.ack_at === null ? 'active_unacknowledged' : 'active_acknowledged';
  return record.ack_at === null && record.latched ? 'returned_unacknowledged' : 'normal';
}

/** Whether a record belongs on the alarm lists of the kiosk and the overview: all but `normal`. */
export const isListed = (record: Pick<AlarmRecord, 'state' | 'ack_at' | 'latched'>): boolean => isaStateOf(record) !== 'normal';

/** Sorts for every list (ALM-10): priority first, then the latest transition, newest first. */
export function byPriority<T extends { priority: string; updated_at: number | string; id: number }>(a: T, b: T): number {
  const rank = priorityRank(a.priority) - priorityRank(b.priority);
  if (rank) return rank;
  const at = (x: number | string) => (typeof x === 'number' ? x : Date.parse(x));
  return at(b.updated_at) - at(a.updated_at) || b.id - a.id;
}

/** The system parts that raise alarms through the same lifecycle (ALM-1). */
export const SYSTEM_ALARM_TYPES = ['DISK', 'ARCHIVE', 'LICENSE', 'CHANNEL', 'SYNC'] as const;
export type SystemAlarmType = (typeof SYSTEM_ALARM_TYPES)[number];

/**
 * Issue 15: device alarms raised by a job rather than by a reading: CAL_DUE (calibration due soon),
 * CAL_OVERDUE, BUMP_DUE (JJG 693-2011), EXPOSURE_STEL / EXPOSURE_TWA (GBZ 2.1-2019, over a window).
 */
export const DEVICE_CONDITION_TYPES = ['CAL_DUE', 'CAL_OVERDUE', 'BUMP_DUE', 'EXPOSURE_STEL', 'EXPOSURE_TWA'] as const;
export type DeviceConditionType = (typeof DEVICE_CONDITION_TYPES)[number];

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

/** ALM-5: the notification channels, by the name the settings, the outbox rows and the API use. */
export const CHANNEL_KINDS = ['email', 'dingtalk', 'feishu', 'wecom', 'webhook', 'sms', 'voice'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const ChannelEntrySchema = Type.Object(
  { enabled: Type.Boolean({ default: true }), settings: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
);

/**
 * ALM-10 defaults (issue 14): critical for the second gas level and for LOW (a falling gas such as
 * oxygen deficiency); high for the first level; medium for faults, offline detectors and failing
 * channels; low for the battery and housekeeping. Keys: the type, with `_1`/`_2` for HIGH's level.
 */
export const DEFAULT_PRIORITIES: Record<string, AlarmPriority> = {
  HIGH_2: 'critical', LOW: 'critical', HIGH_1: 'high', FAULT: 'medium', OFFLINE: 'medium', CHANNEL: 'medium',
  LOW_BAT: 'low', DISK: 'low', ARCHIVE: 'low', LICENSE: 'low', SYNC: 'low',
  // Issue 15.2 (JJG 693-2011): housekeeping before the due date, medium once a detector is overdue.
  CAL_DUE: 'low', BUMP_DUE: 'low', CAL_OVERDUE: 'medium',
  // Issue 15.3 (GBZ 2.1-2019): exposure over an occupational limit calls for action now, as a level-1 gas alarm does.
  EXPOSURE_STEL: 'high', EXPOSURE_TWA: 'high',
};
export const priorityKey = (type: string, level: number | null) => (type === 'HIGH' ? `HIGH_${level ?? 1}` : type);
export const priorityOf = (priorities: Record<string, string>, type: string, level: number | null): AlarmPriority => {
  const priority = priorities[priorityKey(type, level)] ?? DEFAULT_PRIORITIES[priorityKey(type, level)] ?? 'low';
  return (ALARM_PRIORITIES as readonly string[]).includes(priority) ? (priority as AlarmPriority) : 'low';
};

const PrioritySchema = Type.Union(ALARM_PRIORITIES.map((p) => Type.Literal(p)));

/**
 * ALM-13 escalation (seed: unhandled alarms go up to a supervisor): per priority, the minutes after
 * which an alarm still unacknowledged is sent again to each channel's escalation recipients — up
 * to two steps, rising. Defaults: critical (level 2, oxygen deficiency) after 5 and 15 minutes,
 * high (level 1) after 15 and 60; medium and low alarms do not escalate.
 */
const EscalationSteps = (steps: number[]) =>
  Type.Array(Type.Integer({ minimum: 1, maximum: 1440 }), { maxItems: 2, default: steps, description: 'minutes unacknowledged before step 1 (and step 2); [] = no escalation' });
export const DEFAULT_ESCALATION_STEPS: Record<AlarmPriority, number[]> = { critical: [5, 15], high: [15, 60], medium: [], low: [] };
export const EscalationSchema = Type.Object(
  Object.fromEntries(ALARM_PRIORITIES.map((p) => [p, EscalationSteps(DEFAULT_ESCALATION_STEPS[p])])) as Record<AlarmPriority, ReturnType<typeof EscalationSteps>>,
  { additionalProperties: false, default: {} },
);

/** ALM-11: whether acknowledging an alarm of each priority needs a comment (default: critical only). */
export const DEFAULT_ACK_COMMENT_REQUIRED: Record<AlarmPriority, boolean> = { critical: true, high: false, medium: false, low: false };
export const AckCommentRequiredSchema = Type.Object(
  Object.fromEntries(ALARM_PRIORITIES.map((p) => [p, Type.Boolean({ default: DEFAULT_ACK_COMMENT_REQUIRED[p] })])) as Record<AlarmPriority, ReturnType<typeof Type.Boolean>>,
  { additionalProperties: false, default: {}, description: 'ALM-11: acknowledgement needs a comment, per priority' },
);

/** Whether acknowledging `priority` needs a comment; an unknown priority follows the defaults. */
export function ackCommentRequired(required: Partial<Record<string, boolean>> | undefined, priority: string): boolean {
  return required?.[priority] ?? DEFAULT_ACK_COMMENT_REQUIRED[priority as AlarmPriority] ?? false;
}

/**
 * Issue 15.4: an OFFLINE storm — more than `threshold` OFFLINE alarms raised within `window_s` (a
 * whole area losing its cell or its power) — goes to each channel as one grouped notice listing the
 * detectors, not one message per detector; the records and their journals stay per detector. An
 * OFFLINE notice waits `hold_s` for others to join it before it goes out alone (notify/outbox.ts).
 */
export const OfflineStormSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    threshold: Type.Integer({ minimum: 1, maximum: 10_000, default: 5, description: 'more than this many OFFLINE alarms raised (or cleared: returns) within window_s is a storm' }),
    window_s: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
    hold_s: Type.Integer({ minimum: 0, maximum: 300, default: 10, description: 'an OFFLINE notice (or its return) waits this long for others to join it' }),
  },
  { additionalProperties: false, default: {} },
);
export type OfflineStormSettings = Static<typeof OfflineStormSchema>;

export const AlarmSettingsSchema = Type.Object(
  {
    debounce_min: Type.Number({ minimum: 0, maximum: 1440, default: 10, description: 'ALM-3: one notification per device and type per window' }),
    deadband_pct: Type.Number({ minimum: 0, maximum: 50, default: 5, description: 'HIGH clears below limit − this % of it' }),
    low_battery_pct: Type.Number({ minimum: 1, maximum: 100, default: 20 }),
    priorities: Type.Record(Type.String({ pattern: `^(${Object.keys(DEFAULT_PRIORITIES).join('|')})$` }), PrioritySchema, {
      default: {}, description: 'ALM-10: the priority of an alarm type (HIGH_1 / HIGH_2 per level); unset ones keep their default',
    }),
    schedule: NotifyScheduleSchema,
    escalation: EscalationSchema,
    ack_comment_required: AckCommentRequiredSchema,
    offline_storm: OfflineStormSchema,
    linkage: LinkageRulesSchema,
    channels: Type.Object(
      {
        email: Type.Optional(ChannelEntrySchema),
        dingtalk: Type.Optional(ChannelEntrySchema),
        feishu: Type.Optional(ChannelEntrySchema),
        wecom: Type.Optional(ChannelEntrySchema),
        webhook: Type.Optional(ChannelEntrySchema),
        sms: Type.Optional(ChannelEntrySchema),
        voice: Type.Optional(ChannelEntrySchema),
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
  /** ALM-10: priority per type/level key (DEFAULT_PRIORITIES for those unset). */
  priorities: Record<string, string>;
  notify: { policy: AlarmSettings['schedule']; channels: string[]; timezone: string };
  /** Issue 15.5: linkage rules, decided in the commit like notifications (alarms/linkage.ts). */
  linkage?: LinkageRule[];
}

/** The stored alarm settings as the writer thread uses them, with the channels switched on. */
export function commitSettingsOf(settings: AlarmSettings, channels: string[], timezone: string): AlarmCommitSettings {
  return {
    rules: { deadbandPct: settings.deadband_pct, lowBatteryPct: settings.low_battery_pct },
    debounceMs: settings.debounce_min * 60_000,
    priorities: settings.priorities,
    notify: { policy: settings.schedule, channels, timezone },
    linkage: settings.linkage,
  };
}

/** AlarmSettingsSchema's defaults (no channel switched on). */
export const DEFAULT_ALARM_SETTINGS = Value.Default(AlarmSettingsSchema, {}) as AlarmSettings;
export const DEFAULT_ALARM_COMMIT_SETTINGS: AlarmCommitSettings = commitSettingsOf(DEFAULT_ALARM_SETTINGS, [], 'UTC');

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
  level: Type.Union([Type.Integer({ minimum: 1, maximum: 2 }), Type.Null()], { description: 'ALM-9: gas alarm level 1 (一级) or 2 (二级); null for other types' }),
  priority: Type.Union(ALARM_PRIORITIES.map((p) => Type.Literal(p)), { description: 'ALM-10' }),
  latched: Type.Integer({ description: 'ALM-11: 1 when a cleared gas alarm stays listed until acknowledged' }),
  isa_state: Type.Union(
    [Type.Literal('active_unacknowledged'), Type.Literal('active_acknowledged'), Type.Literal('returned_unacknowledged'), Type.Literal('normal')],
    { description: 'ALM-11 (ISA-18.2): gas alarms latch until acknowledged' },
  ),
  value: NullableNumber,
  threshold: NullableNumber,
  peak: NullableNumber,
  detail: Type.Union([Type.String(), Type.Null()]),
  unit: Type.Optional(Type.String({ description: "the device's gas unit, for a concentration value (HIGH, LOW, an over-range FAULT); see contract/alarm-value.ts for the others" })),
  device_name: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: "UI-3: the device's name (the list joins the devices); null for a system alarm or a deleted device" })),
  device_location: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: "UI-3: the device's location, as device_name" })),
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

/** ALM-11: the ISA-18.2 states a list can be narrowed to (isaStateOf, in SQL). */
export const ALARM_ISA_STATES = ['active_unacknowledged', 'active_acknowledged', 'returned_unacknowledged', 'normal'] as const;

const alarmFilterFields = {
  sn: Type.Optional(Type.String({ maxLength: 64 })),
  type: Type.Optional(Type.String({ pattern: '^[A-Z_]{2,16}$' })),
  state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('cleared')])),
  acknowledged: Type.Optional(Type.Boolean()),
  start: Type.Optional(TimeText),
  end: Type.Optional(TimeText),
  q: Type.Optional(Type.String({ maxLength: 100, description: "UI-3 free text: a part of the device's name, location or serial, the source, the type (its code or label) or the detail" })),
  isa_state: Type.Optional(Type.Union(ALARM_ISA_STATES.map((s) => Type.Literal(s)), { description: 'ALM-11: records in this ISA-18.2 state' })),
  listed: Type.Optional(Type.Boolean({ description: 'ALM-11: true: the records on the alarm lists (all but ISA normal), as the kiosk and the overview count them' })),
};

export const AlarmListQuery = Type.Object(
  {
    ...alarmFilterFields,
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    size: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
  },
  { additionalProperties: false },
);

const CsvLanguage = Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')], { description: 'headers and labels; default: the site language' }));

export const AlarmExportQuery = Type.Object(
  {
    ...alarmFilterFields,
    language: CsvLanguage,
    journal: Type.Optional(Type.Boolean({ description: "ALM-12: one line per journal event of the matching records (with each alarm's device, type and priority) instead of one per record" })),
  },
  { additionalProperties: false },
);

/** ALM-12: GET /api/alarms/{id}/journal.csv */
export const JournalCsvQuery = Type.Object({ language: CsvLanguage }, { additionalProperties: false });

export const AlarmStatsQueryParams = Type.Object({ start: TimeText, end: Type.Optional(TimeText) }, { additionalProperties: false });

/** ALM-12: one event of an episode's journal. */
export const JournalEntryView = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  kind: Type.String({ description: 'raised | repeat | level | peak | cleared | acknowledged | notification | silenced | escalated' }),
  level: Type.Union([Type.Integer(), Type.Null()]),
  value: Type.Union([Type.Number(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()], { description: 'who acknowledged, which kiosk silenced, which channel' }),
  detail: Type.Union([Type.String(), Type.Null()], { description: 'a comment, a delivery result' }),
  step: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: "ALM-13: an 'escalated' entry's step (1, 2)" })),
});

/** GB 16808 消音: who silenced (a kiosk's name). */
export const SilenceBody = Type.Object({ kiosk: Type.String({ minLength: 1, maxLength: 64, default: 'kiosk' }) }, { additionalProperties: false });

/** ALM-11: per priority, whether an acknowledgement needs a comment (GET /api/alarms/ack-policy). */
export const AckPolicyView = Type.Object(
  Object.fromEntries(ALARM_PRIORITIES.map((p) => [p, Type.Boolean()])) as Record<AlarmPriority, ReturnType<typeof Type.Boolean>>,
);

/** A comment is required for the priorities set so (ack_comment_required, ACK_COMMENT_REQUIRED 50005). */
const Comment = Type.String({ maxLength: 500, default: '' });
export const AckBody = Type.Object({ comment: Comment }, { additionalProperties: false });
export const BulkAckBody = Type.Object(
  { ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000, uniqueItems: true }), comment: Comment },
  { additionalProperties: false },
);
