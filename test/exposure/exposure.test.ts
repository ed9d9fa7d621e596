// ALM-16 (issue 15.3): the exposure arithmetic against series computed by hand. Every expected
// figure below is written out as the sum GBZ 159 prescribes: Σ(Cᵢ·Tᵢ) over the fixed window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  exposureAverages, exposureLimitsOf, overLimit, STEL_WINDOW_MS, timeWeightedAverage, toMgM3, TWA_WINDOW_MS, watchesExposure, type Sample,
} from '../../appliance/exposure/exposure.ts';
import { exposureFigures } from '../../appliance/exposure/figures.ts';
import { MOLAR_VOLUME_L } from '../../appliance/contract/gas.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const at = (minutes: number, value: number): Sample => ({ ts: T0 + minutes * MIN, value });
const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

// Unequal sampling: readings at 4, 6, 10, 12 and 16 minutes; the STEL window at 20 min is [5, 20).
const UNEVEN = [at(4, 10), at(6, 40), at(10, 20), at(12, 30), at(16, 60)];

test('the 15-minute average weights each sample by the time until the next one (zero-order hold, GBZ 159 Σ C·T / 15)', () => {
  const result = timeWeightedAverage(UNEVEN, T0 + 5 * MIN, T0 + 20 * MIN, 10 * MIN);
  // 10 ppm over [5, 6)   = 1 min × 10 =  10   (the part of the 4-minute sample inside the window)
  // 40 ppm over [6, 10)  = 4 min × 40 = 160
  // 20 ppm over [10, 12) = 2 min × 20 =  40
  // 30 ppm over [12, 16) = 4 min × 30 = 120
  // 60 ppm over [16, 20) = 4 min × 60 = 240   (the last sample holds until now, within the 10-minute hold)
  // Σ = 570 ppm·min; / 15 min = 38 ppm; all 15 minutes measured.
  close(result.average, 570 / 15, 'STEL');
  assert.equal(result.average, 38);
  assert.equal(result.coveredMs, 15 * MIN);
  assert.equal(result.coverage, 1);
});

test('a gap longer than the hold counts as unmeasured: zero in the sum, kept in the fixed 15-minute denominator', () => {
  const result = timeWeightedAverage(UNEVEN, T0 + 5 * MIN, T0 + 20 * MIN, 2 * MIN);
  // Each sample now holds at most 2 minutes:
  // 10 over [5, 6) = 10;  40 over [6, 8) = 80;  20 over [10, 12) = 40;  30 over [12, 14) = 60;  60 over [16, 18) = 120
  // Σ = 310 ppm·min over 1 + 2 + 2 + 2 + 2 = 9 measured minutes; / 15 = 20.666… ppm, coverage 9/15 = 0.6.
  close(result.average, 310 / 15, 'STEL with gaps');
  assert.equal(result.coveredMs, 9 * MIN);
  close(result.coverage, 0.6, 'coverage');
});

test('samples at or after the window end do not count; one before the start counts only where its hold reaches in', () => {
  const samples = [at(-10, 100), at(0, 5), at(15, 1000)];
  const result = timeWeightedAverage(samples, T0, T0 + 15 * MIN, 30 * MIN);
  // 100 over [-10, 0) lies before the window; 5 over [0, 15) = 75; the sample at 15 is the window's end.
  assert.equal(result.average, 75 / 15);
  const reaching = timeWeightedAverage([at(-1, 100)], T0, T0 + 15 * MIN, 3 * MIN);
  // 100 over [-1, 2) ∩ [0, 15) = 2 min × 100 = 200; / 15.
  close(reaching.average, 200 / 15, 'hold reaching into the window');
  assert.throws(() => timeWeightedAverage([at(2, 1), at(1, 1)], T0, T0 + 15 * MIN, MIN), /out of order/);
  assert.throws(() => timeWeightedAverage([], T0, T0, MIN), /empty window/);
});

test('the 8-hour TWA of per-minute averages: Σ C·T / 480 min, a 30-minute outage counting as zero', () => {
  // 8:00–12:00 at 10 ppm (240 min), 12:00–14:00 at 40 ppm (120 min), 14:00–14:30 nothing, 14:30–16:00 at 20 ppm (90 min).
  const samples: Sample[] = [];
  for (let m = 0; m < 480; m++) {
    if (m < 240) samples.push(at(m, 10));
    else if (m < 360) samples.push(at(m, 40));
    else if (m >= 390) samples.push(at(m, 20));
  }
  const now = T0 + 480 * MIN;
  // A minute bucket holds one minute (the next one starts) or, at the outage, at most `maxHold`:
  // with a 1-minute hold: (240 × 10 + 120 × 40 + 90 × 20) / 480 = (2400 + 4800 + 1800) / 480 = 18.75 ppm, 450/480 measured.
  const strict = exposureAverages(samples, now, MIN);
  assert.equal(strict.twa.average, 18.75);
  close(strict.twa.coverage, 450 / 480, 'TWA coverage');
  // with a 5-minute hold the 13:59 value (40 ppm) stands 5 minutes into the outage: + 4 × 40 = 160 → 9160 / 480.
  const held = exposureAverages(samples, now, 5 * MIN);
  close(held.twa.average, 9160 / 480, 'TWA with hold');
  // The STEL at 16:00 is the last 15 minutes, all at 20 ppm.
  assert.equal(strict.stel.average, 20);
  assert.equal(strict.stel.to - strict.stel.from, STEL_WINDOW_MS);
  assert.equal(strict.twa.to - strict.twa.from, TWA_WINDOW_MS);
});

test('ppm converts to mg/m³ at 20 °C and 101.3 kPa, and the limits are the GBZ 2.1-2019 values of the catalogue', () => {
  // CO, M = 28.01 g/mol: 18.75 ppm × 28.01 / 24.061 L/mol = 21.827 mg/m³ — over PC-TWA 20 mg/m³.
  close(MOLAR_VOLUME_L, (8.314462618 * 293.15) / 101.3, 'molar volume');
  close(toMgM3(18.75, 'ppm', 'CO')!, (18.75 * 28.01) / MOLAR_VOLUME_L, 'CO mg/m³');
  assert.ok(Math.abs(toMgM3(18.75, 'ppm', 'CO')! - 21.827) < 0.001);
  assert.equal(toMgM3(12, 'mg/m3', 'CO'), 12);
  assert.deepEqual(exposureLimitsOf('CO'), { pc_twa: 20, pc_stel: 30, mac: null });
  assert.deepEqual(exposureLimitsOf('H2S'), { pc_twa: null, pc_stel: null, mac: 10 });
  assert.equal(exposureLimitsOf('CH4'), null);
  assert.equal(watchesExposure({ gas: 'CO', unit: 'ppm' }), true);
  assert.equal(watchesExposure({ gas: 'NH3', unit: 'mg/m3' }), true);
  assert.equal(watchesExposure({ gas: 'H2S', unit: 'ppm' }), false, 'MAC only: the HIGH setpoint is its ceiling');
  assert.equal(watchesExposure({ gas: 'CH4', unit: '%LEL' }), false);
  assert.equal(watchesExposure({ gas: 'custom', unit: 'ppm' }), false);
});

test('over the limit is strictly above it; a raised alarm holds until below the limit less the deadband', () => {
  // PC-STEL 30 mg/m³, deadband 5 % → a raised alarm clears below 30 − 1.5 = 28.5 mg/m³.
  assert.equal(overLimit(30, 30, false, 5), false);
  assert.equal(overLimit(30.01, 30, false, 5), true);
  assert.equal(overLimit(28.6, 30, true, 5), true);
  assert.equal(overLimit(28.5, 30, true, 5), true);
  assert.equal(overLimit(28.49, 30, true, 5), false);
});

test("a detector's figures: the averages in its unit and in mg/m³ against PC-STEL and PC-TWA", () => {
  // 15 minutes at 26 ppm CO: STEL 26 ppm = 26 × 28.01 / 24.061 = 30.267 mg/m³ > PC-STEL 30 → over.
  const samples = Array.from({ length: 15 }, (_, m) => at(m, 26));
  const figures = exposureFigures({ sn: 'CO-1', gas: 'CO', unit: 'ppm' }, samples, T0 + 15 * MIN, 150_000, { stel: false, twa: false }, 5);
  assert.equal(figures.watched, true);
  assert.equal(figures.stel.average, 26);
  assert.ok(Math.abs(figures.stel.average_mg_m3! - 30.267) < 0.001);
  assert.equal(figures.stel.limit_mg_m3, 30);
  close(figures.stel.limit!, (30 * MOLAR_VOLUME_L) / 28.01, 'PC-STEL in ppm'); // 25.77 ppm
  assert.equal(figures.stel.over, true);
  // TWA: 15 × 26 = 390 ppm·min / 480 = 0.8125 ppm, far below PC-TWA.
  assert.equal(figures.twa.average, 390 / 480);
  assert.equal(figures.twa.over, false);
  // H2S has no PC-STEL / PC-TWA: shown, never judged.
  const h2s = exposureFigures({ sn: 'H2S-1', gas: 'H2S', unit: 'ppm' }, samples, T0 + 15 * MIN, 150_000, { stel: false, twa: false }, 5);
  assert.deepEqual([h2s.watched, h2s.stel.average, h2s.stel.over, h2s.limits.mac], [false, null, false, 10]);
});
