// The device settings contract, shared by the CLI, the REST API and the UI.
import { Type, type Static } from '@sinclair/typebox';
import { IsoTime, NullableIsoTime, PageQuery, TimeParam } from './api.ts';
import { SN_PATTERN } from './topics.ts';
import { GAS_IDS } from './gas.ts';

/** ALM-9: the gas a detector measures, one of the catalogue in gas.ts. */
export const GasIdSchema = Type.Union(GAS_IDS.map((id) => Type.Literal(id)), { description: 'ALM-9: the gas the detector measures (catalogue: contract/gas.ts)' });
/** ALM-9: accepts setpoints outside GB/T 50493-2019's bounds for the gas; written to the audit log. */
export const SetpointOverrideReason = Type.String({
  minLength: 3, maxLength: 500,
  description: "ALM-9: accept setpoints outside the GB/T 50493-2019 bounds for this gas; the reason is written to the audit log",
});

const Finite = (options: object = {}) => Type.Number(options);

/**
 * Issue 15.5 (GB 16808-2025 alarm control outputs): what a registered device is. A detector measures
 * a gas against its setpoints (ALM-9); an output module (输出模块) is a relay box that switches fans,
 * valves and horns on `{"cmd":"relay",…}` and reports its relays: no gas, no setpoint, no gas alarm.
 */
export const DEVICE_KINDS = ['detector', 'output'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];
export const DeviceKindSchema = Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k)), {
  description: "detector (default): a gas detector with setpoints; output: an output module (relay box) — no gas, no setpoint",
});

export const CalibrationInput = Type.Object(
  {
    k: Type.Optional(Finite({ description: 'slope, ppm per mV' })),
    b: Type.Optional(Finite({ description: 'offset, ppm' })),
    t_ref: Type.Optional(Finite({ minimum: -60, maximum: 150, description: 'reference temperature, °C' })),
    t_comp: Type.Optional(Finite({ description: 'temperature compensation, ppm per °C' })),
  },
  { additionalProperties: false },
);

const settingsFields = {
  name: Type.Optional(Type.String({ maxLength: 64 })),
  location: Type.Optional(Type.String({ maxLength: 128 })),
  pos_x: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()])),
  pos_y: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()])),
  gas: Type.Optional(GasIdSchema),
  unit: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: "ALM-9: one of the gas's units (ppm, %LEL, %VOL, mg/m3); any for 'custom'" })),
  calib: Type.Optional(CalibrationInput),
  range_max: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000_000 })),
  high_limit: Type.Optional(Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'ALM-9: first-level (一级) alarm setpoint' })),
  high2_limit: Type.Optional(Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'ALM-9: second-level (二级) alarm setpoint, above high_limit' })),
  low_limit: Type.Optional(Type.Union([Type.Number({ minimum: 0 }), Type.Null()])),
  enabled: Type.Optional(Type.Boolean()),
  setpoint_override_reason: Type.Optional(SetpointOverrideReason),
};

export const DeviceCreate = Type.Object(
  {
    sn: Type.String({ pattern: SN_PATTERN, description: 'serial number as printed on the detector' }),
    kind: Type.Optional(DeviceKindSchema),
    ...settingsFields,
    /** 'generate' (default): a random password shown once; 'factory': the DEV-5 derived password. */
    credentials: Type.Optional(Type.Union([Type.Literal('generate'), Type.Literal('factory')])),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 128, description: 'set a chosen password' })),
  },
  { additionalProperties: false },
);
export type DeviceCreate = Static<typeof DeviceCreate>;

export const DeviceUpdate = Type.Object(settingsFields, { additionalProperties: false, minProperties: 1 });
export type DeviceUpdate = Static<typeof DeviceUpdate>;

// ---- the REST view of devices (API-1, seed §10.2 example 2) ------------------------------------

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const CalibrationView = Type.Object({ k: Type.Number(), b: Type.Number(), t_ref: Type.Number(), t_comp: Type.Number() });

/** Issue 15.6: one device's link figures since the appliance started (ingest's per-device counters). */
export interface DeviceLinkFigures {
  /** readings stored, and readings missing by sequence (ING-4 gaps, less the late ones that filled them) */
  stored: number;
  missing: number;
  /** missing ÷ (stored + missing) × 100; null before any reading */
  loss_pct: number | null;
  /** device clock − server clock, ms: ING-5's estimate between live readings once measured, else the newest reading's */
  clock_skew_ms: number | null;
  firmware: string | null;
}

export const DeviceView = Type.Object({
  sn: Type.String(),
  kind: DeviceKindSchema,
  name: Type.String(),
  location: Type.String(),
  gas: Type.String(),
  unit: Type.String(),
  status: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  /** ok | alarm | offline, as the kiosk colours it */
  state: Type.String(),
  alarms: Type.Array(Type.String()),
  last_ppm: NullableNumber,
  /** the newest reading's own time (device time unless its clock is skewed, ING-5) */
  last_reading_at: NullableIsoTime,
  /** Issue 15.6: when the appliance received the newest reading — the device page's "last reading" */
  last_received_at: NullableIsoTime,
  /** ING-7: when the device last sent anything (a reading or a status message), not when it connected */
  last_seen: NullableIsoTime,
  /** Issue 15.6: the newest reading's battery %, signal dBm, °C and % RH (null before the first reading) */
  bat: NullableNumber,
  rssi: NullableNumber,
  temp: NullableNumber,
  humi: NullableNumber,
  /** Issue 15.6: the firmware version the device last reported (DEV-2 `ver`), since the appliance started */
  firmware: Type.Union([Type.String(), Type.Null()]),
  /** Issue 15.6: readings missing by sequence (ING-4) and their share in %, since the appliance started */
  missing_readings: Type.Integer(),
  packet_loss_pct: NullableNumber,
  /** Issue 15.6: device clock − server clock, ms (ING-5) */
  clock_skew_ms: NullableNumber,
  /** Issue 15.5: an output module's relays as it last reported them (channel → on); null: a detector, or nothing reported yet */
  relay: Type.Union([Type.Record(Type.String(), Type.Boolean()), Type.Null()]),
  /** when the output module last reported its relays */
  relay_at: NullableIsoTime,
  high_limit: NullableNumber,
  high2_limit: NullableNumber,
  low_limit: NullableNumber,
  range_max: Type.Number(),
  calib: CalibrationView,
  pos_x: NullableNumber,
  pos_y: NullableNumber,
  enabled: Type.Boolean(),
  /** generated | chosen | factory (DEV-5); the password itself is never returned again */
  credentials: Type.String(),
  created_at: IsoTime,
  updated_at: IsoTime,
});
export type DeviceView = Static<typeof DeviceView>;

export const DeviceListQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(Type.Union([Type.Literal('online'), Type.Literal('offline')])),
    q: Type.Optional(Type.String({ maxLength: 64, description: 'search in serial, name and location' })),
  },
  { additionalProperties: false },
);

export const SnParams = Type.Object({ sn: Type.String({ pattern: SN_PATTERN }) });

export const DeviceCreated = Type.Object({
  device: DeviceView,
  password: Type.Union([Type.String(), Type.Null()], { description: 'shown once; null when the factory-derived password applies' }),
});

export const RealtimeView = Type.Object({
  sn: Type.String(),
  ts: NullableIsoTime,
  ppm: NullableNumber,
  temp: NullableNumber,
  humi: NullableNumber,
  bat: NullableNumber,
  rssi: NullableNumber,
  err: Type.Union([Type.Integer(), Type.Null()]),
  status: Type.String(),
  online: Type.Boolean(),
  alarms: Type.Array(Type.String()),
});

export const HistoryQuery = Type.Object(
  {
    start: TimeParam,
    end: Type.Optional(TimeParam),
    interval: Type.Optional(Type.Union(['10s', '1m', '5m', '1h'].map((i) => Type.Literal(i)), { description: 'default: chosen from the range' })),
  },
  { additionalProperties: false },
);

export const HistoryResponse = Type.Object({
  sn: Type.String(),
  start: IsoTime,
  end: IsoTime,
  interval: Type.String(),
  points: Type.Array(Type.Object({ ts: IsoTime, ppm: Type.Number(), min: Type.Number(), max: Type.Number(), count: Type.Integer() })),
});

export const ExportQuery = Type.Object({ start: TimeParam, end: Type.Optional(TimeParam) }, { additionalProperties: false });

/** UI-3 data query: the CSV of what a chart shows: up to 8 devices' buckets over one range at one interval. */
export const HISTORY_CSV_MAX_DEVICES = 8;
const SERIAL = '[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}';
export const HistoryCsvQuery = Type.Object(
  {
    sn: Type.String({ pattern: `^${SERIAL}(,${SERIAL}){0,${HISTORY_CSV_MAX_DEVICES - 1}}$`, description: `serials, comma-separated (at most ${HISTORY_CSV_MAX_DEVICES})` }),
    ...HistoryQuery.properties,
  },
  { additionalProperties: false },
);

export const PositionsUpdate = Type.Object(
  {
    positions: Type.Array(
      Type.Object(
        {
          sn: Type.String({ pattern: SN_PATTERN }),
          /** percent of the floor-plan width/height; null takes the device off the plan */
          x: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]),
          y: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10_000 },
    ),
  },
  { additionalProperties: false },
);

export const PendingView = Type.Object({
  sn: Type.String(),
  first_seen: IsoTime,
  last_seen: IsoTime,
  messages: Type.Integer(),
  last_payload: Type.Union([Type.String(), Type.Null()]),
  remote_address: Type.Union([Type.String(), Type.Null()]),
});

export const AdoptBody = Type.Object(
  { kind: Type.Optional(DeviceKindSchema), ...settingsFields, credentials: Type.Optional(Type.Union([Type.Literal('generate'), Type.Literal('factory')])) },
  { additionalProperties: false },
);
