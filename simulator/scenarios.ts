// SIM-2: scenarios. Each is a small factory returning hooks that bend one detector: the values it
// reads (leak, fault, lowbat, flapping), its clock (skew), the bytes it sends (malformed), its
// credentials (wrong-credentials), where it publishes (acl) or when it is connected (offline).
import { MAX_UP_PAYLOAD_BYTES, type UpPayload } from '../appliance/contract/device-payload.ts';
import { upTopic } from '../appliance/contract/topics.ts';
import { unixSeconds } from './clock.ts';
import { gaussian, round } from './rng.ts';
import { batteryError, clamp } from './sensor.ts';
import type { Calibration, Scenario, ShapeContext } from './types.ts';

/** ING-2 reference temperature (the server's default t_ref). */
export const T_REF = 25;

/** ING-2 as the server computes it (before clamping): ppm = k·v_raw + b + t_comp·(temp − t_ref). */
export function ppmOf(r: Pick<UpPayload, 'v_raw' | 'temp'>, c: Calibration, tRef = T_REF): number {
  return c.k * r.v_raw + c.b + c.t_comp * (r.temp - tRef);
}

/** The raw voltage that reads as `ppm` under calibration `c` at temperature `temp`. */
export function vRawFor(ppm: number, temp: number, c: Calibration, tRef = T_REF): number {
  const k = c.k === 0 ? 1 : c.k;
  return (ppm - c.b - c.t_comp * (temp - tRef)) / k;
}

const withPpm = (r: UpPayload, ppm: number, ctx: ShapeContext): UpPayload => ({
  ...r,
  v_raw: round(clamp(vRawFor(ppm, r.temp, ctx.calib), -10_000, 100_000), 1),
});

export interface LeakOptions {
  /** The alarm high limit the leak must cross, ppm (default 5000). */
  highLimit?: number;
  /** Peak as a multiple of the high limit (default 1.5). */
  peakFactor?: number;
  /** Device seconds before the leak starts (default 30), ramp up/down (default 60), hold at peak (default 30). */
  startS?: number;
  rampS?: number;
  holdS?: number;
}

/** The leak's gas level at `tS` seconds, or null outside the leak (pure). */
export function leakPpm(tS: number, o: LeakOptions = {}): number | null {
  const peak = (o.highLimit ?? 5000) * (o.peakFactor ?? 1.5);
  const start = o.startS ?? 30;
  const ramp = Math.max(0.001, o.rampS ?? 60);
  const hold = o.holdS ?? 30;
  const t = tS - start;
  if (t < 0 || t > 2 * ramp + hold) return null;
  if (t < ramp) return (peak * t) / ramp;
  if (t <= ramp + hold) return peak;
  return (peak * (2 * ramp + hold - t)) / ramp;
}

/** Leak: the reading ramps from the baseline above the high limit, holds, and ramps back down. */
export function leak(o: LeakOptions = {}): Scenario {
  return {
    name: 'leak',
    shape(r, ctx) {
      const ppm = leakPpm(ctx.tS, o);
      if (ppm === null) return r;
      const gas = withPpm(r, ppm * (1 + 0.005 * gaussian(ctx.rng)), ctx);
      return gas.v_raw > r.v_raw ? gas : r; // the leak adds to the clean-air baseline
    },
  };
}

export interface FaultOptions {
  /** DEV-4 codes to cycle through (default 1, 2, 3, 50). */
  codes?: number[];
  /** Readings without and with the fault in each cycle step (default 3 and 3). */
  okReadings?: number;
  faultReadings?: number;
}

/** Fault: healthy readings alternate with runs of sensor fault codes, with the values they imply. */
export function fault(o: FaultOptions = {}): Scenario {
  const codes = o.codes?.length ? o.codes : [1, 2, 3, 50];
  const ok = o.okReadings ?? 3;
  const bad = Math.max(1, o.faultReadings ?? 3);
  return {
    name: 'fault',
    shape(r, ctx) {
      const block = ctx.n % (ok + bad);
      if (block < ok) return r;
      const err = codes[Math.floor(ctx.n / (ok + bad)) % codes.length];
      if (err === 1) return { ...r, err, v_raw: 0 }; // sensor read failure
      if (err === 2) return { ...r, err, v_raw: -5000 }; // sensor data abnormal
      if (err === 3) return { ...r, err, temp: -60 }; // temperature sensor fault
      return { ...r, err };
    },
  };
}

export interface LowbatOptions {
  startBat?: number;
  drainPerReading?: number;
  floorBat?: number;
}

/** Low battery: the battery drains a point per reading from 25 % and reports DEV-4 codes 10, then 11. */
export function lowbat(o: LowbatOptions = {}): Scenario {
  return {
    name: 'lowbat',
    shape(r, ctx) {
      const bat = Math.max(o.floorBat ?? 3, (o.startBat ?? 25) - ctx.n * (o.drainPerReading ?? 1));
      return { ...r, bat, err: r.err !== 0 && r.err !== 10 && r.err !== 11 ? r.err : batteryError(bat) };
    },
  };
}

export interface FlappingOptions {
  /** The threshold to flap around, ppm (default 5000). */
  threshold?: number;
  /** Swing either side, as a fraction of the threshold (default 0.05). */
  amplitude?: number;
  /** Readings on each side before crossing (default 1: every reading crosses). */
  halfPeriod?: number;
}

/** Flapping: the reading oscillates just above and just below a threshold. */
export function flapping(o: FlappingOptions = {}): Scenario {
  const threshold = o.threshold ?? 5000;
  const amplitude = o.amplitude ?? 0.05;
  const half = Math.max(1, o.halfPeriod ?? 1);
  return {
    name: 'flapping',
    shape(r, ctx) {
      const side = Math.floor(ctx.n / half) % 2 === 0 ? 1 : -1;
      return withPpm(r, threshold * (1 + side * amplitude * (1 + 0.1 * ctx.rng())), ctx);
    },
  };
}

/** Clock skew: the device's clock is off by `minutes` (ING-5 flags more than 5). */
export function skew(o: { minutes?: number } = {}): Scenario {
  return { name: 'skew', clockOffsetMs: (o.minutes ?? 10) * 60_000 };
}

export interface OfflineOptions {
  /** Seconds online before the connection drops (default 30), seconds away (default 60). */
  afterS?: number;
  offlineS?: number;
}

/** Offline: the link drops without DISCONNECT (the broker fires the will), readings are buffered,
 *  and on return they are resent in a burst with their original ts and seq. */
export function offline(o: OfflineOptions = {}): Scenario {
  return {
    name: 'offline',
    attach(d) {
      let back: ReturnType<typeof d.clock.setTimeout> | undefined;
      const away = d.clock.setTimeout(() => {
        d.log(`offline: dropping the connection for ${o.offlineS ?? 60} s`);
        d.goOffline();
        back = d.clock.setTimeout(() => {
          d.log('offline: coming back');
          d.goOnline();
        }, (o.offlineS ?? 60) * 1000);
      }, (o.afterS ?? 30) * 1000);
      return () => {
        d.clock.clearTimeout(away);
        d.clock.clearTimeout(back);
      };
    },
  };
}

export const MALFORMED_KINDS = ['invalid-json', 'empty', 'missing-fields', 'string-numbers', 'out-of-range', 'oversize'] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** A payload that ING-1 must drop, built from a good reading. */
export function malformedPayload(kind: MalformedKind, r: UpPayload): string {
  switch (kind) {
    case 'invalid-json':
      return JSON.stringify(r).slice(0, -9);
    case 'empty':
      return '';
    case 'missing-fields': {
      const { v_raw: _v, temp: _t, bat: _b, ...rest } = r;
      return JSON.stringify(rest);
    }
    case 'string-numbers':
      return JSON.stringify({ ...r, seq: String(r.seq), v_raw: String(r.v_raw), temp: String(r.temp) });
    case 'out-of-range':
      return JSON.stringify({ ...r, seq: 70_000, bat: 150, temp: 999 });
    case 'oversize':
      return JSON.stringify({ ...r, pad: 'x'.repeat(MAX_UP_PAYLOAD_BYTES) });
  }
}

/** Malformed: every `every`-th reading (default all) is replaced by a bad payload, cycling the kinds. */
export function malformed(o: { every?: number } = {}): Scenario {
  const every = Math.max(1, o.every ?? 1);
  return {
    name: 'malformed',
    encode(r, ctx) {
      if (ctx.n % every !== 0) return JSON.stringify(r);
      return malformedPayload(MALFORMED_KINDS[Math.floor(ctx.n / every) % MALFORMED_KINDS.length], r);
    },
  };
}

/** Wrong credentials: connects with a bad password and reports the CONNACK refusal (DEV-5). */
export function wrongCredentials(o: { password?: string } = {}): Scenario {
  return {
    name: 'wrong-credentials',
    password: (good) => o.password ?? `wrong-${good}`,
    attach(d) {
      return d.on((e) => {
        if (e.type === 'refused') d.log(`wrong-credentials: refused as expected (return code ${e.code})`);
        if (e.type === 'connected') d.log('wrong-credentials: ACCEPTED with a wrong password');
      });
    },
  };
}

/** ACL: once connected, publishes a reading to another device's up topic (DEV-6 forbids it). */
export function acl(o: { otherSn?: string; times?: number } = {}): Scenario {
  const other = o.otherSn ?? 'SIM-OTHER';
  let left = o.times ?? 1;
  return {
    name: 'acl',
    attach(d) {
      return d.on((e) => {
        if (e.type !== 'connected' || left <= 0) return;
        left--;
        const ts = unixSeconds(d.clock.now());
        const body = JSON.stringify({ ts, seq: 0, v_raw: 400, temp: 25, bat: 90, rssi: -70, net: '4G', err: 0 });
        void d.publishRaw(upTopic(other), body, 1).then((outcome) => {
          d.log(
            outcome === 'failed'
              ? `acl: publish to ${upTopic(other)} refused (connection closed by the broker)`
              : `acl: publish to ${upTopic(other)} was ACKED (the broker accepted or silently dropped it)`,
          );
        });
      });
    },
  };
}

export const SCENARIO_NAMES = ['leak', 'fault', 'lowbat', 'flapping', 'offline', 'skew', 'malformed', 'wrong-credentials', 'acl'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioOptions {
  highLimit?: number;
  skewMin?: number;
  offlineS?: number;
  offlineAfterS?: number;
  leakStartS?: number;
  leakRampS?: number;
  leakHoldS?: number;
  faultCodes?: number[];
  malformedEvery?: number;
  badPassword?: string;
  otherSn?: string;
}

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

/** The CLI's way in: a scenario by name with the options that apply to it. */
export function createScenario(name: ScenarioName, o: ScenarioOptions = {}): Scenario {
  switch (name) {
    case 'leak':
      return leak({ highLimit: o.highLimit, startS: o.leakStartS, rampS: o.leakRampS, holdS: o.leakHoldS });
    case 'fault':
      return fault({ codes: o.faultCodes });
    case 'lowbat':
      return lowbat();
    case 'flapping':
      return flapping({ threshold: o.highLimit });
    case 'offline':
      return offline({ afterS: o.offlineAfterS, offlineS: o.offlineS });
    case 'skew':
      return skew({ minutes: o.skewMin });
    case 'malformed':
      return malformed({ every: o.malformedEvery });
    case 'wrong-credentials':
      return wrongCredentials({ password: o.badPassword });
    case 'acl':
      return acl({ otherSn: o.otherSn });
  }
}
