// How a detector looks on the kiosk (UI-2, UI-5 / GB 16808), decided apart from the drawing so it
// is unit-tested in Node: green ok, red flashing gas alarm, yellow flashing fault, yellow steady
// unprotected (no setpoint), grey offline / stale / no link, yellow MASKED (issue 15.1).
import type { LiveDeviceInfo } from '../../../appliance/contract/live.ts';

export type MarkerLook = 'ok' | 'alarm' | 'fault' | 'unprotected' | 'offline' | 'stale' | 'nolink' | 'masked';

/**
 * Issue 15.1: the whole minutes a detector's mask has left at `nowMs` (at least 1 while in force),
 * or null when it is not masked (no mask, or past its time — the server ends it within a second).
 */
export function maskMinutesLeft(device: Pick<LiveDeviceInfo, 'masked_until'>, nowMs: number): number | null {
  const until = device.masked_until ? Date.parse(device.masked_until) : Number.NaN;
  if (!Number.isFinite(until) || until <= nowMs) return null;
  return Math.max(1, Math.ceil((until - nowMs) / 60_000));
}

/** Issue 15.1: how many detectors are masked now (the kiosk's top bar). */
export function maskedCount(devices: Iterable<Pick<LiveDeviceInfo, 'masked_until'>>, nowMs: number): number {
  let n = 0;
  for (const device of devices) if (maskMinutesLeft(device, nowMs) !== null) n++;
  return n;
}

/** A reading older than stale_after_s (judged on the server's clock) is not shown as the current value. */
export function isStale(device: Pick<LiveDeviceInfo, 'ts'>, nowMs: number, staleAfterMs: number): boolean {
  const readAt = device.ts ? Date.parse(device.ts) : Number.NaN;
  return !Number.isFinite(readAt) || nowMs - readAt > staleAfterMs;
}

/**
 * An active gas alarm stays red and a fault yellow even when the value is too old to show; a
 * detector without setpoint is yellow rather than a reassuring green (when its value is current).
 */
export function lookOf(device: Pick<LiveDeviceInfo, 'status' | 'online' | 'masked_until'>, linkLive: boolean, stale: boolean, nowMs = Date.now()): MarkerLook {
  if (!linkLive) return 'nolink';
  // Issue 15.1: a masked detector is yellow MASKED whatever it reads (a bump test is expected to
  // alarm); its value is still shown when current, and a level-2 alarm may still sound.
  if (maskMinutesLeft(device, nowMs) !== null) return 'masked';
  if (device.status === 'offline' || !device.online) return 'offline';
  if (device.status === 'alarm') return 'alarm';
  if (device.status === 'fault') return 'fault';
  if (stale) return 'stale';
  return device.status === 'unprotected' ? 'unprotected' : 'ok';
}

/**
 * The value text: a number only for a current ok, alarm or unprotected reading on a live link;
 * "ERR" for a faulted detector (its concentration is not a measurement), "—" otherwise.
 */
export function valueText(ppm: number | null, look: MarkerLook): string {
  if (look === 'fault') return 'ERR';
  if (ppm === null || look === 'offline' || look === 'stale' || look === 'nolink') return '—'; // a masked value is shown (readings are stored and shown)
  return ppm >= 100 ? String(Math.round(ppm)) : String(Math.round(ppm * 10) / 10);
}
