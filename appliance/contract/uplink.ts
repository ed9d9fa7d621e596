// Issue 17 (SYNC-1..5): the uplink — local-first sync of alarms, device state and readings to the
// customer's cloud. One schema per contract: the settings of the targets (system_config key
// `uplink`), the records the cloud receives (the documented payload, docs/uplink.md), the commands
// the cloud may send back, and the port a transport (MQTT, Aliyun IoT, HTTPS) implements.
//
// At-least-once: a record is sent until its target acknowledged it (PUBACK / HTTP 2xx); after a
// restart or a cut link the unacknowledged tail is sent again. Every record carries a stable `id`
// (the box id and the record's own sequence), so a receiver drops a duplicate by its id.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const UPLINK_CONFIG_KEY = 'uplink';
export const UPLINK_TARGET_ID_PATTERN = '^[A-Za-z0-9_-]{1,32}$';
/** A box id: a topic level and the prefix of every event id, so no `/`, `+`, `#` or `:`. */
export const BOX_ID_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';

/** SYNC-2: the lanes, in priority order: alarms first, then device state, live telemetry, backfill. */
export const UPLINK_LANES = ['alarm', 'device', 'live', 'backfill'] as const;
export type UplinkLane = (typeof UPLINK_LANES)[number];

const common = {
  id: Type.String({ pattern: UPLINK_TARGET_ID_PATTERN, description: 'stable name; the cursor and the audit refer to it' }),
  name: Type.String({ maxLength: 100, default: '' }),
  enabled: Type.Boolean({ default: true }),
  paused: Type.Boolean({ default: false, description: 'paused by an operator: nothing is sent, the backlog keeps growing' }),
  telemetry: Type.Union([Type.Literal('raw'), Type.Literal('aggregate')], {
    default: 'raw',
    description: 'every reading, or 1-minute aggregates (min/max/avg/last) from the roll-ups',
  }),
  max_records_per_s: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0, description: 'rate budget of telemetry (0: unlimited); alarms are never held back' }),
  max_bytes_per_day: Type.Integer({ minimum: 0, default: 0, description: 'byte budget of telemetry per day, for links paid by the byte (0: unlimited)' }),
  backlog_max_hours: Type.Number({ minimum: 0.1, maximum: 24 * 90, default: 24 * 7, description: 'older raw telemetry in the backlog is sent as 1-minute aggregates' }),
  backlog_max_readings: Type.Integer({ minimum: 1000, default: 20_000_000, description: 'a larger raw backlog is sent as 1-minute aggregates, oldest first' }),
  lag_alarm_s: Type.Integer({ minimum: 10, default: 900, description: 'a SYNC system alarm when the oldest unacknowledged record is older than this' }),
  cloud_commands: Type.Boolean({ default: false, description: 'accept acknowledgements and resend requests from the cloud (SYNC-5)' }),
};

/** An MQTT 3.1.1/5 broker (EMQX, Mosquitto, HiveMQ…). */
export const MqttTargetSchema = Type.Object(
  {
    ...common,
    kind: Type.Literal('mqtt'),
    url: Type.String({ pattern: '^(mqtt|mqtts|ws|wss)://', maxLength: 512, description: 'mqtt://host:1883 or mqtts://host:8883' }),
    protocol_version: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 4, description: '4: MQTT 3.1.1; 5: MQTT 5' }),
    client_id: Type.String({ maxLength: 128, default: '', description: 'default: mcs-edge-{box}' }),
    username: Type.String({ maxLength: 256, default: '' }),
    password: Type.String({ maxLength: 1024, default: '', description: 'sealed at rest' }),
    ca: Type.String({ maxLength: 65536, default: '', description: "PEM of the broker's CA (empty: the system's)" }),
    cert: Type.String({ maxLength: 65536, default: '', description: 'PEM client certificate (mutual TLS)' }),
    key: Type.String({ maxLength: 65536, default: '', description: 'PEM client key; sealed at rest' }),
    topic_template: Type.String({
      minLength: 1, maxLength: 256, default: 'mcs/{box}/{kind}',
      description: '{box}, {kind} (alarm, device, reading, aggregate, gap) and {sn}; with {sn} each device gets its own messages',
    }),
    command_topic: Type.String({ maxLength: 256, default: 'mcs/{box}/cloud/cmd', description: 'subscribed when cloud_commands is on' }),
    qos: Type.Union([Type.Literal(1)], { default: 1 }),
    inflight: Type.Integer({ minimum: 1, maximum: 1000, default: 32, description: 'unacknowledged messages at most' }),
    keepalive_s: Type.Integer({ minimum: 5, maximum: 3600, default: 30, description: 'a frozen link is found within 1.5× this' }),
  },
  { additionalProperties: false },
);
export type MqttTarget = Static<typeof MqttTargetSchema>;

/** Aliyun IoT Platform (阿里云物联网平台): the box is a gateway of its detectors (MQTT, HMAC-SHA256 signing). */
export const AliyunTargetSchema = Type.Object(
  {
    ...common,
    kind: Type.Literal('aliyun'),
    product_key: Type.String({ minLength: 1, maxLength: 64 }),
    device_name: Type.String({ minLength: 1, maxLength: 64 }),
    device_secret: Type.String({ minLength: 1, maxLength: 256, description: 'sealed at rest' }),
    /** Empty: `{product_key}.iot-as-mqtt.{region}.aliyuncs.com:1883`; an instance's own endpoint otherwise. */
    host: Type.String({ maxLength: 256, default: '' }),
    region: Type.String({ maxLength: 32, default: 'cn-shanghai' }),
    tls: Type.Boolean({ default: true }),
    ca: Type.String({ maxLength: 65536, default: '', description: 'PEM of the endpoint CA (empty: the system’s)' }),
    /** The sub-devices' product key (the detectors as sub-devices of the gateway); empty: the gateway's. */
    sub_product_key: Type.String({ maxLength: 64, default: '' }),
    inflight: Type.Integer({ minimum: 1, maximum: 1000, default: 16 }),
    keepalive_s: Type.Integer({ minimum: 30, maximum: 1200, default: 60 }),
  },
  { additionalProperties: false },
);
export type AliyunTarget = Static<typeof AliyunTargetSchema>;

/** HTTPS POST of batches to a SCADA/MES or a regulator's platform. */
export const HttpsTargetSchema = Type.Object(
  {
    ...common,
    kind: Type.Literal('https'),
    url: Type.String({ pattern: '^https?://', maxLength: 512 }),
    hmac_secret: Type.String({ maxLength: 256, default: '', description: 'X-MCS-Signature: hex HMAC-SHA256 of "{timestamp}.{body}"; sealed at rest' }),
    /** Some provincial platforms require SM4-CBC encrypted bodies with an SM3 HMAC (GB/T 32907, GB/T 32905). */
    sm4_key: Type.String({ pattern: '^([0-9a-fA-F]{32})?$', default: '', description: '16-byte hex key; empty: plain JSON; sealed at rest' }),
    ca: Type.String({ maxLength: 65536, default: '' }),
    batch_records: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
    timeout_s: Type.Integer({ minimum: 1, maximum: 300, default: 15 }),
    inflight: Type.Integer({ minimum: 1, maximum: 32, default: 2 }),
  },
  { additionalProperties: false },
);
export type HttpsTarget = Static<typeof HttpsTargetSchema>;

export const UplinkTargetSchema = Type.Union([MqttTargetSchema, AliyunTargetSchema, HttpsTargetSchema]);
export type UplinkTarget = Static<typeof UplinkTargetSchema>;
export type UplinkTargetKind = UplinkTarget['kind'];
/** Settings of a target that are sealed at rest and masked in answers (API-7). */
export const UPLINK_SECRET_FIELDS = ['password', 'key', 'device_secret', 'hmac_secret', 'sm4_key'] as const;

export const UplinkSettingsSchema = Type.Object(
  {
    box_id: Type.String({ pattern: `(${BOX_ID_PATTERN})|^$`, default: '', description: "this box's name in topics and event ids; empty: derived from the machine id" }),
    targets: Type.Array(UplinkTargetSchema, { maxItems: 8, default: [] }),
  },
  { additionalProperties: false },
);
export type UplinkSettings = Static<typeof UplinkSettingsSchema>;
/** Off by default: the appliance runs fully offline without a target (SYNC, issue 17.7). */
export const DEFAULT_UPLINK_SETTINGS = Value.Default(UplinkSettingsSchema, {}) as UplinkSettings;

// --- The records (payload schema v1) -------------------------------------------------------------

const time = (description: string) => Type.Integer({ description: `${description}, UTC ms` });
const recordCommon = {
  /** `{box}:{lane letter}{sequence}` — r: reading (`{box}:r{sn}:{ts}`), a: aggregate, j: alarm journal, d: device event, g: gap. */
  id: Type.String({ description: 'stable event id; equal ids are the same record (at-least-once: drop duplicates by it)' }),
  box: Type.String(),
  historical: Type.Boolean({ description: 'sent from the backlog (after an outage or on a resend request), not live' }),
  /** SYNC-6: the box's clock was not synchronised (no NTP since boot, or a jump) when it received or recorded this. */
  clock_unsynced: Type.Boolean(),
};

export const ReadingRecordSchema = Type.Object({
  ...recordCommon,
  kind: Type.Literal('reading'),
  sn: Type.String(),
  ts: time("the reading's time (the device's clock)"),
  received_at: time("the box's receive time"),
  ppm: Type.Number({ description: 'the calibrated concentration in the unit' }),
  unit: Type.String(),
  gas: Type.String(),
  v_raw: Type.Number(),
  temp: Type.Number(),
  humi: Type.Union([Type.Number(), Type.Null()]),
  bat: Type.Integer(),
  rssi: Type.Integer(),
  seq: Type.Integer(),
  err: Type.Integer(),
  overrange: Type.Boolean(),
  device_clock_skewed: Type.Boolean({ description: 'ING-5: the device clock was off; ts is the box time' }),
});
export type ReadingRecord = Static<typeof ReadingRecordSchema>;

export const AggregateRecordSchema = Type.Object({
  ...recordCommon,
  kind: Type.Literal('aggregate'),
  sn: Type.String(),
  ts: time('the minute bucket start'),
  span_s: Type.Integer({ description: 'the bucket length, 60' }),
  n: Type.Integer(),
  min: Type.Number(),
  max: Type.Number(),
  avg: Type.Number(),
  last: Type.Union([Type.Number(), Type.Null()], { description: 'the last reading of the bucket, when it is still stored' }),
  unit: Type.String(),
  gas: Type.String(),
});
export type AggregateRecord = Static<typeof AggregateRecordSchema>;

export const AlarmRecordSchema = Type.Object({
  ...recordCommon,
  kind: Type.Literal('alarm'),
  alarm_id: Type.Integer(),
  event: Type.String({ description: 'the journal entry: raised, level, cleared, acknowledged, masked, notified…' }),
  at: time('when it happened'),
  sn: Type.Union([Type.String(), Type.Null()]),
  source: Type.String(),
  type: Type.String(),
  level: Type.Union([Type.Integer(), Type.Null()]),
  priority: Type.String(),
  state: Type.String({ description: 'the alarm record now: active or cleared' }),
  value: Type.Union([Type.Number(), Type.Null()]),
  threshold: Type.Union([Type.Number(), Type.Null()]),
  actor: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
});
export type AlarmRecord = Static<typeof AlarmRecordSchema>;

export const DeviceRecordSchema = Type.Object({
  ...recordCommon,
  kind: Type.Literal('device'),
  sn: Type.String(),
  event: Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('config'), Type.Literal('removed')]),
  at: time('when it happened'),
  name: Type.String(),
  location: Type.String(),
  gas: Type.String(),
  unit: Type.String(),
  enabled: Type.Boolean(),
  high_limit: Type.Union([Type.Number(), Type.Null()]),
  high2_limit: Type.Union([Type.Number(), Type.Null()]),
  low_limit: Type.Union([Type.Number(), Type.Null()]),
});
export type DeviceRecord = Static<typeof DeviceRecordSchema>;

/** SYNC-3: data the box could not keep for this target (neither the readings nor their roll-ups). */
export const GapRecordSchema = Type.Object({
  ...recordCommon,
  kind: Type.Literal('gap'),
  sn: Type.Union([Type.String(), Type.Null()], { description: 'null: every device of the box' }),
  from: time('start'),
  to: time('end'),
  reason: Type.String(),
});
export type GapRecord = Static<typeof GapRecordSchema>;

export const UplinkRecordSchema = Type.Union([ReadingRecordSchema, AggregateRecordSchema, AlarmRecordSchema, DeviceRecordSchema, GapRecordSchema]);
export type UplinkRecord = Static<typeof UplinkRecordSchema>;
export type UplinkRecordKind = UplinkRecord['kind'];

/** One message body: `{"v":1,"box":…,"records":[…]}` (all of one kind; of one device when the topic has {sn}). */
export const UplinkEnvelopeSchema = Type.Object({
  v: Type.Literal(1),
  box: Type.String(),
  records: Type.Array(UplinkRecordSchema),
});
export type UplinkEnvelope = Static<typeof UplinkEnvelopeSchema>;

// --- Cloud → box (SYNC-5) -----------------------------------------------------------------------

/** The journal's actor of an acknowledgement from the cloud: `cloud:{target}:{remote user}`. */
export const CLOUD_ACTOR_PREFIX = 'cloud:';

export const CloudAckCommandSchema = Type.Object({
  cmd: Type.Literal('ack'),
  alarm_ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000 }),
  by: Type.String({ minLength: 1, maxLength: 100, description: "the remote user's name; the journal says cloud:{target}:{by}" }),
  comment: Type.String({ maxLength: 500, default: '' }),
});
export const CloudResendCommandSchema = Type.Object({
  cmd: Type.Literal('resend'),
  from: time('start'),
  to: time('end'),
  sns: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000 })),
});
export const CloudCommandSchema = Type.Union([CloudAckCommandSchema, CloudResendCommandSchema]);
export type CloudCommand = Static<typeof CloudCommandSchema>;

// --- The transport port ---------------------------------------------------------------------------

/** A frame of records of one kind the sender hands a transport; acknowledged as a whole. */
export interface UplinkFrame {
  kind: UplinkRecordKind;
  historical: boolean;
  records: UplinkRecord[];
}

export interface TransportState {
  connected: boolean;
  /** The last connection or send problem, in words; null when fine. */
  lastError: string | null;
}

/**
 * What a target's transport does (sync/transports/*). It owns its connection: connects at start,
 * reconnects with exponential backoff and jitter, finds a frozen link by keepalive.
 */
export interface UplinkTransport {
  start(): void;
  state(): TransportState;
  /**
   * Sends a frame; resolves with the bytes put on the wire once the target acknowledged all of it
   * (every PUBACK / a 2xx), rejects when it could not (the sender sends it again later).
   */
  send(frame: UplinkFrame): Promise<number>;
  /** SYNC-5: commands from the cloud (only when the target's cloud_commands is on). */
  onCommand(handler: (command: unknown) => void): void;
  /** Called on connect / disconnect. */
  onState(handler: (state: TransportState) => void): void;
  /** A one-off connection check for the admin's test button; resolves with a line in words. */
  test(): Promise<string>;
  close(): Promise<void>;
}

// --- What the admin sees (Admin → System → Cloud sync; /api/system/uplink) -------------------------

const lane = Type.Object({
  lane: Type.Union(UPLINK_LANES.map((name) => Type.Literal(name))),
  /** Records (readings, journal entries, device events) not yet acknowledged in this lane. */
  depth: Type.Integer(),
  /** When the oldest of them was recorded; null when the lane is empty. */
  oldest_at: Type.Union([Type.Integer(), Type.Null()]),
});

export const UplinkTargetStatusSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  enabled: Type.Boolean(),
  paused: Type.Boolean(),
  connected: Type.Boolean(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  last_ack_at: Type.Union([Type.Integer(), Type.Null()]),
  lanes: Type.Array(lane),
  /** Sum of the lanes' depths, and the age of the oldest unacknowledged record (the lag). */
  backlog: Type.Integer(),
  lag_s: Type.Number(),
  /** Records acknowledged per second over the last minute, and the drain time at that pace (null: not draining). */
  rate_per_s: Type.Number(),
  drain_estimate_s: Type.Union([Type.Number(), Type.Null()]),
  bytes_today: Type.Integer(),
  records_today: Type.Integer(),
  /** Readings sent as aggregates and gap records sent because the backlog passed its limit (SYNC-3). */
  downsampled: Type.Integer(),
  gaps: Type.Integer(),
});
export type UplinkTargetStatus = Static<typeof UplinkTargetStatusSchema>;

export const UplinkStatusSchema = Type.Object({
  box_id: Type.String(),
  /** SYNC-6: false while the box's clock is not known to be synchronised. */
  clock_synced: Type.Boolean(),
  targets: Type.Array(UplinkTargetStatusSchema),
});
export type UplinkStatus = Static<typeof UplinkStatusSchema>;
