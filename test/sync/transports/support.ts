// Shared by the transport tests: records as the sender hands them over (payload schema v1), a logger
// that keeps every line (to check what was logged, and that no secret was), waiting helpers.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { AggregateRecord, AlarmRecord, DeviceRecord, GapRecord, ReadingRecord, TransportState, UplinkTransport } from '../../../appliance/contract/uplink.ts';

export const BOX = 'plant-7.box-2';
export const T0 = Date.UTC(2026, 10, 3, 8, 0, 0);

export function reading(sn: string, seq: number, overrides: Partial<ReadingRecord> = {}): ReadingRecord {
  const ts = T0 + seq * 10_000;
  return {
    id: `${BOX}:r${sn}:${ts}`,
    box: BOX,
    kind: 'reading',
    historical: false,
    clock_unsynced: false,
    sn,
    ts,
    received_at: ts + 35,
    ppm: 25,
    unit: 'ppm',
    gas: 'CH4',
    v_raw: 1.234,
    temp: 21.5,
    humi: 40,
    bat: 90,
    rssi: -61,
    seq,
    err: 0,
    overrange: false,
    device_clock_skewed: false,
    ...overrides,
  };
}

export function aggregate(sn: string, minute: number): AggregateRecord {
  const ts = T0 + minute * 60_000;
  return { id: `${BOX}:a${sn}:${ts}`, box: BOX, kind: 'aggregate', historical: true, clock_unsynced: false, sn, ts, span_s: 60, n: 6, min: 20, max: 31.5, avg: 25, last: 24, unit: 'ppm', gas: 'CH4' };
}

export function alarm(seq: number, overrides: Partial<AlarmRecord> = {}): AlarmRecord {
  return {
    id: `${BOX}:j${seq}`,
    box: BOX,
    kind: 'alarm',
    historical: false,
    clock_unsynced: false,
    alarm_id: 40 + seq,
    event: 'raised',
    at: T0 + seq * 1000,
    sn: 'GT-001',
    source: 'device',
    type: 'high',
    level: 1,
    priority: 'high',
    state: 'active',
    value: 52,
    threshold: 50,
    actor: null,
    detail: null,
    ...overrides,
  };
}

export function deviceEvent(seq: number): DeviceRecord {
  return {
    id: `${BOX}:d${seq}`, box: BOX, kind: 'device', historical: false, clock_unsynced: true, sn: 'GT-002', event: 'offline', at: T0 + seq * 1000,
    name: 'Boiler room', location: 'B1', gas: 'CH4', unit: 'ppm', enabled: true, high_limit: 50, high2_limit: 100, low_limit: null,
  };
}

export function gap(seq: number): GapRecord {
  return { id: `${BOX}:g${seq}`, box: BOX, kind: 'gap', historical: true, clock_unsynced: false, sn: null, from: T0, to: T0 + 3_600_000, reason: 'backlog limit' };
}

/** A pino logger keeping every line (debug and up) as parsed JSON and as raw text. */
export function keepLog(): { log: Logger; lines: Array<Record<string, unknown>>; text: () => string } {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, {
    write(line: string) {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { log, lines, text: () => raw.join('') };
}

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

/** Resolves with the next state the transport reports that passes `check`. */
export function nextState(transport: UplinkTransport, check: (state: TransportState) => boolean, timeoutMs: number): Promise<TransportState> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no such state within ${timeoutMs} ms; now ${JSON.stringify(transport.state())}`)), timeoutMs);
    let done = false;
    transport.onState((state) => {
      if (done || !check(state)) return;
      done = true;
      clearTimeout(timer);
      resolve(state);
    });
  });
}

/** Runs the openssl CLI (the independent implementation) on `input`; returns its stdout. */
export function opensslOn(args: string[], input: Buffer | string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-openssl-'));
  try {
    const file = join(dir, 'in.bin');
    writeFileSync(file, input);
    return execFileSync('openssl', [...args, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl dgst … -r` answers "<hex> *<file>": the hex. */
export function opensslDigest(args: string[], input: Buffer | string): string {
  return opensslOn(['dgst', ...args, '-r'], input).toString('utf8').trim().split(/\s+/)[0].toLowerCase();
}
