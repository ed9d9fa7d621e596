// ALM-16: the exposure job's decisions with a recording port (the flow test runs it through the
// writer): EXPOSURE_TWA over PC-TWA after a long exposure, reports only on change against the
// alarm picture, gases without limits never judged, a disabled detector's alarms cleared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExposureJob, type ExposureDevice } from '../../appliance/exposure/job.ts';
import type { Sample } from '../../appliance/exposure/exposure.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import type { DeviceConditionType } from '../../appliance/contract/alarm.ts';
import type { SystemCondition } from '../../appliance/core/system-conditions.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);

function harness(devices: ExposureDevice[], series: Record<string, (m: number) => number | null>) {
  const clock = manualClock(T0);
  const active = new Set<string>();
  const reports: { type: DeviceConditionType; sn: string; condition: SystemCondition }[] = [];
  const job = createExposureJob({
    devices: () => devices,
    minutes: (sn, from, to) => {
      const samples: Sample[] = [];
      for (let ts = Math.ceil((from - T0) / MIN) * MIN + T0; ts < to; ts += MIN) {
        const value = series[sn]?.((ts - T0) / MIN);
        if (value !== null && value !== undefined) samples.push({ ts, value });
      }
      return samples;
    },
    report: (type, sn, condition) => {
      reports.push({ type, sn, condition });
      // the picture follows the committed result
      if (condition.holds) active.add(`${type}:${sn}`);
      else active.delete(`${type}:${sn}`);
    },
    isActive: (type, sn) => active.has(`${type}:${sn}`),
    deadbandPct: () => 5,
    clock,
    maxHoldMs: 90_000,
  });
  return { clock, job, reports, active };
}

test('EXPOSURE_TWA once the 8-hour average passes PC-TWA, reported once; NH3 in mg/m³ judged as given', async () => {
  // NH3 at 21 mg/m³ from 08:00: the TWA at time t (minutes) is 21 × t / 480 — over PC-TWA 20 when t > 457.14.
  const devices = [{ sn: 'NH3-1', gas: 'NH3', unit: 'mg/m3', enabled: true }, { sn: 'H2S-1', gas: 'H2S', unit: 'ppm', enabled: true }];
  const { clock, job, reports } = harness(devices, { 'NH3-1': (m) => (m >= 0 ? 21 : null), 'H2S-1': () => 50 });
  clock.set(T0 + 457 * MIN); // 21 × 457 / 480 = 19.99 mg/m³
  assert.deepEqual(await job.run(), { watched: 1, raised: [], cleared: [] }, 'H2S (MAC only) is not watched');
  clock.set(T0 + 458 * MIN); // 21 × 458 / 480 = 20.0375 mg/m³ > 20
  assert.deepEqual(await job.run(), { watched: 1, raised: ['EXPOSURE_TWA:NH3-1'], cleared: [] });
  assert.equal(reports.length, 1);
  assert.equal(reports[0].condition.value, 20.04);
  assert.match(reports[0].condition.detail!, /8-hour time-weighted average 20\.04 mg\/m³ is above PC-TWA 20 mg\/m³ .* 8小时时间加权平均浓度/);
  clock.set(T0 + 459 * MIN);
  assert.deepEqual(await job.run(), { watched: 1, raised: [], cleared: [] }, 'still over: nothing reported again');
  assert.equal(reports.length, 1);
  // The STEL (21 mg/m³ < PC-STEL 30) never raised.
  assert.ok(reports.every((r) => r.type === 'EXPOSURE_TWA'));
});

test("a disabled detector's exposure alarm is cleared; an enabled one with no readings decays to zero", async () => {
  const devices: ExposureDevice[] = [{ sn: 'CO-1', gas: 'CO', unit: 'ppm', enabled: true }];
  const { clock, job, reports, active } = harness(devices, { 'CO-1': (m) => (m >= 0 && m < 15 ? 40 : null) });
  clock.set(T0 + 15 * MIN); // 40 ppm = 46.6 mg/m³ over 15 minutes > PC-STEL 30
  assert.deepEqual((await job.run()).raised, ['EXPOSURE_STEL:CO-1']);
  // Silent from 08:15: the 08:14 value holds 90 s + 60 s, then counts as unmeasured. At 08:25 the window
  // [08:10, 08:25) holds 08:10–08:14 (4 min) + the 08:14 value for 2.5 min = 6.5 min × 40 = 260 ppm·min / 15
  // = 17.33 ppm = 20.2 mg/m³ < 28.5.
  clock.set(T0 + 25 * MIN);
  const figures = job.figuresOf(devices[0]);
  assert.equal(figures.stel.average, 260 / 15);
  assert.equal(figures.stel.coverage, 6.5 / 15);
  assert.deepEqual((await job.run()).cleared, ['EXPOSURE_STEL:CO-1']);
  clock.set(T0 + 15 * MIN);
  assert.deepEqual((await job.run()).raised, ['EXPOSURE_STEL:CO-1']);
  devices[0] = { ...devices[0], enabled: false };
  assert.deepEqual(await job.run(), { watched: 0, raised: [], cleared: ['EXPOSURE_STEL:CO-1'] });
  assert.equal(active.size, 0);
  assert.match(reports.at(-1)!.condition.detail!, /no longer watched/);
});

test('a detector without exposure limits reads no minutes (1,000 methane detectors held the main thread ~0.9 s a minute)', async () => {
  const read: string[] = [];
  const devices = [{ sn: 'CH4-1', gas: 'CH4', unit: '%LEL', enabled: true }, { sn: 'NH3-1', gas: 'NH3', unit: 'mg/m3', enabled: true }];
  const job = createExposureJob({
    devices: () => devices,
    minutes: (sn) => (read.push(sn), []),
    report: () => {},
    isActive: () => false,
    deadbandPct: () => 5,
    clock: manualClock(T0),
    maxHoldMs: 90_000,
  });
  assert.deepEqual(await job.run(), { watched: 1, raised: [], cleared: [] });
  assert.deepEqual(read, ['NH3-1'], 'only the watched detector was read');
});
