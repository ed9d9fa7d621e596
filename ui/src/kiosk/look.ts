// How a detector looks on the kiosk (UI-2, UI-5 / GB 16808), decided apart from the drawing so it
// is unit-tested in Node: green ok, red flashing gas alarm, yellow flashing fault, yellow steady
// unprotected (no setpoint), grey offline / stale / no link.
import type { LiveDeviceInfo } from '../../../appliance/contract/live.ts';

export type MarkerLook = 'ok' | 'alarm' | 'fault' | 'unprotected' | 'offline' | 'stale' | 'nolink';

/** A reading older than stale_after_s (judged on the server's clock) is not shown as the current value. */
export function isStale(device: Pick<LiveDeviceInfo, 'ts'>, nowMs: number, staleAfterMs: number): boolean {
  const readAt = device.ts ? Date.parse(device.ts) : Number.NaN;
  return !Number.isFinite(readAt) || nowMs - readAt > staleAfterMs;
}

/**
 * An active gas alarm stays red and a fault yellow even when the value is too old to show; a
 * detector without setpoint is yellow rather than a reassuring green (when its value is current).
 */
export function lookOf(device: Pick<LiveDeviceInfo, 'status' | 'online'>, linkLive: boolean, stale: boolean): MarkerLook {
  if (!linkLive) return 'nolink';
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
  if (ppm === null || look === 'offline' || look === 'stale' || look === 'nolink') return '—';
  return ppm >= 100 ? String(Math.round(ppm)) : String(Math.round(ppm * 10) / 10);
}
