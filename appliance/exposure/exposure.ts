// ALM-16 (issue 15.3): exposure to a toxic gas over a time window — pure arithmetic, no I/O.
//
// What the standards ask, in our own words:
// - GBZ 2.1-2019 sets, per substance, PC-TWA (the permissible concentration averaged over an 8-hour
//   working day, weighted by time), PC-STEL (the permissible average over any 15 minutes, on top
//   of keeping to PC-TWA) and MAC (a ceiling never to be exceeded), all in mg/m³.
// - GBZ 159 (workplace air sampling) computes them as Σ(Cᵢ·Tᵢ) / 8 h and Σ(Cᵢ·Tᵢ) / 15 min: each
//   measured concentration weighted by the time it applied, divided by the *whole* window even when
//   less than the window was measured (an exposure shorter than 15 minutes still divides by 15).
//
// How a fixed detector's series becomes those figures (the choices, and why):
// - Rolling windows ending now: the 15-minute average over [now − 15 min, now) and the 8-hour
//   average over [now − 8 h, now). The appliance knows no shift times, so the TWA is the last
//   8 hours, the harshest reading of "an 8-hour day" and one that never resets at midnight.
// - Unequal sampling: each sample holds from its time until the next sample (zero-order hold), so
//   a value reported every 5 s and one reported every 60 s both count for the time they stood for;
//   a partial window edge counts only its part (time-weighted, GBZ 159's Cᵢ·Tᵢ).
// - Gaps: a sample holds at most `maxHoldMs` — as long as its detector still counts as online
//   (ingest.offline_timeout_s; the job adds one minute for bucket starts, see job.ts). Time beyond
//   that is *not measured*: it adds nothing to Σ(C·T) but stays in the denominator, exactly
//   GBZ 159's fixed 8 h / 15 min. A detector that goes silent therefore sees its averages decay
//   rather than freeze at a stale high value; its silence is the OFFLINE alarm's business, and
//   `coverage` (the measured share of the window) says how much of a figure rests on data.
// - MAC (the ceiling) is not judged here: a ceiling is an instantaneous limit, and the level-1
//   setpoint of a toxic-gas detector is already bounded by it (GB/T 50493-2019, contract/gas.ts
//   `referenceOel`), so the reading's own HIGH alarm is the MAC alarm.
import { convert, gasInfo, type OelValues } from '../contract/gas.ts';

/** One concentration at one time: a reading, or a 1-minute roll-up's average at its bucket start. */
export interface Sample {
  /** UTC ms */
  ts: number;
  /** in the detector's unit */
  value: number;
}

export interface WindowAverage {
  /** the window, UTC ms: [from, to) */
  from: number;
  to: number;
  /** Σ(value · held time) / (to − from), in the samples' unit */
  average: number;
  /** how much of the window the samples covered (ms) and as a share 0…1 */
  coveredMs: number;
  coverage: number;
}

export const STEL_WINDOW_MS = 15 * 60_000;
export const TWA_WINDOW_MS = 8 * 3_600_000;

/**
 * The time-weighted average over [from, to) of `samples` (sorted by ts, ascending): each sample
 * holds until the next one or `maxHoldMs` after it, whichever is first; unmeasured time counts as
 * zero in the fixed denominator (GBZ 159). Samples before `from` count with the part of their hold
 * that reaches into the window; samples at or after `to` do not count.
 */
export function timeWeightedAverage(samples: readonly Sample[], from: number, to: number, maxHoldMs: number): WindowAverage {
  if (!(to > from)) throw new RangeError(`empty window [${from}, ${to})`);
  if (!(maxHoldMs > 0)) throw new RangeError(`maxHoldMs must be positive, got ${maxHoldMs}`);
  let integral = 0;
  let coveredMs = 0;
  for (let i = 0; i < samples.length; i++) {
    const { ts, value } = samples[i];
    if (ts >= to) break;
    const next = i + 1 < samples.length ? samples[i + 1].ts : Infinity;
    if (next < ts) throw new RangeError(`samples out of order at ${ts} → ${next}`);
    const start = Math.max(ts, from);
    const end = Math.min(next, ts + maxHoldMs, to);
    if (end <= start) continue;
    integral += value * (end - start);
    coveredMs += end - start;
  }
  const windowMs = to - from;
  return { from, to, average: integral / windowMs, coveredMs, coverage: coveredMs / windowMs };
}

export interface ExposureAverages {
  /** rolling 15 minutes, [now − 15 min, now) */
  stel: WindowAverage;
  /** rolling 8 hours, [now − 8 h, now) */
  twa: WindowAverage;
}

/** Both windows ending at `now`; `samples` should reach back to now − 8 h − maxHoldMs. */
export function exposureAverages(samples: readonly Sample[], now: number, maxHoldMs: number): ExposureAverages {
  return {
    stel: timeWeightedAverage(samples, now - STEL_WINDOW_MS, now, maxHoldMs),
    twa: timeWeightedAverage(samples, now - TWA_WINDOW_MS, now, maxHoldMs),
  };
}

// ---- limits --------------------------------------------------------------------------------------

export interface ExposureLimits {
  /** GBZ 2.1-2019, mg/m³; null where the standard gives none for this gas */
  pc_twa: number | null;
  pc_stel: number | null;
  mac: number | null;
}

/** The gas's OELs, or null when it is not a toxic gas of the catalogue with a limit to average against. */
export function exposureLimitsOf(gasId: string): ExposureLimits | null {
  const gas = gasInfo(gasId);
  const oel: OelValues | undefined = gas.oel;
  if (gas.kind !== 'toxic' || !oel) return null;
  return { pc_twa: oel.pc_twa ?? null, pc_stel: oel.pc_stel ?? null, mac: oel.mac ?? null };
}

/** A concentration of `gasId` in `unit` as mg/m³ at 20 °C, 101.3 kPa (contract/gas.ts), or null if it does not convert. */
export const toMgM3 = (value: number, unit: string, gasId: string): number | null => convert(value, unit, 'mg/m3', gasId);

/**
 * Whether the job watches this detector: a toxic gas with a PC-STEL or a PC-TWA, in a unit that
 * converts to mg/m³. Gases with only a MAC (H2S, Cl2) have nothing to average against.
 */
export function watchesExposure(device: { gas: string; unit: string }): boolean {
  const limits = exposureLimitsOf(device.gas);
  if (!limits || (limits.pc_stel === null && limits.pc_twa === null)) return false;
  return toMgM3(1, device.unit, device.gas) !== null;
}

/**
 * Whether an average is over its limit, both in mg/m³. Raised when strictly above (the limit is
 * the permissible concentration itself, as HIGH is raised above its setpoint); once raised it holds
 * until the average falls below the limit less `deadbandPct` % of it, so a value wavering at the
 * limit does not raise and clear every minute (ALM-2, the same deadband as HIGH).
 */
export function overLimit(averageMgM3: number, limitMgM3: number, active: boolean, deadbandPct: number): boolean {
  return active ? averageMgM3 >= limitMgM3 - (limitMgM3 * deadbandPct) / 100 : averageMgM3 > limitMgM3;
}
