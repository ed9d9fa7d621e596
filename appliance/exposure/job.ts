// ALM-16 (issue 15.3): the exposure job. Every minute, for each detector of a toxic gas with a
// PC-STEL or PC-TWA (GBZ 2.1-2019), the rolling 15-minute and 8-hour averages from the stored
// per-minute averages (readings_1m sum/count, plus the raw rows not yet rolled up), compared in
// mg/m³ with the limits; over PC-STEL is EXPOSURE_STEL, over PC-TWA is EXPOSURE_TWA, reported
// through the device-condition port (core/system-conditions.ts) and committed by the writer with
// its next batch like every other alarm change (ALM-8). MAC, the ceiling, is the reading's own
// HIGH alarm (the level-1 setpoint is bounded by it) and is not judged here.
//
// It runs on the main thread: one indexed range read of at most ~490 minute rows per watched
// detector, no write. A condition is reported only when it changes against the committed alarm
// picture (`isActive`), so a steady state sends nothing to the writer; after a restart the picture
// loaded from SQLite tells what is already raised.
import type { Clock } from '../core/clock.ts';
import type { ReportDeviceCondition } from '../core/system-conditions.ts';
import type { DeviceConditionType } from '../contract/alarm.ts';
import { exposureFigures, type ExposureFigures, type WindowFigures } from './figures.ts';
import { TWA_WINDOW_MS, watchesExposure, type Sample } from './exposure.ts';

export interface ExposureDevice {
  sn: string;
  gas: string;
  unit: string;
  enabled?: boolean | number;
}

export interface ExposureJobDeps {
  /** the registered detectors (the device cache) */
  devices: () => Iterable<ExposureDevice>;
  /** one detector's per-minute averages in [from, to), bucket start as ts, in its unit */
  minutes: (sn: string, from: number, to: number) => Sample[];
  report: ReportDeviceCondition;
  /** whether the committed alarm picture holds this condition active */
  isActive: (type: DeviceConditionType, sn: string) => boolean;
  /** ALM-2 deadband (alarm settings deadband_pct) */
  deadbandPct: () => number;
  clock: Clock;
  /** how long a value holds without a newer one: the offline timeout (exposure.ts) */
  maxHoldMs: number;
}

export interface ExposureRunResult {
  watched: number;
  raised: string[];
  cleared: string[];
}

/** One minute bucket's value starts at the bucket start, up to a minute before the reading: it may hold one minute longer. */
export const BUCKET_MS = 60_000;
/** Watched detectors read between two turns of the event loop. */
const YIELD_EVERY = 25;
const EXPOSURE_TYPES = ['EXPOSURE_STEL', 'EXPOSURE_TWA'] as const satisfies readonly DeviceConditionType[];

export function createExposureJob(deps: ExposureJobDeps) {
  const holdMs = deps.maxHoldMs + BUCKET_MS;

  /** One detector's figures now, from its stored minutes (also what the API shows). */
  function figuresOf(device: ExposureDevice, now = deps.clock.now()): ExposureFigures {
    // A detector without exposure limits (methane, oxygen…) reads nothing: with 1,000 of them the
    // 8-hour reads held the main thread ~0.9 s every minute (BENCHMARKS.md, the drain bench).
    const samples = watchesExposure(device) ? deps.minutes(device.sn, now - TWA_WINDOW_MS - holdMs, now) : [];
    return exposureFigures(device, samples, now, holdMs, {
      stel: deps.isActive('EXPOSURE_STEL', device.sn),
      twa: deps.isActive('EXPOSURE_TWA', device.sn),
    }, deps.deadbandPct());
  }

  function judge(type: DeviceConditionType, sn: string, window: WindowFigures, active: boolean, result: ExposureRunResult) {
    if (window.over === active || window.limit_mg_m3 === null) return;
    const name = type === 'EXPOSURE_STEL' ? { en: '15-minute average', zh: '15分钟时间加权平均浓度', limit: 'PC-STEL' } : { en: '8-hour time-weighted average', zh: '8小时时间加权平均浓度', limit: 'PC-TWA' };
    const figure = `${round(window.average_mg_m3!)} mg/m³`;
    const limit = `${name.limit} ${window.limit_mg_m3} mg/m³`;
    const detail = window.over
      ? `${name.en} ${figure} is above ${limit} (GBZ 2.1-2019) / ${name.zh} ${figure} 超过 ${limit}（GBZ 2.1-2019）`
      : `${name.en} ${figure} is back within ${limit} / ${name.zh} ${figure} 已回到 ${limit} 以内`;
    deps.report(type, sn, { holds: window.over, detail, value: window.average === null ? null : round(window.average) });
    (window.over ? result.raised : result.cleared).push(`${type}:${sn}`);
  }

  return {
    figuresOf,
    /** The scheduled run: every watched detector judged once. Never throws for one detector's sake. */
    async run(): Promise<ExposureRunResult> {
      const now = deps.clock.now();
      const result: ExposureRunResult = { watched: 0, raised: [], cleared: [] };
      let read = 0;
      for (const device of deps.devices()) {
        // The broker's PUBACKs are served between detectors' reads, not after a whole fleet's.
        if (watchesExposure(device) && ++read % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
        const disabled = device.enabled === false || device.enabled === 0;
        const figures = disabled ? null : figuresOf(device, now);
        if (!figures?.watched) {
          // A detector disabled, or changed to a gas or unit without these limits, keeps no exposure alarm.
          for (const type of EXPOSURE_TYPES) {
            if (!deps.isActive(type, device.sn)) continue;
            deps.report(type, device.sn, { holds: false, detail: 'exposure no longer watched for this detector / 该探测器不再计算接触浓度' });
            result.cleared.push(`${type}:${device.sn}`);
          }
          continue;
        }
        result.watched++;
        judge('EXPOSURE_STEL', device.sn, figures.stel, figures.stel_alarm, result);
        judge('EXPOSURE_TWA', device.sn, figures.twa, figures.twa_alarm, result);
      }
      return result;
    },
  };
}
export type ExposureJob = ReturnType<typeof createExposureJob>;

const round = (value: number) => Math.round(value * 100) / 100;
