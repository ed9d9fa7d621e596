// DEV-2 / DEV-3: what detectors send and what they are sent. One schema each: the TS type, the
// runtime validator (compiled once, used on the hot path) and the documentation.
import { Type, type Static } from '@sinclair/typebox';

/** Readings larger than this are dropped before parsing (ING-1). */
export const MAX_UP_PAYLOAD_BYTES = 4096;

export const UpPayload = Type.Object(
  {
    ts: Type.Integer({ minimum: 0, maximum: 4_294_967_295, description: 'device time, unix seconds' }),
    seq: Type.Integer({ minimum: 0, maximum: 65_535, description: 'packet sequence, wraps at 65535' }),
    v_raw: Type.Number({ minimum: -10_000, maximum: 100_000, description: 'raw sensor voltage, mV' }),
    temp: Type.Number({ minimum: -60, maximum: 150, description: '°C, used for compensation' }),
    humi: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: '% RH' })),
    bat: Type.Number({ minimum: 0, maximum: 100, description: 'battery %' }),
    rssi: Type.Number({ minimum: -200, maximum: 0, description: 'dBm' }),
    net: Type.Optional(Type.String({ maxLength: 16 })),
    ver: Type.Optional(Type.String({ maxLength: 32 })),
    err: Type.Integer({ minimum: 0, maximum: 255, description: 'device error code (DEV-4), 0 = ok' }),
  },
  // Newer firmware may add fields; they are ignored, not refused.
  { additionalProperties: true },
);
export type UpPayload = Static<typeof UpPayload>;

export const StatusPayload = Type.Object(
  {
    status: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    ts: Type.Optional(Type.Integer({ minimum: 0 })),
    // Issue 15.5: an output module reports its relays' states here after a relay command (its acknowledgement).
    relay: Type.Optional(Type.Record(Type.String({ pattern: '^[0-9]{1,2}$' }), Type.Boolean(), { description: 'output module: relay channel → on' })),
  },
  { additionalProperties: true },
);
export type StatusPayload = Static<typeof StatusPayload>;

// DEV-3 commands, server → device on mcs/{sn}/cmd (QoS 1).
export const DebugCommand = Type.Object({
  cmd: Type.Literal('debug'),
  duration: Type.Integer({ minimum: 1, maximum: 600, description: 'seconds of 1 s reporting, at most 600' }),
}, { additionalProperties: false });
export const CalibCommand = Type.Object({
  cmd: Type.Literal('calib'),
  k: Type.Number(),
  b: Type.Number(),
  t_comp: Type.Number(),
}, { additionalProperties: false });
export const RebootCommand = Type.Object({
  cmd: Type.Literal('reboot'),
  delay: Type.Integer({ minimum: 0, maximum: 3600 }),
}, { additionalProperties: false });
export const OtaCommand = Type.Object({
  cmd: Type.Literal('ota'),
  url: Type.String({ minLength: 1, maxLength: 512, pattern: '^https?://' }),
  md5: Type.String({ pattern: '^[0-9a-fA-F]{32}$' }),
}, { additionalProperties: false });
/** Issue 15.5 (GB 16808-2025 control output): switch one relay of an output module; it answers on its status topic. */
export const RelayCommand = Type.Object({
  cmd: Type.Literal('relay'),
  ch: Type.Integer({ minimum: 1, maximum: 32 }),
  on: Type.Boolean(),
}, { additionalProperties: false });
export type RelayCommand = Static<typeof RelayCommand>;
export const DeviceCommand = Type.Union([DebugCommand, CalibCommand, RebootCommand, OtaCommand, RelayCommand]);
export type DeviceCommand = Static<typeof DeviceCommand>;

/** DEV-4 error codes. */
export const DEVICE_ERROR_CODES: Record<number, string> = {
  0: 'ok',
  1: 'sensor read failure',
  2: 'sensor data abnormal',
  3: 'temperature sensor fault',
  10: 'battery low (<20%)',
  11: 'battery critical (<10%)',
  20: 'weak signal',
  21: 'SIM fault',
  30: 'storage full',
  40: 'watchdog reboot',
  50: 'calibration lost',
};
/** DEV-4: codes that raise a device alarm. */
export const ALARMING_DEVICE_ERRORS = new Set([1, 2, 3, 10, 11, 50]);
