// DEV-3: decoding the commands a detector is sent on mcs/{sn}/cmd and mcs/broadcast/cmd.
// Pure: bytes in, a typed command or the reason it was ignored out. The firmware clamps a debug
// duration above 600 s rather than refusing it, so the simulator does the same.
import { Value } from '@sinclair/typebox/value';
import { DeviceCommand } from '../appliance/contract/device-payload.ts';

export const MAX_DEBUG_S = 600;

export type DecodedCommand = { ok: true; command: DeviceCommand } | { ok: false; reason: string };

export function decodeCommand(payload: Buffer | string): DecodedCommand {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (isRecord(value) && value.cmd === 'debug' && typeof value.duration === 'number') {
    // DEV-3: 1 s reporting for at most 600 s.
    value = { ...value, duration: Math.min(MAX_DEBUG_S, Math.max(1, Math.round(value.duration))) };
  }
  if (!Value.Check(DeviceCommand, value)) {
    const cmd = isRecord(value) ? String(value.cmd) : typeof value;
    return { ok: false, reason: `unknown or invalid command ${cmd}` };
  }
  return { ok: true, command: value };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
