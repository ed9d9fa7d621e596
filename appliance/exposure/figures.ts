// ALM-16: one detector's exposure figures — the two window averages in its unit and in mg/m³,
// its GBZ 2.1-2019 limits and whether each average is over its limit — as the job judges them
// and the API (GET /api/devices/:sn/exposure) shows them. Pure: the samples come from the caller.
import { convert } from '../contract/gas.ts';
import {
  exposureAverages, exposureLimitsOf, overLimit, STEL_WINDOW_MS, toMgM3, TWA_WINDOW_MS, watchesExposure,
  type ExposureLimits, type Sample, type WindowAverage,
} from './exposure.ts';

export interface WindowFigures {
  from: number;
  to: number;
  window_ms: number;
  /** the average in the detector's unit; null when the unit does not convert (not watched) */
  average: number | null;
  average_mg_m3: number | null;
  /** the GBZ 2.1-2019 limit in mg/m³ and in the detector's unit; null where the standard gives none */
  limit_mg_m3: number | null;
  limit: number | null;
  coverage: number;
  /** whether the alarm condition holds now (strictly above, or within the deadband of an active alarm) */
  over: boolean;
}

export interface ExposureFigures {
  sn: string;
  gas: string;
  unit: string;
  /** a toxic gas with a PC-STEL or PC-TWA in a unit convertible to mg/m³ */
  watched: boolean;
  limits: ExposureLimits;
  stel: WindowFigures;
  twa: WindowFigures;
  /** whether the committed alarm picture holds EXPOSURE_STEL / EXPOSURE_TWA active */
  stel_alarm: boolean;
  twa_alarm: boolean;
  max_hold_ms: number;
}

const NO_LIMITS: ExposureLimits = { pc_twa: null, pc_stel: null, mac: null };

function windowFigures(
  average: WindowAverage, windowMs: number, limitMg: number | null, device: { gas: string; unit: string },
  watched: boolean, active: boolean, deadbandPct: number,
): WindowFigures {
  const mg = watched ? toMgM3(average.average, device.unit, device.gas) : null;
  const limit = limitMg === null || !watched ? null : convert(limitMg, 'mg/m3', device.unit, device.gas);
  return {
    from: average.from,
    to: average.to,
    window_ms: windowMs,
    average: watched ? average.average : null,
    average_mg_m3: mg,
    limit_mg_m3: watched ? limitMg : null,
    limit,
    coverage: average.coverage,
    over: mg !== null && limitMg !== null && overLimit(mg, limitMg, active, deadbandPct),
  };
}

export function exposureFigures(
  device: { sn: string; gas: string; unit: string }, samples: readonly Sample[], now: number, maxHoldMs: number,
  active: { stel: boolean; twa: boolean }, deadbandPct: number,
): ExposureFigures {
  const watched = watchesExposure(device);
  const limits = exposureLimitsOf(device.gas) ?? NO_LIMITS;
  const averages = exposureAverages(watched ? samples : [], now, maxHoldMs);
  return {
    sn: device.sn,
    gas: device.gas,
    unit: device.unit,
    watched,
    limits,
    stel: windowFigures(averages.stel, STEL_WINDOW_MS, limits.pc_stel, device, watched, active.stel, deadbandPct),
    twa: windowFigures(averages.twa, TWA_WINDOW_MS, limits.pc_twa, device, watched, active.twa, deadbandPct),
    stel_alarm: active.stel,
    twa_alarm: active.twa,
    max_hold_ms: maxHoldMs,
  };
}
