// SIM-1: what a detector's sensors read — a raw voltage around a baseline with noise, a
// temperature drifting slowly, humidity, a battery draining slowly and a cellular signal level.
// The steps are plain functions of the previous state, the elapsed time and a seeded rng, so a
// run is reproducible from its seed.
import type { UpPayload } from '../appliance/contract/device-payload.ts';
import { gaussian, round, type Rng } from './rng.ts';

export interface SensorState {
  baselineMv: number;
  tempBase: number;
  temp: number;
  humi: number;
  bat: number;
  rssiBase: number;
}

export interface SensorValues {
  v_raw: number;
  temp: number;
  humi: number;
  bat: number;
  rssi: number;
}

export interface SensorOptions {
  /** Raw voltage in clean air, mV (default 350-450, per device). */
  baselineMv?: number;
  /** Standard deviation of the voltage noise, mV. */
  noiseMv?: number;
  /** Battery drain, % per hour. */
  batDrainPerHour?: number;
}

const DAY_S = 86_400;

export function initialSensor(rng: Rng, opts: SensorOptions = {}): SensorState {
  const tempBase = 18 + rng() * 8;
  return {
    baselineMv: opts.baselineMv ?? 350 + rng() * 100,
    tempBase,
    temp: tempBase,
    humi: 35 + rng() * 30,
    bat: 60 + rng() * 40,
    rssiBase: -95 + rng() * 40,
  };
}

/** Advances the slow quantities by `dtS` seconds at device time `tS` (unix seconds). */
export function stepSensor(s: SensorState, rng: Rng, dtS: number, tS: number, opts: SensorOptions = {}): SensorState {
  const dt = Math.max(0, dtS);
  // Temperature follows a daily swing of ±2 °C with a small random walk, pulled back to it.
  const target = s.tempBase + 2 * Math.sin((2 * Math.PI * tS) / DAY_S);
  const pull = Math.min(1, dt / 1800);
  const temp = s.temp + (target - s.temp) * pull + gaussian(rng) * 0.03 * Math.sqrt(dt / 60);
  const humi = clamp(s.humi + gaussian(rng) * 0.2 * Math.sqrt(dt / 60), 5, 95);
  const bat = Math.max(0, s.bat - ((opts.batDrainPerHour ?? 0.05) * dt) / 3600);
  return { ...s, temp: clamp(temp, -40, 85), humi, bat };
}

/** One sample of the sensors in the given state (noise is per sample, not accumulated). */
export function sampleSensor(s: SensorState, rng: Rng, opts: SensorOptions = {}): SensorValues {
  return {
    v_raw: round(s.baselineMv + gaussian(rng) * (opts.noiseMv ?? 2), 1),
    temp: round(s.temp, 2),
    humi: round(clamp(s.humi + gaussian(rng) * 0.3, 0, 100), 1),
    bat: Math.round(s.bat),
    rssi: Math.round(clamp(s.rssiBase + gaussian(rng) * 2, -120, -30)),
  };
}

/** DEV-2: the up payload, fields in the order the firmware sends them. */
export function toUpPayload(v: SensorValues, ts: number, seq: number, ver: string, err = 0): UpPayload {
  return { ts, seq, v_raw: v.v_raw, temp: v.temp, humi: v.humi, bat: v.bat, rssi: v.rssi, net: '4G', ver, err };
}

/** DEV-2: seq is 16 bits and wraps. */
export const nextSeq = (seq: number) => (seq + 1) & 0xffff;

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** DEV-4: the firmware reports its battery state as an error code (10 low < 20 %, 11 critical < 10 %). */
export function batteryError(bat: number): number {
  return bat < 10 ? 11 : bat < 20 ? 10 : 0;
}
