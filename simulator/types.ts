// The seams between a detector and the scenarios that bend it (SIM-1 / SIM-2).
import type { UpPayload } from '../appliance/contract/device-payload.ts';
import type { Clock } from './clock.ts';
import type { Rng } from './rng.ts';

/** DEV-3 calib values the detector was last sent (k = 1, b = 0, t_comp = 0 until then). */
export interface Calibration {
  k: number;
  b: number;
  t_comp: number;
}

export interface ShapeContext {
  /** Readings taken since the detector started (not reset by a reboot). */
  n: number;
  /** Seconds of device time since the detector started. */
  tS: number;
  rng: Rng;
  calib: Calibration;
}

export type PublishOutcome = 'acked' | 'sent' | 'failed';

/** What a scenario may do to a running detector. */
export interface DetectorControl {
  readonly sn: string;
  readonly clock: Clock;
  readonly connected: boolean;
  /** Cuts the TCP connection without DISCONNECT, so the broker publishes the Last Will. */
  dropConnection(): void;
  /** Drops the connection and stays away (readings are buffered) until goOnline(). */
  goOffline(): void;
  goOnline(): void;
  /** Publishes anything anywhere, bypassing the reading path (malformed data, ACL probes). */
  publishRaw(topic: string, payload: string | Buffer, qos?: 0 | 1): Promise<PublishOutcome>;
  on(listener: (e: DetectorEvent) => void): () => void;
  log(line: string): void;
}

/** SIM-2: a scenario shapes values, encodings or behaviour; every hook is optional. */
export interface Scenario {
  readonly name: string;
  /** The password actually sent (wrong-credentials). */
  password?(password: string): string;
  /** Device clock offset from true time, ms (skew). */
  clockOffsetMs?: number;
  /** Changes a reading before it is sent. */
  shape?(reading: UpPayload, ctx: ShapeContext): UpPayload;
  /** The bytes sent for a reading; default JSON. */
  encode?(reading: UpPayload, ctx: ShapeContext): string | Buffer;
  /** Behaviour over time; returns a detach function called on stop. */
  attach?(d: DetectorControl): (() => void) | void;
}

export type DetectorEvent =
  | { type: 'connected' }
  | { type: 'refused'; code: number; message: string }
  | { type: 'disconnected'; reason: string }
  | { type: 'reading'; reading: UpPayload; payload: string | Buffer; buffered: boolean }
  | { type: 'command'; command: unknown; ok: boolean }
  | { type: 'report'; message: string };
