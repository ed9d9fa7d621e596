// API-6 WebSocket /ws/dashboard messages (seed §6.3, §10.1), shared by the hub, the kiosk and tests.
import { Type, type Static } from '@sinclair/typebox';
import { isaStateOf, type AlarmEventKind, type AlarmIsaState, type AlarmRecord } from './alarm.ts';
import { iso, isoOrNull } from './api.ts';

/**
 * UI-2/UI-5 (GB 16808): alarm: a gas alarm (HIGH, LOW) is active — red, flashing; fault: a FAULT is
 * active — yellow, its concentration invalid; unprotected: no setpoint — yellow; offline: grey;
 * ok: green.
 */
export type DeviceState = 'ok' | 'alarm' | 'fault' | 'unprotected' | 'offline';

/** One device's newest values as the kiosk shows them. */
export interface LiveDevice {
  sn: string;
  ppm: number | null;
  temp: number | null;
  humi: number | null;
  bat: number | null;
  rssi: number | null;
  err: number | null;
  /** reading time, ISO 8601 UTC; null before the first reading */
  ts: string | null;
  status: DeviceState;
  online: boolean;
  /** active alarm types of this device */
  alarms: string[];
  /** Issue 15.1: masked until then (ISO 8601 UTC); absent or null: not masked. */
  masked_until?: string | null;
}

export interface LiveDeviceInfo extends LiveDevice {
  /** Issue 15.5: 'output' — an output module (relay box), not a detector on the gas picture; absent: a detector. */
  kind?: 'detector' | 'output';
  name: string;
  location: string;
  gas: string;
  unit: string;
  pos_x: number | null;
  pos_y: number | null;
  high_limit: number | null;
  high2_limit: number | null;
  low_limit: number | null;
}

/** A device in a `realtime` batch: only what the kiosk's marker shows (5,000 of them a second). */
export interface RealtimeEntry {
  sn: string;
  ppm: number | null;
  status: DeviceState;
  ts: string | null;
}

export interface DeviceStatusChange {
  sn: string;
  status: 'online' | 'offline';
  reason: string;
  at: string;
}

export interface LiveCounts {
  total: number;
  online: number;
  offline: number;
  alarm: number;
}

/**
 * A record as the API and the kiosk see it: times as ISO 8601 UTC strings. The REST views add the
 * device's gas unit (the kiosk has it from its devices).
 */
export type AlarmView = Omit<AlarmRecord, 'triggered_at' | 'cleared_at' | 'notified_at' | 'ack_at' | 'updated_at'> & {
  unit?: string;
  /** UI-3: GET /api/alarms joins the device's name and location (null: a system alarm or a deleted device). */
  device_name?: string | null;
  device_location?: string | null;
  /** ALM-11: derived from state and acknowledgement (contract/alarm.ts isaStateOf). */
  isa_state: AlarmIsaState;
  /** Issue 15.1: its detector is masked until then; `sounds`: a level-2 alarm still sounds on the kiosk (masking.level2_sounds). */
  masked?: { until: string; sounds: boolean } | null;
  triggered_at: string;
  cleared_at: string | null;
  notified_at: string | null;
  ack_at: string | null;
  updated_at: string;
};

/** A stored record as the API and the kiosk's WebSocket send it (one mapping for both). */
export function alarmView(record: AlarmRecord): AlarmView {
  return {
    ...record,
    isa_state: isaStateOf(record),
    triggered_at: iso(record.triggered_at),
    cleared_at: isoOrNull(record.cleared_at),
    notified_at: isoOrNull(record.notified_at),
    ack_at: isoOrNull(record.ack_at),
    updated_at: iso(record.updated_at),
  };
}

export type ServerMessage =
  | { type: 'snapshot'; data: { devices: LiveDeviceInfo[]; alarms: AlarmView[]; counts: LiveCounts }; ts: string }
  | { type: 'realtime'; data: RealtimeEntry[]; counts: LiveCounts; ts: string }
  | { type: 'alarm'; kind: AlarmEventKind; data: AlarmView; ts: string }
  /** the online/offline changes of the last ~200 ms (a reconnect storm is one message, not thousands) */
  | { type: 'device_status'; data: DeviceStatusChange[]; ts: string }
  | { type: 'history'; sn: string; interval: '1m'; points: { ts: string; ppm: number; min: number; max: number }[]; ts: string }
  | { type: 'pong'; ts: string }
  | { type: 'error'; code: number; message: string };

export const ClientMessage = Type.Union([
  Type.Object({ type: Type.Literal('subscribe'), sn: Type.String({ minLength: 1, maxLength: 32 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('ping') }, { additionalProperties: false }),
]);
export type ClientMessage = Static<typeof ClientMessage>;

/** Close codes: 4401 no or bad token (the client should log in again). */
export const WS_CLOSE_UNAUTHORIZED = 4401;
