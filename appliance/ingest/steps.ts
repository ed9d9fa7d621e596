// The ingest pipeline's pure steps (ARCHITECTURE: named arrays of small pure steps). Each takes
// plain values and returns a typed result; the side effects sit in pipeline.ts.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { MAX_UP_PAYLOAD_BYTES, UpPayload } from '../contract/device-payload.ts';
import type { Calibration } from '../storage/devices.ts';

/** ING-1 drop reasons, counted per device and in total. */
export const DROP_REASONS = [
  'too_large',
  'bad_json',
  'not_object',
  'missing_field',
  'wrong_type',
  'out_of_range',
  'acl_violation',
  'device_disabled',
  'store_failed', // the commit failed, or the reading's alarm evaluation did (ALM-8): not acknowledged
  'queue_full', // issue 16.8: the group-commit queue was at ingest.queue_limit: refused, not acknowledged
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type StepResult<T> = { ok: true; value: T } | { ok: false; reason: DropReason; detail?: string };

const upPayloadCheck = TypeCompiler.Compile(UpPayload);

/** ING-1: size limit, then JSON, then the DEV-2 schema (types, ranges, finite numbers). */
export function decodeUpPayload(payload: Buffer | string): StepResult<UpPayload> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_UP_PAYLOAD_BYTES) return { ok: false, reason: 'too_large', detail: `${size} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'bad_json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not_object' };
  if (upPayloadCheck.Check(value)) return { ok: true, value };
  const first = upPayloadCheck.Errors(value).First()!;
  return { ok: false, reason: reasonOf(first.type), detail: `${first.path}: ${first.message}` };
}

function reasonOf(type: ValueErrorType): DropReason {
  switch (type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'missing_field';
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.StringMaxLength:
      return 'out_of_range';
    default:
      return 'wrong_type';
  }
}

export interface Calibrated {
  ppm: number;
  /** Clamped at range_max: the sensor is saturated (ING-2, raises FAULT). */
  overrange: boolean;
}

/** ING-2 (seed §4.2): ppm = k·v_raw + b + t_comp·(temp − t_ref), clamped to [0, range_max]. */
export function calibrate(vRaw: number, temp: number, calib: Calibration, rangeMax: number): Calibrated {
  const ppm = calib.k * vRaw + calib.b + calib.t_comp * (temp - calib.t_ref);
  if (ppm > rangeMax) return { ppm: rangeMax, overrange: true };
  if (!(ppm > 0)) return { ppm: 0, overrange: false };
  return { ppm: Math.round(ppm * 100) / 100, overrange: false };
}

const SEQ_MODULO = 65_536;

export interface SequenceState {
  lastSeq: number | null;
  /** Readings missing between sequence numbers seen so far (ING-4 packet-loss figure). */
  gaps: number;
}

/**
 * ING-4: advances the device's sequence. A forward jump counts the skipped numbers as gaps; an
 * older number (a resend after reconnect) leaves the position alone and, when it was not a
 * duplicate, fills one gap; 0 after a backward jump is a restarted device.
 */
export function trackSequence(state: SequenceState, seq: number): 'next' | 'gap' | 'old' | 'same' | 'restart' {
  if (state.lastSeq === null) {
    state.lastSeq = seq;
    return 'next';
  }
  const delta = (seq - state.lastSeq + SEQ_MODULO) % SEQ_MODULO;
  if (delta === 0) return 'same';
  if (seq === 0 && delta !== 1) {
    state.lastSeq = 0;
    return 'restart';
  }
  if (delta < SEQ_MODULO / 2) {
    state.gaps += delta - 1;
    state.lastSeq = seq;
    return delta === 1 ? 'next' : 'gap';
  }
  return 'old';
}

export interface ClockState {
  /** Latest estimate of the device clock's lag behind the server, ms (positive = device behind); null until measured. */
  offsetMs: number | null;
  /** The reading the next measurement is taken against (0: none yet). */
  anchorReceivedAt: number;
  anchorDeviceMs: number;
}

/** A measurement spans at least this much server time, so a backlog burst never makes one. */
const CLOCK_BASELINE_MS = 30_000;
/** Over the baseline, device and server clocks of a live device advance alike within this. */
const LIVE_TOLERANCE_MS = 5_000;

/**
 * ING-5: the device clock's offset, measured only between readings that arrived live: readings
 * buffered while offline have large lags that are not clock error. Over ≥ 30 s of server time a
 * live device's clock advances as much as the server's; across a backlog it advances far more.
 * Returns whether this reading's clock is skewed (a time in the future is skewed at once).
 */
export function trackClock(state: ClockState, deviceMs: number, receivedAt: number, skewLimitMs: number): boolean {
  const lag = receivedAt - deviceMs;
  if (state.anchorReceivedAt === 0) {
    state.anchorReceivedAt = receivedAt;
    state.anchorDeviceMs = deviceMs;
  } else if (receivedAt - state.anchorReceivedAt >= CLOCK_BASELINE_MS) {
    const live = Math.abs(receivedAt - state.anchorReceivedAt - (deviceMs - state.anchorDeviceMs)) <= LIVE_TOLERANCE_MS;
    if (live) state.offsetMs = lag;
    state.anchorReceivedAt = receivedAt;
    state.anchorDeviceMs = deviceMs;
  }
  return (state.offsetMs !== null && Math.abs(state.offsetMs) > skewLimitMs) || lag < -skewLimitMs;
}

/**
 * The stored reading time (the key with sn, STO-1). Device clocks tick in seconds; the sub-second
 * part carries seq mod 1000, so two readings within one second stay distinct while a resend of the
 * same reading (same ts and seq, ING-4) lands on the same key and is stored once. A skewed device
 * is ordered by server time instead (ING-5).
 */
export function readingKeyTime(deviceTsS: number, seq: number, skewed: boolean, receivedAt: number, lastServerTs: number): number {
  if (skewed) return Math.max(receivedAt, lastServerTs + 1);
  return deviceTsS * 1000 + (seq % 1000);
}
